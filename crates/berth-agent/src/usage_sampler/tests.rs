//! The sampler over the fake runtime, on tokio's paused clock (so intervals are exact): what
//! each report holds, and that sampling stops with the container.

use super::{MemoryUsageSink, UsageSampler};
use crate::container_config::{create_request, Ownership};
use crate::fake::FakeRuntime;
use crate::metadata::MetadataRegistry;
use crate::runtime::{ContainerRuntime, ContainerStatsSample};
use crate::task::state::{ContainerPhase, TaskState};
use crate::test_support::{container, task_spec};
use berth_types::DesiredStatus;
use std::sync::Arc;
use std::time::Duration;

const ARN: &str = "arn:aws:ecs:us-east-1:000000000000:task/default/0123456789abcdef0123456789abcdef";

/// A task with running containers `app` and `sidecar`, known to a registry as the runner
/// would leave it; the task state, to move on later.
async fn running_task(runtime: &FakeRuntime, registry: &MetadataRegistry) -> TaskState {
    runtime.add_image("berth-test/busybox:latest");
    let spec = task_spec(vec![container("app"), container("sidecar")]);
    let owner = Ownership { cluster: "default".into(), instance: "i-0000000000000000a".into() };
    let mut state = TaskState::new(ARN, spec.clone(), DesiredStatus::Running);
    for (index, definition) in spec.containers.iter().enumerate() {
        let request = create_request(&owner, ARN, &spec, definition).unwrap();
        let id = runtime.create_container(&request).await.unwrap();
        runtime.start_container(&id).await.unwrap();
        state.containers[index].runtime_id = Some(id);
        state.containers[index].phase = ContainerPhase::Running;
    }
    registry.update_task(&state);
    state
}

fn docker_name(container: &str) -> String {
    crate::container_config::container_name(ARN, container)
}

fn counters(cpu_seconds: f64, memory_mib: u64, rx: u64, tx: u64) -> ContainerStatsSample {
    ContainerStatsSample {
        cpu_total_ns: (cpu_seconds * 1e9) as u64,
        system_cpu_ns: 0,
        online_cpus: 2,
        memory_usage_bytes: (memory_mib + 4) << 20,
        memory_inactive_file_bytes: 4 << 20,
        network_rx_bytes: rx,
        network_tx_bytes: tx,
    }
}

#[tokio::test(start_paused = true)]
async fn a_sample_averages_cpu_over_the_samplers_own_interval() {
    let runtime = Arc::new(FakeRuntime::new());
    let registry = Arc::new(MetadataRegistry::disabled());
    running_task(&runtime, &registry).await;
    runtime.set_stats(&docker_name("app"), counters(10.0, 30, 1000, 100));
    runtime.set_stats(&docker_name("sidecar"), counters(1.0, 10, 0, 0));
    let sink = Arc::new(MemoryUsageSink::default());
    let mut sampler =
        UsageSampler::new(runtime.clone() as Arc<dyn ContainerRuntime>, registry, sink, Duration::from_secs(5));

    assert!(sampler.sample_once().await.samples.is_empty(), "a first reading only starts the interval");
    tokio::time::advance(Duration::from_secs(4)).await;
    // Half a core for app over the 4 s, a quarter of one for the sidecar.
    runtime.set_stats(&docker_name("app"), counters(12.0, 32, 5000, 300));
    runtime.set_stats(&docker_name("sidecar"), counters(2.0, 10, 0, 0));
    let mut report = sampler.sample_once().await;
    report.samples.sort_by(|a, b| a.container_name.cmp(&b.container_name));
    let [app, sidecar] = &report.samples[..] else { panic!("two samples: {report:?}") };
    assert_eq!((app.task_arn.as_str(), app.container_name.as_str()), (ARN, "app"));
    assert_eq!(app.interval_ms, 4000);
    assert_eq!(app.cpu_units_used, 512.0);
    assert_eq!(app.memory_bytes, 32 << 20, "the page cache is not counted");
    assert_eq!((app.network_rx_bytes, app.network_tx_bytes), (5000, 300));
    assert_eq!((app.network_rx_bytes_per_second, app.network_tx_bytes_per_second), (1000.0, 50.0));
    assert_eq!(sidecar.cpu_units_used, 256.0);
    assert!(app.timestamp_ms > 1_600_000_000_000, "wall-clock milliseconds");
}

#[tokio::test(start_paused = true)]
async fn reports_arrive_every_interval_and_stop_with_the_container() {
    let runtime = Arc::new(FakeRuntime::new());
    let registry = Arc::new(MetadataRegistry::disabled());
    let mut state = running_task(&runtime, &registry).await;
    let sink = Arc::new(MemoryUsageSink::default());
    let sampler = UsageSampler::new(
        runtime.clone() as Arc<dyn ContainerRuntime>,
        Arc::clone(&registry),
        sink.clone(),
        Duration::from_secs(1),
    );
    let sampling = tokio::spawn(sampler.run());

    sink.wait_for(2).await;
    let reports = sink.reports();
    assert!(reports.iter().all(|report| report.samples.len() == 2), "{reports:?}");

    // A failing server loses reports but not the sampler.
    sink.fail(true);
    tokio::time::sleep(Duration::from_secs(3)).await;
    sink.fail(false);
    let before = sink.reports().len();
    sink.wait_for(before + 1).await;

    // The sidecar stops: only app is sampled. Then app stops too: nothing more is sent.
    runtime.stop_container(&docker_name("sidecar"), Duration::ZERO).await.unwrap();
    state.containers[1].phase = ContainerPhase::Stopped;
    registry.update_task(&state);
    let before = sink.reports().len();
    sink.wait_for(before + 1).await;
    let last = sink.reports().pop().unwrap();
    assert_eq!(last.samples.len(), 1);
    assert_eq!(last.samples[0].container_name, "app");

    state.containers[0].phase = ContainerPhase::Stopped;
    registry.update_task(&state);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let settled = sink.reports().len();
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert_eq!(sink.reports().len(), settled, "no reports once no container runs");
    sampling.abort();
}
