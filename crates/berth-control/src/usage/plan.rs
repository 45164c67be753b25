//! The pure step from one agent's usage report, joined with what the control plane knows
//! (reservations, services, the instance's size), to the CloudWatch datapoints ECS publishes.
//!
//! Every report becomes at most one datum per series, stamped with its newest sample, as a
//! statistic set over the report's tasks; a metric store that merges the sets of a minute
//! (several agents, several ticks) then answers what AWS documents:
//!
//! - `AWS/ECS` `CPUUtilization`/`MemoryUtilization` {ClusterName, ServiceName}: Minimum and
//!   Maximum are the least and most utilised task (used × 100 / its reservation); Sum is
//!   SampleCount × (total used × 100 / total reserved), so Average is AWS's formula, "(total
//!   used by the service's tasks) × 100 / (total reserved by them)" — over a period, weighted
//!   by each report's task count.
//! - The same metrics {ClusterName}: one sample per report, the reporting instance's tasks'
//!   use × 100 / its registered CPU or memory. AWS divides the cluster's total use by its
//!   instances' total registered resources; the Average over instance reports equals that
//!   when the instances are of one size. `CPUReservation`/`MemoryReservation` {ClusterName}:
//!   reserved by the cluster's tasks that are not STOPPED × 100 / registered by its ACTIVE and
//!   DRAINING instances, computed from the whole cluster's state on every report.
//! - `ECS/ContainerInsights` (only when the cluster's `containerInsights` is on): per task
//!   `CpuUtilized`/`CpuReserved` (CPU units), `MemoryUtilized`/`MemoryReserved` (MiB, which
//!   CloudWatch calls Megabytes) and `NetworkRxBytes`/`NetworkTxBytes` (bytes per second,
//!   bridge tasks only) for {ClusterName, TaskDefinitionFamily}, {ClusterName, ServiceName}
//!   and {ClusterName}; `RunningTaskCount`/`DesiredTaskCount` {ClusterName, ServiceName}.
//!
//! A task without a CPU (or memory) reservation has no utilization to report and is left out
//! of that resource's metrics, as Container Insights documents ("collected only for tasks
//! that have a defined CPU reservation"). Sum over a period counts every tick's sample, so
//! for the per-task Container Insights figures Average, Minimum and Maximum are the
//! meaningful statistics.

use super::sink::UsageDatum;
use std::collections::BTreeMap;

pub const AWS_ECS: &str = "AWS/ECS";
pub const CONTAINER_INSIGHTS: &str = "ECS/ContainerInsights";

/// What `plan_usage` needs about one report, gathered from the state by the caller.
#[derive(Debug, Clone, PartialEq)]
pub struct UsageInputs {
    pub cluster: String,
    /// The cluster's `containerInsights` setting is `enabled` (or `enhanced`).
    pub container_insights: bool,
    /// What the reporting instance registered: CPU units and MiB.
    pub instance_cpu: i64,
    pub instance_memory_mib: i64,
    /// The whole cluster's reservations, for CPUReservation/MemoryReservation.
    pub cluster_reservation: ClusterReservation,
    /// The report's tasks that the server knows RUNNING on the instance.
    pub tasks: Vec<TaskUsage>,
    /// The services of those tasks, by name.
    pub services: BTreeMap<String, ServiceCounts>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ClusterReservation {
    pub reserved_cpu: i64,
    pub registered_cpu: i64,
    pub reserved_memory_mib: i64,
    pub registered_memory_mib: i64,
}

/// One task's use in the report: its containers' samples summed.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskUsage {
    pub family: String,
    /// The service the task belongs to (its group `service:NAME`).
    pub service: Option<String>,
    /// CPU units reserved (task-level `cpu`, else the containers' sum); 0 for none.
    pub reserved_cpu: u32,
    /// MiB reserved (task-level `memory`, else each container's `memoryReservation` or
    /// `memory`, summed); 0 for none.
    pub reserved_memory_mib: u32,
    /// Bridge networking: the containers' own interfaces, so network figures are the task's.
    pub bridge_network: bool,
    pub timestamp_ms: i64,
    pub cpu_units_used: f64,
    pub memory_mib_used: f64,
    pub network_rx_bytes_per_second: f64,
    pub network_tx_bytes_per_second: f64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ServiceCounts {
    pub running: u32,
    pub desired: u32,
}

/// Sample count, sum, minimum and maximum of some values.
#[derive(Debug, Clone, Copy, PartialEq)]
struct StatisticSet {
    sample_count: f64,
    sum: f64,
    minimum: f64,
    maximum: f64,
}

impl StatisticSet {
    fn of(values: impl IntoIterator<Item = f64>) -> Option<Self> {
        let mut set: Option<StatisticSet> = None;
        for value in values {
            let next = match set {
                None => StatisticSet { sample_count: 1.0, sum: value, minimum: value, maximum: value },
                Some(set) => StatisticSet {
                    sample_count: set.sample_count + 1.0,
                    sum: set.sum + value,
                    minimum: set.minimum.min(value),
                    maximum: set.maximum.max(value),
                },
            };
            set = Some(next);
        }
        set
    }

    /// Per-task percentages `used × 100 / reserved` for Minimum and Maximum, with a Sum that
    /// makes Average the ratio of the totals (AWS's service utilization formula).
    fn utilization(pairs: &[(f64, f64)]) -> Option<Self> {
        let mut set = StatisticSet::of(pairs.iter().map(|(used, reserved)| used * 100.0 / reserved))?;
        let (used, reserved) =
            pairs.iter().fold((0.0, 0.0), |(used, reserved), pair| (used + pair.0, reserved + pair.1));
        set.sum = set.sample_count * used * 100.0 / reserved;
        Some(set)
    }
}

/// Accumulates datums with common namespace, dimensions and timestamp.
struct Datums<'a> {
    cluster: &'a str,
    timestamp_ms: i64,
    out: Vec<UsageDatum>,
}

impl Datums<'_> {
    fn push(
        &mut self,
        namespace: &'static str,
        metric_name: &'static str,
        unit: &'static str,
        extra: Option<(&str, &str)>,
        set: Option<StatisticSet>,
    ) {
        let Some(set) = set else { return };
        let mut dimensions = vec![("ClusterName".to_string(), self.cluster.to_string())];
        dimensions.extend(extra.map(|(name, value)| (name.to_string(), value.to_string())));
        self.out.push(UsageDatum {
            namespace,
            metric_name,
            dimensions,
            timestamp_ms: self.timestamp_ms,
            unit,
            sample_count: set.sample_count,
            sum: set.sum,
            minimum: set.minimum,
            maximum: set.maximum,
        });
    }
}

/// The datapoints of one report; empty when it holds no task the server runs.
pub fn plan_usage(inputs: &UsageInputs) -> Vec<UsageDatum> {
    let Some(timestamp_ms) = inputs.tasks.iter().map(|task| task.timestamp_ms).max() else {
        return Vec::new();
    };
    let mut datums = Datums { cluster: &inputs.cluster, timestamp_ms, out: Vec::new() };
    let mut by_service: BTreeMap<&str, Vec<&TaskUsage>> = BTreeMap::new();
    let mut by_family: BTreeMap<&str, Vec<&TaskUsage>> = BTreeMap::new();
    for task in &inputs.tasks {
        if let Some(service) = &task.service {
            by_service.entry(service).or_default().push(task);
        }
        by_family.entry(&task.family).or_default().push(task);
    }
    let all: Vec<&TaskUsage> = inputs.tasks.iter().collect();

    for (service, tasks) in &by_service {
        let dimension = Some(("ServiceName", *service));
        datums.push(AWS_ECS, "CPUUtilization", "Percent", dimension, StatisticSet::utilization(&cpu_pairs(tasks)));
        datums.push(
            AWS_ECS,
            "MemoryUtilization",
            "Percent",
            dimension,
            StatisticSet::utilization(&memory_pairs(tasks)),
        );
    }
    let instance_share = |used: f64, registered: i64| (registered > 0).then(|| used * 100.0 / registered as f64);
    let cpu_used: f64 = all.iter().map(|task| task.cpu_units_used).sum();
    let memory_used: f64 = all.iter().map(|task| task.memory_mib_used).sum();
    datums.push(
        AWS_ECS,
        "CPUUtilization",
        "Percent",
        None,
        StatisticSet::of(instance_share(cpu_used, inputs.instance_cpu)),
    );
    datums.push(
        AWS_ECS,
        "MemoryUtilization",
        "Percent",
        None,
        StatisticSet::of(instance_share(memory_used, inputs.instance_memory_mib)),
    );
    let reservation = inputs.cluster_reservation;
    let reserved_share = |reserved: i64, registered: i64| instance_share(reserved as f64, registered);
    datums.push(
        AWS_ECS,
        "CPUReservation",
        "Percent",
        None,
        StatisticSet::of(reserved_share(reservation.reserved_cpu, reservation.registered_cpu)),
    );
    datums.push(
        AWS_ECS,
        "MemoryReservation",
        "Percent",
        None,
        StatisticSet::of(reserved_share(reservation.reserved_memory_mib, reservation.registered_memory_mib)),
    );

    if inputs.container_insights {
        for (family, tasks) in &by_family {
            push_task_figures(&mut datums, Some(("TaskDefinitionFamily", family)), tasks);
        }
        for (service, tasks) in &by_service {
            push_task_figures(&mut datums, Some(("ServiceName", service)), tasks);
            if let Some(counts) = inputs.services.get(*service) {
                let dimension = Some(("ServiceName", *service));
                let running = StatisticSet::of([f64::from(counts.running)]);
                datums.push(CONTAINER_INSIGHTS, "RunningTaskCount", "Count", dimension, running);
                let desired = StatisticSet::of([f64::from(counts.desired)]);
                datums.push(CONTAINER_INSIGHTS, "DesiredTaskCount", "Count", dimension, desired);
            }
        }
        push_task_figures(&mut datums, None, &all);
    }
    datums.out
}

fn cpu_pairs(tasks: &[&TaskUsage]) -> Vec<(f64, f64)> {
    let reserved = tasks.iter().filter(|task| task.reserved_cpu > 0);
    reserved.map(|task| (task.cpu_units_used, f64::from(task.reserved_cpu))).collect()
}

fn memory_pairs(tasks: &[&TaskUsage]) -> Vec<(f64, f64)> {
    let reserved = tasks.iter().filter(|task| task.reserved_memory_mib > 0);
    reserved.map(|task| (task.memory_mib_used, f64::from(task.reserved_memory_mib))).collect()
}

/// Container Insights' per-task figures of `tasks`, under one dimension set.
fn push_task_figures(datums: &mut Datums<'_>, dimension: Option<(&str, &str)>, tasks: &[&TaskUsage]) {
    let cpu = cpu_pairs(tasks);
    let memory = memory_pairs(tasks);
    let bridged = || tasks.iter().filter(|task| task.bridge_network);
    let figures = [
        ("CpuUtilized", "None", StatisticSet::of(cpu.iter().map(|pair| pair.0))),
        ("CpuReserved", "None", StatisticSet::of(cpu.iter().map(|pair| pair.1))),
        ("MemoryUtilized", "Megabytes", StatisticSet::of(memory.iter().map(|pair| pair.0))),
        ("MemoryReserved", "Megabytes", StatisticSet::of(memory.iter().map(|pair| pair.1))),
        ("NetworkRxBytes", "Bytes/Second", StatisticSet::of(bridged().map(|task| task.network_rx_bytes_per_second))),
        ("NetworkTxBytes", "Bytes/Second", StatisticSet::of(bridged().map(|task| task.network_tx_bytes_per_second))),
    ];
    for (metric_name, unit, set) in figures {
        datums.push(CONTAINER_INSIGHTS, metric_name, unit, dimension, set);
    }
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
