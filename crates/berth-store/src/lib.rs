//! Durable state storage. The store knows tables of byte values under string keys and commits
//! batches atomically; it knows nothing of ECS or of how values are encoded (the control plane
//! serialises its records).
//!
//! Invariant: [`Store::commit`] returns only once the whole batch is durable (fsynced), so a
//! caller may acknowledge a write the moment `commit` returns; a crash before that leaves none
//! of the batch visible.
//!
//! Backends: [`EmbeddedStore`] (redb: a pure-Rust, copy-on-write B-tree with checksummed,
//! crash-safe commits) for one machine, and [`MemoryStore`] for unit tests. The replicated
//! etcd backend comes later behind the same trait.

mod embedded;
mod memory;

pub use embedded::EmbeddedStore;
pub use memory::MemoryStore;

/// The tables Berth keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Table {
    Clusters,
    TaskDefinitions,
    Tasks,
    ContainerInstances,
    IdempotencyTokens,
    CapacityProviders,
    Services,
    AccountSettings,
    ExecSessions,
    ServiceDeployments,
    ServiceRevisions,
    InstanceGenerations,
    DaemonTaskDefinitions,
    Daemons,
    DaemonRevisions,
    DaemonDeployments,
    ElbLoadBalancers,
    ElbTargetGroups,
    ElbListeners,
    ElbRules,
    AcmCertificates,
    Gateways,
    GatewayAssociations,
    GatewayRoutes,
    LogGroups,
    LogStreams,
    MetricAlarms,
    EventRules,
    PendingEvents,
    ScalableTargets,
    ScalingPolicies,
    ScheduledActions,
    ScalingActivities,
    Schedules,
    ScheduleGroups,
    ScheduleFirings,
}

impl Table {
    pub const ALL: [Table; 36] = [
        Table::Clusters,
        Table::TaskDefinitions,
        Table::Tasks,
        Table::ContainerInstances,
        Table::IdempotencyTokens,
        Table::CapacityProviders,
        Table::Services,
        Table::AccountSettings,
        Table::ExecSessions,
        Table::ServiceDeployments,
        Table::ServiceRevisions,
        Table::InstanceGenerations,
        Table::DaemonTaskDefinitions,
        Table::Daemons,
        Table::DaemonRevisions,
        Table::DaemonDeployments,
        Table::ElbLoadBalancers,
        Table::ElbTargetGroups,
        Table::ElbListeners,
        Table::ElbRules,
        Table::AcmCertificates,
        Table::Gateways,
        Table::GatewayAssociations,
        Table::GatewayRoutes,
        Table::LogGroups,
        Table::LogStreams,
        Table::MetricAlarms,
        Table::EventRules,
        Table::PendingEvents,
        Table::ScalableTargets,
        Table::ScalingPolicies,
        Table::ScheduledActions,
        Table::ScalingActivities,
        Table::Schedules,
        Table::ScheduleGroups,
        Table::ScheduleFirings,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Table::Clusters => "clusters",
            Table::TaskDefinitions => "task_definitions",
            Table::Tasks => "tasks",
            Table::ContainerInstances => "container_instances",
            Table::IdempotencyTokens => "idempotency_tokens",
            Table::CapacityProviders => "capacity_providers",
            Table::Services => "services",
            Table::AccountSettings => "account_settings",
            Table::ExecSessions => "exec_sessions",
            Table::ServiceDeployments => "service_deployments",
            Table::ServiceRevisions => "service_revisions",
            Table::InstanceGenerations => "instance_generations",
            Table::DaemonTaskDefinitions => "daemon_task_definitions",
            Table::Daemons => "daemons",
            Table::DaemonRevisions => "daemon_revisions",
            Table::DaemonDeployments => "daemon_deployments",
            Table::ElbLoadBalancers => "elb_load_balancers",
            Table::ElbTargetGroups => "elb_target_groups",
            Table::ElbListeners => "elb_listeners",
            Table::ElbRules => "elb_rules",
            Table::AcmCertificates => "acm_certificates",
            Table::Gateways => "gateways",
            Table::GatewayAssociations => "gateway_associations",
            Table::GatewayRoutes => "gateway_routes",
            Table::LogGroups => "log_groups",
            Table::LogStreams => "log_streams",
            Table::MetricAlarms => "metric_alarms",
            Table::EventRules => "event_rules",
            Table::PendingEvents => "pending_events",
            Table::ScalableTargets => "autoscaling_scalable_targets",
            Table::ScalingPolicies => "autoscaling_scaling_policies",
            Table::ScheduledActions => "autoscaling_scheduled_actions",
            Table::ScalingActivities => "autoscaling_scaling_activities",
            Table::Schedules => "schedules",
            Table::ScheduleGroups => "schedule_groups",
            Table::ScheduleFirings => "schedule_firings",
        }
    }
}

/// Puts and deletes applied together or not at all.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct WriteBatch {
    pub operations: Vec<WriteOperation>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteOperation {
    Put { table: Table, key: String, value: Vec<u8> },
    Delete { table: Table, key: String },
}

impl WriteBatch {
    pub fn put(&mut self, table: Table, key: impl Into<String>, value: Vec<u8>) {
        self.operations.push(WriteOperation::Put { table, key: key.into(), value });
    }

    pub fn delete(&mut self, table: Table, key: impl Into<String>) {
        self.operations.push(WriteOperation::Delete { table, key: key.into() });
    }

    pub fn is_empty(&self) -> bool {
        self.operations.is_empty()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the store at {path}: {message}")]
    Open { path: String, message: String },
    #[error("store read failed: {0}")]
    Read(String),
    #[error("store commit failed: {0}")]
    Commit(String),
}

/// What [`Store::scan`] calls for each row: the key and the value, lent for the call.
pub type Visit<'a> = dyn FnMut(&str, &[u8]) -> Result<(), StoreError> + 'a;

/// A durable key/value store of tables.
pub trait Store: Send + Sync {
    /// Calls `visit` with every row of `table`, in key order, stopping at its first error.
    /// Rows are lent, not collected, so start-up never holds a table's raw bytes and its
    /// decoded records at once.
    fn scan(&self, table: Table, visit: &mut Visit<'_>) -> Result<(), StoreError>;
    /// Every `(key, value)` of `table`, in key order.
    fn load(&self, table: Table) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let mut rows = Vec::new();
        self.scan(table, &mut |key, value| {
            rows.push((key.to_string(), value.to_vec()));
            Ok(())
        })?;
        Ok(rows)
    }
    /// Applies the batch atomically and durably.
    fn commit(&self, batch: WriteBatch) -> Result<(), StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same contract, checked on every backend.
    pub(crate) fn exercise(store: &dyn Store) {
        let mut batch = WriteBatch::default();
        batch.put(Table::Tasks, "b", b"2".to_vec());
        batch.put(Table::Tasks, "a", b"1".to_vec());
        batch.put(Table::Clusters, "default", b"c".to_vec());
        store.commit(batch).unwrap();
        assert_eq!(
            store.load(Table::Tasks).unwrap(),
            vec![("a".to_string(), b"1".to_vec()), ("b".to_string(), b"2".to_vec())]
        );
        let mut batch = WriteBatch::default();
        batch.delete(Table::Tasks, "a");
        batch.put(Table::Tasks, "b", b"3".to_vec());
        store.commit(batch).unwrap();
        assert_eq!(store.load(Table::Tasks).unwrap(), vec![("b".to_string(), b"3".to_vec())]);
        assert_eq!(store.load(Table::ContainerInstances).unwrap(), vec![]);
    }

    #[test]
    fn memory_store_honours_the_contract() {
        exercise(&MemoryStore::default());
    }
}
