//! `record_usage` over a control plane: which samples count, the reservations read from the
//! task records, and the cluster setting that adds Container Insights.

use super::{RecordingUsageSink, AWS_ECS, CONTAINER_INSIGHTS};
use crate::agents::AgentRefusal;
use crate::testing::{cluster_with_instance, control_plane, name, run_web};
use crate::ControlPlane;
use berth_agent_protocol::usage::{ContainerUsage, UsageReport};
use berth_agent_protocol::{StateReport, TaskReport};
use berth_types::records::ContainerState;
use berth_types::{Arn, ContainerInstanceId, TaskId, TaskStatus};
use std::sync::Arc;

fn sample(task_arn: &str, cpu_units_used: f64, memory_mib: u64) -> ContainerUsage {
    ContainerUsage {
        task_arn: task_arn.to_string(),
        container_name: "web".into(),
        timestamp_ms: 1_700_000_000_000,
        interval_ms: 5000,
        cpu_units_used,
        memory_bytes: memory_mib << 20,
        network_rx_bytes: 1000,
        network_tx_bytes: 10,
        network_rx_bytes_per_second: 200.0,
        network_tx_bytes_per_second: 2.0,
    }
}

/// A cluster `prod` with one 1024-unit, 1024 MiB instance running `count` tasks of the `web`
/// definition (128 units, 64 MiB) in the group `service:api`; their ARNs.
async fn running_service_tasks(control: &ControlPlane, count: usize) -> (ContainerInstanceId, Vec<String>) {
    let instance = cluster_with_instance(control, "prod", 1024, 1024).await.record.id;
    let mut launch = run_web("prod", count, None);
    launch.group = Some("service:api".into());
    let tasks = control.launch_tasks(launch).await.unwrap().tasks;
    let arns: Vec<String> =
        tasks.iter().map(|task| Arn::Task(name("prod"), task.id.clone()).render(control.arn_context())).collect();
    let reports = arns
        .iter()
        .map(|arn| TaskReport {
            task_arn: arn.clone(),
            last_status: TaskStatus::Running,
            containers: vec![ContainerState::new("web", TaskStatus::Running)],
            pull_started_at: None,
            pull_stopped_at: None,
            started_at: Some(berth_types::Timestamp::now()),
            execution_stopped_at: None,
            stop_code: None,
            stopped_reason: None,
        })
        .collect();
    control.apply_report(&name("prod"), &instance, StateReport { tasks: reports }).await.unwrap().unwrap();
    (instance, arns)
}

#[tokio::test]
async fn a_report_becomes_service_and_cluster_datapoints() {
    let control = control_plane();
    let sink = Arc::new(RecordingUsageSink::default());
    control.set_usage_sink(sink.clone());
    let (instance, arns) = running_service_tasks(&control, 2).await;
    let report = UsageReport { samples: vec![sample(&arns[0], 64.0, 16), sample(&arns[1], 192.0, 48)] };
    control.record_usage(&name("prod"), &instance, report).unwrap();

    let service = sink.of(AWS_ECS, "CPUUtilization");
    let service: Vec<_> = service.iter().filter(|datum| datum.dimension("ServiceName") == Some("api")).collect();
    assert_eq!(service.len(), 1, "{service:?}");
    assert_eq!((service[0].sample_count, service[0].minimum, service[0].maximum), (2.0, 50.0, 150.0));
    assert_eq!(service[0].average(), 100.0);
    let memory = sink.of(AWS_ECS, "MemoryUtilization");
    let cluster_memory = memory.iter().find(|datum| datum.dimensions.len() == 1).unwrap();
    assert_eq!(cluster_memory.sum, 64.0 * 100.0 / 1024.0, "the instance's share of its registered memory");
    let reservation = sink.of(AWS_ECS, "CPUReservation");
    assert_eq!(reservation[0].sum, 2.0 * 128.0 * 100.0 / 1024.0);
    assert!(sink.datums().iter().all(|datum| datum.namespace == AWS_ECS), "containerInsights is off by default");
}

#[tokio::test]
async fn container_insights_follow_the_cluster_setting() {
    let control = control_plane();
    let sink = Arc::new(RecordingUsageSink::default());
    control.set_usage_sink(sink.clone());
    let (instance, arns) = running_service_tasks(&control, 1).await;
    let settings = [("containerInsights".to_string(), "enabled".to_string())].into();
    control.update_cluster_settings(&name("prod"), settings).await.unwrap();
    control.record_usage(&name("prod"), &instance, UsageReport { samples: vec![sample(&arns[0], 64.0, 16)] }).unwrap();

    let used = sink.of(CONTAINER_INSIGHTS, "CpuUtilized");
    assert_eq!(used.len(), 3, "per family, per service and for the cluster: {used:?}");
    assert!(used.iter().any(|datum| datum.dimension("TaskDefinitionFamily") == Some("web")));
    let running = sink.of(CONTAINER_INSIGHTS, "RunningTaskCount");
    assert_eq!((running.len(), running[0].sum), (1, 1.0));
    assert_eq!(sink.of(CONTAINER_INSIGHTS, "MemoryReserved")[0].sum, 64.0);
}

#[tokio::test]
async fn unknown_tasks_foreign_tasks_and_unknown_instances_count_for_nothing() {
    let control = control_plane();
    let sink = Arc::new(RecordingUsageSink::default());
    control.set_usage_sink(sink.clone());
    let (instance, arns) = running_service_tasks(&control, 1).await;
    let never_launched = TaskId::parse("00000000000000000000000000000000").unwrap();
    let unknown = Arn::Task(name("prod"), never_launched).render(control.arn_context());
    let stray = UsageReport {
        samples: vec![sample(&unknown, 64.0, 16), sample("not an arn", 1.0, 1), {
            let mut other_cluster = sample(&arns[0], 64.0, 16);
            other_cluster.task_arn = other_cluster.task_arn.replace("/prod/", "/other/");
            other_cluster
        }],
    };
    control.record_usage(&name("prod"), &instance, stray).unwrap();
    assert!(sink.datums().is_empty(), "{:?}", sink.datums());

    // The known task next to an unknown one is all that counts.
    let mixed = UsageReport { samples: vec![sample(&unknown, 1024.0, 16), sample(&arns[0], 64.0, 16)] };
    control.record_usage(&name("prod"), &instance, mixed).unwrap();
    let cpu = sink.of(AWS_ECS, "CPUUtilization");
    assert!(cpu.iter().all(|datum| datum.sample_count == 1.0 && datum.maximum <= 50.0), "{cpu:?}");

    let stranger = ContainerInstanceId::parse("0123456789abcdef0123456789abcdef").unwrap();
    let refused = control.record_usage(&name("prod"), &stranger, UsageReport::default());
    assert_eq!(refused, Err(AgentRefusal::Unknown));
}
