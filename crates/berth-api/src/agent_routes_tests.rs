//! The usage route: an agent's report reaches the control plane's sink.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use berth_agent_protocol::{StateReport, TaskReport};
use berth_control::container_instances::RegisterInstance;
use berth_control::tasks::{LaunchRequest, Target};
use berth_control::usage::{RecordingUsageSink, AWS_ECS};
use berth_control::{ControlConfig, ControlPlane};
use berth_types::spec::{ContainerSpec, TaskSpec};
use berth_types::{Arn, ClusterName, Resources, TaskDefinitionFamily, TaskStatus};
use serde_json::json;
use std::sync::Arc;
use tower::ServiceExt;

fn post(path: &str, body: serde_json::Value) -> Request<Body> {
    Request::post(path).header("content-type", "application/json").body(Body::from(body.to_string())).unwrap()
}

#[tokio::test]
async fn an_agents_usage_report_reaches_the_sink() {
    let control = ControlPlane::open(ControlConfig::default(), Arc::new(berth_store::MemoryStore::default())).unwrap();
    let sink = Arc::new(RecordingUsageSink::default());
    control.set_usage_sink(sink.clone());
    let cluster = ClusterName::parse("prod").unwrap();
    control.create_cluster(cluster.clone(), vec![], Default::default()).await.unwrap();
    let web = ContainerSpec { cpu: 256, memory: Some(128), ..ContainerSpec::new("web", "berth-test/busybox:latest") };
    let spec = TaskSpec::new("web", 1, vec![web]);
    let family = TaskDefinitionFamily::parse("web").unwrap();
    control.register_task_definition(family, spec.clone(), json!({}), vec![]).await.unwrap();
    let instance = control
        .register_container_instance(RegisterInstance {
            cluster: cluster.clone(),
            ec2_instance_id: "i-usage".into(),
            previous_id: None,
            registered: Resources { cpu: 2048, memory: 4096, ..Default::default() },
            attributes: vec![],
            version_info: Default::default(),
            tags: vec![],
            capacity_provider: None,
        })
        .await
        .unwrap()
        .record
        .id;
    let task = control
        .launch_tasks(LaunchRequest {
            cluster: cluster.clone(),
            family: "web".into(),
            revision: 1,
            spec,
            overrides_document: json!({}),
            target: Target::Placement { count: 1 },
            started_by: None,
            group: Some("service:api".into()),
            tags: vec![],
            idempotency: None,
            placement: Default::default(),
            enable_execute_command: false,
        })
        .await
        .unwrap()
        .tasks
        .remove(0);
    let task_arn = Arn::Task(cluster, task.id).render(control.arn_context());
    let router = crate::router(Arc::clone(&control));
    let base = format!("/agent/v1/clusters/prod/instances/{instance}");

    let running = StateReport {
        tasks: vec![TaskReport {
            task_arn: task_arn.clone(),
            last_status: TaskStatus::Running,
            containers: vec![],
            pull_started_at: None,
            pull_stopped_at: None,
            started_at: None,
            execution_stopped_at: None,
            stop_code: None,
            stopped_reason: None,
        }],
    };
    let running = serde_json::to_value(running).unwrap();
    let response = router.clone().oneshot(post(&format!("{base}/report"), running)).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    let usage = json!({"samples": [{
        "task_arn": task_arn, "container_name": "web", "timestamp_ms": 1_700_000_000_000i64,
        "interval_ms": 5000, "cpu_units_used": 128.0, "memory_bytes": 64u64 << 20,
        "network_rx_bytes": 0, "network_tx_bytes": 0,
        "network_rx_bytes_per_second": 0.0, "network_tx_bytes_per_second": 0.0
    }]});
    let response = router.clone().oneshot(post(&format!("{base}/usage"), usage.clone())).await.unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let cpu = sink.of(AWS_ECS, "CPUUtilization");
    let service = cpu.iter().find(|datum| datum.dimension("ServiceName") == Some("api")).unwrap();
    assert_eq!((service.average(), service.timestamp_ms), (50.0, 1_700_000_000_000));
    let memory = sink.of(AWS_ECS, "MemoryUtilization");
    assert!(memory.iter().any(|datum| datum.dimension("ServiceName") == Some("api") && datum.average() == 50.0));

    let stranger = "/agent/v1/clusters/prod/instances/0123456789abcdef0123456789abcdef/usage";
    let response = router.clone().oneshot(post(stranger, usage)).await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}
