//! Task sets of EXTERNAL services: CreateTaskSet, UpdateTaskSet (scale),
//! UpdateServicePrimaryTaskSet, DeleteTaskSet and DescribeTaskSets. A task set lives inside its
//! service's record, so each write of a service and its task sets is one atomic change; the
//! service reconciler keeps each set at `ceil(scale × desiredCount)` tasks and stores their
//! counts and stability after every pass (`record_pass`).
//!
//! Invariant: at most one task set is PRIMARY. A deleted task set is DRAINING until its last
//! task has stopped, then it is gone. Only services with the EXTERNAL deployment controller
//! have task sets.

use crate::clusters::active_cluster;
use crate::error::{ControlError, ControlResult};
use crate::services::{live_service, new_deployment_id, DeploymentController, ServiceRecord, ServiceStatus};
use crate::state::{Change, State};
use crate::ControlPlane;
use berth_planner::{DeploymentId, TaskDefinitionKey, TaskSetProgress, TaskSetTarget};
use berth_types::records::CapacityProviderStrategyItem;
use berth_types::{ClusterName, ServiceName, Tag, Timestamp};
use serde::{Deserialize, Serialize};

/// ECS's quota of task sets per service.
pub const MAX_TASK_SETS_PER_SERVICE: usize = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TaskSetStatus {
    Primary,
    Active,
    Draining,
}

impl TaskSetStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskSetStatus::Primary => "PRIMARY",
            TaskSetStatus::Active => "ACTIVE",
            TaskSetStatus::Draining => "DRAINING",
        }
    }
}

/// One task set: what CreateTaskSet set, plus the counts the last reconciler pass saw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskSetRecord {
    /// `ecs-svc/` and 19 digits; its tasks carry it as `startedBy`.
    pub id: DeploymentId,
    pub external_id: Option<String>,
    pub task_definition: TaskDefinitionKey,
    pub launch_type: Option<String>,
    pub capacity_provider_strategy: Vec<CapacityProviderStrategyItem>,
    /// `scale.value`, a percentage of the service's desired count (unit PERCENT).
    pub scale_percent: f64,
    pub status: TaskSetStatus,
    pub running_count: u32,
    pub pending_count: u32,
    pub steady: bool,
    /// When `steady` last changed.
    pub stability_status_at: Timestamp,
    pub tags: Vec<Tag>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// CreateTaskSet's client token and a fingerprint of its other parameters.
    pub client_token: Option<(String, String)>,
}

impl TaskSetRecord {
    /// A change the tasks must follow: STABILIZING until a pass finds the set settled again.
    fn unsettle(&mut self, now: Timestamp) {
        self.steady = false;
        self.stability_status_at = now;
        self.updated_at = now;
    }

    /// `computedDesiredCount`: scale × desired count, always rounded up; nothing while
    /// DRAINING. A hair is taken off first so that 10 % of 10 is 1, not 2, in floating point.
    pub fn computed_desired_count(&self, service_desired_count: u32) -> u32 {
        if self.status == TaskSetStatus::Draining {
            return 0;
        }
        let exact = self.scale_percent * f64::from(service_desired_count) / 100.0;
        (exact - 1e-9).ceil().clamp(0.0, f64::from(service_desired_count)) as u32
    }
}

/// A validated CreateTaskSet.
#[derive(Debug, Clone)]
pub struct CreateTaskSet {
    pub cluster: ClusterName,
    pub service: ServiceName,
    pub external_id: Option<String>,
    pub task_definition: TaskDefinitionKey,
    pub launch_type: Option<String>,
    pub capacity_provider_strategy: Vec<CapacityProviderStrategyItem>,
    pub scale_percent: f64,
    pub tags: Vec<Tag>,
    pub client_token: Option<(String, String)>,
}

/// A task set with the service it belongs to, as the API renders it.
#[derive(Debug, Clone)]
pub struct TaskSetView {
    pub cluster: ClusterName,
    pub service: ServiceName,
    pub service_desired_count: u32,
    pub task_set: TaskSetRecord,
}

impl ControlPlane {
    pub async fn create_task_set(&self, request: CreateTaskSet) -> ControlResult<TaskSetView> {
        let view = self
            .mutate(|state| {
                let mut record = external_service(state, &request.cluster, &request.service)?.clone();
                if let Some(existing) = record
                    .task_sets
                    .iter()
                    .find(|set| request.client_token.is_some() && set.client_token == request.client_token)
                {
                    let view = view_of(&record, existing.clone());
                    return Ok((vec![], view));
                }
                if record.task_sets.len() >= MAX_TASK_SETS_PER_SERVICE {
                    return Err(ControlError::LimitExceeded(format!(
                        "The service already has the maximum of {MAX_TASK_SETS_PER_SERVICE} task sets."
                    )));
                }
                crate::services::check_task_definition(state, &request.task_definition)?;
                if !request.capacity_provider_strategy.is_empty() {
                    crate::tasks::effective_provider_strategy(
                        state,
                        &request.cluster,
                        &request.capacity_provider_strategy,
                        false,
                    )?;
                }
                let now = Timestamp::now();
                let task_set = TaskSetRecord {
                    id: new_deployment_id(),
                    external_id: request.external_id.clone(),
                    task_definition: request.task_definition.clone(),
                    launch_type: request.launch_type.clone(),
                    capacity_provider_strategy: request.capacity_provider_strategy.clone(),
                    scale_percent: request.scale_percent,
                    status: TaskSetStatus::Active,
                    running_count: 0,
                    pending_count: 0,
                    steady: false,
                    stability_status_at: now,
                    tags: request.tags.clone(),
                    created_at: now,
                    updated_at: now,
                    client_token: request.client_token.clone(),
                };
                record.task_sets.push(task_set.clone());
                let view = view_of(&record, task_set);
                Ok((vec![Change::PutService(Box::new(record))], view))
            })
            .await?;
        self.wake_service_reconciler();
        Ok(view)
    }

    /// UpdateTaskSet: a new scale; the reconciler moves the tasks.
    pub async fn update_task_set(
        &self,
        cluster: &ClusterName,
        service: &ServiceName,
        task_set: &DeploymentId,
        scale_percent: f64,
    ) -> ControlResult<TaskSetView> {
        self.change_task_set(cluster, service, task_set, |record, index, now| {
            let set = &mut record.task_sets[index];
            if set.status == TaskSetStatus::Draining {
                return Err(ControlError::InvalidParameter(format!("The task set {} is DRAINING.", set.id)));
            }
            set.scale_percent = scale_percent;
            set.unsettle(now);
            Ok(())
        })
        .await
    }

    /// UpdateServicePrimaryTaskSet: the named set becomes PRIMARY, the previous one ACTIVE.
    pub async fn update_service_primary_task_set(
        &self,
        cluster: &ClusterName,
        service: &ServiceName,
        task_set: &DeploymentId,
    ) -> ControlResult<TaskSetView> {
        self.change_task_set(cluster, service, task_set, |record, index, now| {
            if record.task_sets[index].status == TaskSetStatus::Draining {
                return Err(ControlError::InvalidParameter(format!(
                    "The task set {} is DRAINING and cannot become the primary task set.",
                    record.task_sets[index].id
                )));
            }
            for (position, set) in record.task_sets.iter_mut().enumerate() {
                let status = if position == index { TaskSetStatus::Primary } else { set.status };
                let status =
                    if position != index && status == TaskSetStatus::Primary { TaskSetStatus::Active } else { status };
                if status != set.status {
                    set.status = status;
                    set.updated_at = now;
                }
            }
            Ok(())
        })
        .await
    }

    /// DeleteTaskSet: the set drains (its tasks stop) and disappears once they have. Without
    /// `force`, a set still scaled above zero is refused, as in ECS.
    pub async fn delete_task_set(
        &self,
        cluster: &ClusterName,
        service: &ServiceName,
        task_set: &DeploymentId,
        force: bool,
    ) -> ControlResult<TaskSetView> {
        self.change_task_set(cluster, service, task_set, |record, index, now| {
            let desired = record.configuration.desired_count;
            let set = &mut record.task_sets[index];
            if set.status == TaskSetStatus::Draining {
                return Ok(());
            }
            if !force && set.computed_desired_count(desired) > 0 {
                return Err(ControlError::InvalidParameter(format!(
                    "The task set {} cannot be deleted while it is scaled above 0; scale it to 0 first or use force.",
                    set.id
                )));
            }
            set.status = TaskSetStatus::Draining;
            set.unsettle(now);
            Ok(())
        })
        .await
    }

    /// The service's task sets, or those named; names that match none come back apart.
    pub fn describe_task_sets(
        &self,
        cluster: &ClusterName,
        service: &ServiceName,
        wanted: Option<&[String]>,
    ) -> ControlResult<(Vec<TaskSetView>, Vec<String>)> {
        let state = self.read();
        let record = external_service(&state, cluster, service)?;
        let Some(wanted) = wanted else {
            return Ok((record.task_sets.iter().map(|set| view_of(record, set.clone())).collect(), vec![]));
        };
        let (mut found, mut missing) = (Vec::new(), Vec::new());
        for id in wanted {
            match record.task_sets.iter().find(|set| set.id.as_str() == id) {
                Some(set) => found.push(view_of(record, set.clone())),
                None => missing.push(id.clone()),
            }
        }
        Ok((found, missing))
    }

    async fn change_task_set(
        &self,
        cluster: &ClusterName,
        service: &ServiceName,
        task_set: &DeploymentId,
        change: impl FnOnce(&mut ServiceRecord, usize, Timestamp) -> ControlResult<()>,
    ) -> ControlResult<TaskSetView> {
        let view = self
            .mutate(|state| {
                let mut record = external_service(state, cluster, service)?.clone();
                let index =
                    record.task_sets.iter().position(|set| &set.id == task_set).ok_or(ControlError::TaskSetNotFound)?;
                change(&mut record, index, Timestamp::now())?;
                let view = view_of(&record, record.task_sets[index].clone());
                Ok((vec![Change::PutService(Box::new(record))], view))
            })
            .await?;
        self.wake_service_reconciler();
        Ok(view)
    }
}

fn view_of(record: &ServiceRecord, task_set: TaskSetRecord) -> TaskSetView {
    TaskSetView {
        cluster: record.cluster.clone(),
        service: record.name.clone(),
        service_desired_count: record.configuration.desired_count,
        task_set,
    }
}

/// The live service, which must use the EXTERNAL deployment controller.
fn external_service<'a>(
    state: &'a State,
    cluster: &ClusterName,
    service: &ServiceName,
) -> ControlResult<&'a ServiceRecord> {
    active_cluster(state, cluster)?;
    let record = live_service(state, cluster, service).ok_or(ControlError::ServiceNotFound)?;
    if record.status != ServiceStatus::Active {
        return Err(ControlError::ServiceNotActive("Service was not ACTIVE.".to_string()));
    }
    if record.configuration.deployment_controller != DeploymentController::External {
        return Err(ControlError::InvalidParameter(
            "Amazon ECS only supports task set management on services configured to use external deployment controllers."
                .to_string(),
        ));
    }
    Ok(record)
}

/// The planner's targets for an EXTERNAL service: every task set at its computed count
/// (DRAINING ones at zero; a DRAINING service at zero throughout).
pub(crate) fn targets(record: &ServiceRecord) -> Vec<TaskSetTarget> {
    let desired = if record.status == ServiceStatus::Draining { 0 } else { record.configuration.desired_count };
    record
        .task_sets
        .iter()
        .map(|set| TaskSetTarget {
            id: set.id.clone(),
            task_definition: set.task_definition.clone(),
            desired_count: set.computed_desired_count(desired),
        })
        .collect()
}

/// Stores a pass's counts and stability on the task sets; a DRAINING set whose tasks have all
/// stopped is removed. Returns whether anything changed.
pub(crate) fn record_pass(record: &mut ServiceRecord, progress: &[TaskSetProgress], now: Timestamp) -> bool {
    let mut changed = false;
    for set in &mut record.task_sets {
        let Some(seen) = progress.iter().find(|seen| seen.id == set.id) else { continue };
        if (set.running_count, set.pending_count) != (seen.running_count, seen.pending_count) {
            set.running_count = seen.running_count;
            set.pending_count = seen.pending_count;
            changed = true;
        }
        if set.steady != seen.steady {
            set.steady = seen.steady;
            set.stability_status_at = now;
            changed = true;
        }
    }
    let before = record.task_sets.len();
    record.task_sets.retain(|set| {
        set.status != TaskSetStatus::Draining
            || progress.iter().find(|seen| seen.id == set.id).is_none_or(|seen| seen.occupying > 0)
    });
    changed || record.task_sets.len() != before
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task_set(scale_percent: f64) -> TaskSetRecord {
        TaskSetRecord {
            id: DeploymentId::parse("ecs-svc/1234567890123456789").expect("valid"),
            external_id: None,
            task_definition: TaskDefinitionKey {
                family: berth_types::TaskDefinitionFamily::parse("web").expect("valid"),
                revision: 1,
            },
            launch_type: None,
            capacity_provider_strategy: vec![],
            scale_percent,
            status: TaskSetStatus::Active,
            running_count: 0,
            pending_count: 0,
            steady: false,
            stability_status_at: Timestamp(0),
            tags: vec![],
            created_at: Timestamp(0),
            updated_at: Timestamp(0),
            client_token: None,
        }
    }

    #[test]
    fn computed_desired_count_rounds_up_as_ecs_does() {
        assert_eq!(task_set(50.0).computed_desired_count(3), 2);
        assert_eq!(task_set(10.0).computed_desired_count(10), 1);
        assert_eq!(task_set(40.0).computed_desired_count(3), 2);
        assert_eq!(task_set(100.0).computed_desired_count(4), 4);
        assert_eq!(task_set(0.0).computed_desired_count(4), 0);
        assert_eq!(task_set(0.1).computed_desired_count(4), 1);
        assert_eq!(task_set(33.3333).computed_desired_count(3), 1);
        let mut draining = task_set(100.0);
        draining.status = TaskSetStatus::Draining;
        assert_eq!(draining.computed_desired_count(4), 0);
    }
}
