use super::*;

fn task(service: Option<&str>, reserved_cpu: u32, cpu_used: f64, reserved_memory: u32, memory_used: f64) -> TaskUsage {
    TaskUsage {
        family: "web".into(),
        service: service.map(str::to_string),
        reserved_cpu,
        reserved_memory_mib: reserved_memory,
        bridge_network: true,
        timestamp_ms: 1_700_000_000_000,
        cpu_units_used: cpu_used,
        memory_mib_used: memory_used,
        network_rx_bytes_per_second: 100.0,
        network_tx_bytes_per_second: 10.0,
    }
}

fn inputs(tasks: Vec<TaskUsage>, container_insights: bool) -> UsageInputs {
    UsageInputs {
        cluster: "prod".into(),
        container_insights,
        instance_cpu: 2048,
        instance_memory_mib: 4096,
        cluster_reservation: ClusterReservation {
            reserved_cpu: 1024,
            registered_cpu: 4096,
            reserved_memory_mib: 1024,
            registered_memory_mib: 8192,
        },
        services: [("api".to_string(), ServiceCounts { running: 2, desired: 3 })].into(),
        tasks,
    }
}

fn find<'a>(
    datums: &'a [UsageDatum],
    namespace: &str,
    metric: &str,
    dimension: Option<(&str, &str)>,
) -> &'a UsageDatum {
    let found: Vec<&UsageDatum> = datums
        .iter()
        .filter(|datum| datum.namespace == namespace && datum.metric_name == metric)
        .filter(|datum| datum.dimension("ClusterName") == Some("prod"))
        .filter(|datum| match dimension {
            Some((name, value)) => datum.dimensions.len() == 2 && datum.dimension(name) == Some(value),
            None => datum.dimensions.len() == 1,
        })
        .collect();
    assert_eq!(found.len(), 1, "one {namespace} {metric} {dimension:?} in {datums:#?}");
    found[0]
}

#[test]
fn service_utilization_is_total_used_over_total_reserved_with_each_task_as_a_sample() {
    // Two tasks of one service: 50 % and 150 % of 256 CPU units; 25 % and 50 % of 512 MiB.
    let datums = plan_usage(&inputs(
        vec![task(Some("api"), 256, 128.0, 512, 128.0), task(Some("api"), 256, 384.0, 512, 256.0)],
        false,
    ));
    let cpu = find(&datums, AWS_ECS, "CPUUtilization", Some(("ServiceName", "api")));
    assert_eq!((cpu.sample_count, cpu.minimum, cpu.maximum), (2.0, 50.0, 150.0));
    assert_eq!(cpu.average(), 100.0);
    assert_eq!((cpu.unit, cpu.timestamp_ms), ("Percent", 1_700_000_000_000));
    assert_eq!(cpu.dimensions, vec![("ClusterName".into(), "prod".into()), ("ServiceName".into(), "api".into())]);
    let memory = find(&datums, AWS_ECS, "MemoryUtilization", Some(("ServiceName", "api")));
    assert_eq!((memory.sample_count, memory.minimum, memory.maximum, memory.average()), (2.0, 25.0, 50.0, 37.5));
}

#[test]
fn tasks_of_different_sizes_weigh_by_what_they_reserve() {
    // Mid-deployment: 128 of 256 units (50 %) and 768 of 768 (100 %). AWS's formula gives
    // 896 × 100 / 1024, not the mean of the two percentages.
    let datums = plan_usage(&inputs(
        vec![task(Some("api"), 256, 128.0, 64, 0.0), task(Some("api"), 768, 768.0, 64, 0.0)],
        false,
    ));
    let cpu = find(&datums, AWS_ECS, "CPUUtilization", Some(("ServiceName", "api")));
    assert_eq!((cpu.minimum, cpu.maximum, cpu.average()), (50.0, 100.0, 87.5));
}

#[test]
fn the_cluster_shows_the_instances_share_and_the_clusters_reservation() {
    let datums =
        plan_usage(&inputs(vec![task(Some("api"), 256, 256.0, 512, 512.0), task(None, 0, 256.0, 0, 512.0)], false));
    // Standalone tasks and tasks without reservations count towards the instance's use.
    let cpu = find(&datums, AWS_ECS, "CPUUtilization", None);
    assert_eq!((cpu.sample_count, cpu.sum), (1.0, 25.0));
    assert_eq!(find(&datums, AWS_ECS, "MemoryUtilization", None).sum, 25.0);
    assert_eq!(find(&datums, AWS_ECS, "CPUReservation", None).sum, 25.0);
    assert_eq!(find(&datums, AWS_ECS, "MemoryReservation", None).sum, 12.5);
    // The service's figures are its own task's.
    assert_eq!(find(&datums, AWS_ECS, "CPUUtilization", Some(("ServiceName", "api"))).average(), 100.0);
}

#[test]
fn a_task_without_a_cpu_reservation_has_no_cpu_utilization() {
    let datums = plan_usage(&inputs(vec![task(Some("api"), 0, 300.0, 512, 256.0)], true));
    let service_cpu = datums.iter().filter(|datum| datum.dimension("ServiceName") == Some("api"));
    let names: Vec<&str> = service_cpu.map(|datum| datum.metric_name).collect();
    assert!(!names.contains(&"CPUUtilization") && !names.contains(&"CpuUtilized"), "{names:?}");
    assert!(names.contains(&"MemoryUtilization") && names.contains(&"MemoryUtilized"), "{names:?}");
}

#[test]
fn container_insights_only_when_the_cluster_enables_it() {
    let tasks = vec![task(Some("api"), 256, 128.0, 512, 128.0), task(Some("api"), 256, 384.0, 512, 256.0)];
    let off = plan_usage(&inputs(tasks.clone(), false));
    assert!(off.iter().all(|datum| datum.namespace == AWS_ECS), "{off:#?}");
    assert_eq!(off.len(), 6, "service CPU/memory, cluster CPU/memory, CPU/memory reservation");

    let mut tasks = tasks;
    tasks[1].bridge_network = false;
    let on = plan_usage(&inputs(tasks, true));
    let used = find(&on, CONTAINER_INSIGHTS, "CpuUtilized", Some(("ServiceName", "api")));
    assert_eq!(
        (used.sample_count, used.sum, used.minimum, used.maximum, used.unit),
        (2.0, 512.0, 128.0, 384.0, "None")
    );
    let reserved = find(&on, CONTAINER_INSIGHTS, "CpuReserved", Some(("TaskDefinitionFamily", "web")));
    assert_eq!(reserved.sum, 512.0);
    let memory = find(&on, CONTAINER_INSIGHTS, "MemoryUtilized", None);
    assert_eq!((memory.sum, memory.unit), (384.0, "Megabytes"));
    assert_eq!(find(&on, CONTAINER_INSIGHTS, "MemoryReserved", None).sum, 1024.0);
    // Only the bridge task's interfaces are its own.
    let received = find(&on, CONTAINER_INSIGHTS, "NetworkRxBytes", Some(("ServiceName", "api")));
    assert_eq!((received.sample_count, received.sum, received.unit), (1.0, 100.0, "Bytes/Second"));
    assert_eq!(find(&on, CONTAINER_INSIGHTS, "NetworkTxBytes", None).sum, 10.0);
    let running = find(&on, CONTAINER_INSIGHTS, "RunningTaskCount", Some(("ServiceName", "api")));
    assert_eq!((running.sum, running.unit), (2.0, "Count"));
    assert_eq!(find(&on, CONTAINER_INSIGHTS, "DesiredTaskCount", Some(("ServiceName", "api"))).sum, 3.0);
    // No count metric per family or for the whole cluster.
    assert!(!on
        .iter()
        .any(|datum| datum.metric_name == "RunningTaskCount" && datum.dimension("ServiceName").is_none()));
}

#[test]
fn a_report_of_no_running_task_publishes_nothing() {
    assert!(plan_usage(&inputs(vec![], true)).is_empty());
}
