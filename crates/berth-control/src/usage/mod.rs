//! Container usage into CloudWatch datapoints: the server side of the agents' usage channel
//! (`berth_agent_protocol::usage`).
//!
//! [`ControlPlane::record_usage`] joins one agent's report with the state — each task's
//! reservations, its service, the instance's size, the cluster's `containerInsights` setting —
//! into [`plan::UsageInputs`] under the read lock, plans the datapoints with the pure
//! [`plan::plan_usage`] (whose doc says which metrics, dimensions and statistics, and why),
//! and hands them to the [`UsageSink`]: the metric store's (`cloudwatch::usage_sink`), or
//! another set with [`ControlPlane::set_usage_sink`].
//!
//! Invariants: nothing here writes to the control plane's store or waits on a flush (the
//! metric store's put runs on a blocking thread) — usage is telemetry,
//! lost with a report the server never took; samples count only for tasks the server has
//! RUNNING on the reporting instance (ECS publishes for RUNNING tasks only), so a stray or
//! late report cannot invent a series.
//!
//! Not here: keeping or serving the datapoints (the CloudWatch metric store behind the sink).

pub mod plan;
mod sink;

#[cfg(test)]
mod tests;

pub use plan::{plan_usage, ClusterReservation, ServiceCounts, TaskUsage, UsageInputs, AWS_ECS, CONTAINER_INSIGHTS};
pub use sink::{DiscardUsage, RecordingUsageSink, UsageDatum, UsageSink};

use crate::agents::AgentRefusal;
use crate::services::ServiceRecord;
use crate::state::{group_key, State};
use crate::ControlPlane;
use berth_agent_protocol::usage::UsageReport;
use berth_types::records::TaskRecord;
use berth_types::spec::{NetworkMode, TaskSpec};
use berth_types::{
    Arn, ArnContext, ClusterName, ContainerInstanceId, ContainerInstanceStatus, ServiceName, TaskId, TaskStatus,
};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The cluster setting that turns Container Insights on.
const CONTAINER_INSIGHTS_SETTING: &str = "containerInsights";

impl ControlPlane {
    /// Where usage datapoints go from now on; a control plane starts with its metric store's
    /// sink (`cloudwatch::usage_sink`), and tests record them instead.
    pub fn set_usage_sink(&self, sink: Arc<dyn UsageSink>) {
        *self.usage_sink.write() = sink;
    }

    /// Turns one agent's usage report into datapoints and publishes them. Refused, as the
    /// agent's other calls, for an unknown or deregistered instance.
    pub fn record_usage(
        &self,
        cluster: &ClusterName,
        instance: &ContainerInstanceId,
        report: UsageReport,
    ) -> Result<(), AgentRefusal> {
        self.instance_for_agent(cluster, instance)?;
        self.record_agent_contact(instance);
        let inputs = gather(&self.read(), self.arn_context(), cluster, instance, &report);
        let datums = inputs.map(|inputs| plan_usage(&inputs)).unwrap_or_default();
        if !datums.is_empty() {
            let sink = Arc::clone(&self.usage_sink.read());
            sink.publish(datums);
        }
        Ok(())
    }
}

/// The report's tasks joined with the state; `None` when the cluster or instance is gone.
fn gather(
    state: &State,
    context: &ArnContext,
    cluster: &ClusterName,
    instance: &ContainerInstanceId,
    report: &UsageReport,
) -> Option<UsageInputs> {
    let cluster_record = state.cluster(cluster)?;
    let instance_record = state.instances.get(instance)?;
    let mut tasks: BTreeMap<TaskId, TaskUsage> = BTreeMap::new();
    for sample in &report.samples {
        let Ok(Arn::Task(task_cluster, task_id)) = Arn::parse(&sample.task_arn, context) else { continue };
        let known = state.tasks.get(&task_id).filter(|task| {
            &task_cluster == cluster && &task.container_instance == instance && task.last_status == TaskStatus::Running
        });
        let Some(record) = known else { continue };
        let usage = tasks.entry(task_id).or_insert_with(|| idle_task(record));
        usage.timestamp_ms = usage.timestamp_ms.max(sample.timestamp_ms);
        usage.cpu_units_used += sample.cpu_units_used;
        usage.memory_mib_used += sample.memory_bytes as f64 / MIB;
        usage.network_rx_bytes_per_second += sample.network_rx_bytes_per_second;
        usage.network_tx_bytes_per_second += sample.network_tx_bytes_per_second;
    }
    let mut services = BTreeMap::new();
    for service in tasks.values().filter_map(|task| task.service.clone()) {
        let counts = service_counts(state, cluster, &service);
        services.insert(service, counts);
    }
    let container_insights = cluster_record
        .settings
        .get(CONTAINER_INSIGHTS_SETTING)
        .is_some_and(|value| value == "enabled" || value == "enhanced");
    Some(UsageInputs {
        cluster: cluster.to_string(),
        container_insights,
        instance_cpu: instance_record.registered.cpu,
        instance_memory_mib: instance_record.registered.memory,
        cluster_reservation: cluster_reservation(state, cluster),
        tasks: tasks.into_values().collect(),
        services,
    })
}

const MIB: f64 = 1024.0 * 1024.0;

/// A task's reservations and service, with no use counted yet.
fn idle_task(record: &TaskRecord) -> TaskUsage {
    TaskUsage {
        family: record.family.to_string(),
        service: record.group.strip_prefix("service:").map(str::to_string),
        reserved_cpu: reserved_cpu(&record.spec),
        reserved_memory_mib: reserved_memory_mib(&record.spec),
        bridge_network: record.spec.network_mode == NetworkMode::Bridge,
        timestamp_ms: i64::MIN,
        cpu_units_used: 0.0,
        memory_mib_used: 0.0,
        network_rx_bytes_per_second: 0.0,
        network_tx_bytes_per_second: 0.0,
    }
}

/// The task-level `cpu`, else the containers' sum.
fn reserved_cpu(spec: &TaskSpec) -> u32 {
    spec.cpu.unwrap_or_else(|| spec.containers.iter().map(|container| container.cpu).sum())
}

/// The task-level `memory`, else each container's soft limit or, without one, its hard limit:
/// AWS's utilization uses `memoryReservation` when it is set (unlike placement, which
/// reserves the hard limit when both are set).
fn reserved_memory_mib(spec: &TaskSpec) -> u32 {
    spec.memory.unwrap_or_else(|| {
        spec.containers.iter().map(|container| container.memory_reservation.or(container.memory).unwrap_or(0)).sum()
    })
}

fn service_counts(state: &State, cluster: &ClusterName, service: &str) -> ServiceCounts {
    let group = state.tasks_by_group.get(&group_key(cluster, &format!("service:{service}")));
    let running = group.into_iter().flatten().filter_map(|id| state.tasks.get(id));
    let running = running.filter(|task| task.last_status == TaskStatus::Running).count();
    let desired = ServiceName::parse(service)
        .ok()
        .and_then(|name| state.services.get(&ServiceRecord::key(cluster, &name)))
        .map_or(0, |record| record.configuration.desired_count);
    ServiceCounts { running: u32::try_from(running).unwrap_or(u32::MAX), desired }
}

/// What the cluster's tasks that are not STOPPED reserve, against what its ACTIVE and
/// DRAINING instances registered.
// TODO-scalability: one pass over every instance per report; a per-cluster total kept with
// the placement views would make this constant.
fn cluster_reservation(state: &State, cluster: &ClusterName) -> ClusterReservation {
    let mut reservation = ClusterReservation::default();
    let counted = state.instances.values().filter(|instance| {
        &instance.cluster == cluster
            && matches!(instance.status, ContainerInstanceStatus::Active | ContainerInstanceStatus::Draining)
    });
    for instance in counted {
        reservation.registered_cpu += instance.registered.cpu;
        reservation.registered_memory_mib += instance.registered.memory;
        if let Some(used) = state.used_by_instance.get(&instance.id) {
            reservation.reserved_cpu += used.cpu;
            reservation.reserved_memory_mib += used.memory;
        }
    }
    reservation
}
