//! UpdateTaskProtection and GetTaskProtection: the request limits (at most 10 tasks to update,
//! 100 to get; `expiresInMinutes` from 1 to 2880, 120 when absent) and the answer, one
//! `protectedTasks` entry per valid task and one failure per other.

use crate::error::{ApiError, ApiResult};
use crate::{parse, render, Api};
use berth_control::task_protection::{ProtectionAnswer, DEFAULT_PROTECTION};
use berth_ecs_wire as wire;
use berth_types::{Arn, ArnContext, ClusterName, TaskId};
use std::time::Duration;

/// ECS's longest protection: 48 hours.
const MAXIMUM_PROTECTION_MINUTES: i32 = 2880;

fn task_ids(references: &[String], cluster: &ClusterName, context: &ArnContext) -> ApiResult<Vec<TaskId>> {
    references
        .iter()
        .enumerate()
        .map(|(index, reference)| parse::task(reference, cluster, context, &format!("tasks[{index}]")))
        .collect()
}

/// The protection period asked for: `None` disables protection.
pub fn protection_period(enabled: bool, expires_in_minutes: Option<i32>) -> ApiResult<Option<Duration>> {
    if let Some(minutes) = expires_in_minutes {
        if !(1..=MAXIMUM_PROTECTION_MINUTES).contains(&minutes) {
            return Err(ApiError::invalid_parameter(format!(
                "expiresInMinutes: must be between 1 and {MAXIMUM_PROTECTION_MINUTES} minutes, got {minutes}"
            )));
        }
    }
    if !enabled {
        return Ok(None);
    }
    Ok(Some(expires_in_minutes.map_or(DEFAULT_PROTECTION, |minutes| Duration::from_secs(minutes as u64 * 60))))
}

fn render_answer(
    answer: &ProtectionAnswer,
    cluster: &ClusterName,
    context: &ArnContext,
) -> (Vec<wire::ProtectedTask>, Vec<wire::Failure>) {
    let task_arn = |id: &TaskId| Arn::Task(cluster.clone(), id.clone()).render(context);
    let protected = answer
        .protected_tasks
        .iter()
        .map(|protection| wire::ProtectedTask {
            task_arn: Some(task_arn(&protection.task)),
            protection_enabled: Some(protection.enabled),
            expiration_date: protection.expires_at.map(|at| at.as_epoch_seconds()),
        })
        .collect();
    let failures = answer
        .failures
        .iter()
        .map(|(id, reason)| wire::Failure {
            detail: reason.detail().map(str::to_string),
            ..render::failure(Some(task_arn(id)), reason.reason())
        })
        .collect();
    (protected, failures)
}

pub async fn update_task_protection(
    api: &Api,
    request: wire::UpdateTaskProtectionRequest,
) -> ApiResult<wire::UpdateTaskProtectionResponse> {
    let context = api.context();
    let cluster = parse::cluster(request.cluster.as_ref(), context)?;
    let references = parse::bounded(request.tasks.as_ref(), 10, "tasks", true)?;
    let ids = task_ids(references, &cluster, context)?;
    let period = protection_period(request.protection_enabled.unwrap_or(false), request.expires_in_minutes)?;
    let answer = api.control.update_task_protection(&cluster, &ids, period).await?;
    let (protected, failures) = render_answer(&answer, &cluster, context);
    Ok(wire::UpdateTaskProtectionResponse { protected_tasks: Some(protected), failures: Some(failures) })
}

pub async fn get_task_protection(
    api: &Api,
    request: wire::GetTaskProtectionRequest,
) -> ApiResult<wire::GetTaskProtectionResponse> {
    let context = api.context();
    let cluster = parse::cluster(request.cluster.as_ref(), context)?;
    let ids = match request.tasks.as_ref() {
        None => None,
        Some(_) => Some(task_ids(parse::bounded(request.tasks.as_ref(), 100, "tasks", true)?, &cluster, context)?),
    };
    let answer = api.control.get_task_protection(&cluster, ids.as_deref())?;
    let (protected, failures) = render_answer(&answer, &cluster, context);
    Ok(wire::GetTaskProtectionResponse { protected_tasks: Some(protected), failures: Some(failures) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protection_periods_follow_ecs_limits() {
        assert_eq!(protection_period(true, None).unwrap(), Some(Duration::from_secs(7200)));
        assert_eq!(protection_period(true, Some(1)).unwrap(), Some(Duration::from_secs(60)));
        assert_eq!(protection_period(true, Some(2880)).unwrap(), Some(Duration::from_secs(2880 * 60)));
        assert_eq!(protection_period(false, None).unwrap(), None);
        for bad in [0, -5, 2881] {
            let error = protection_period(true, Some(bad)).unwrap_err();
            assert_eq!(error.error_type, "InvalidParameterException");
            assert!(error.message.contains("expiresInMinutes"), "{}", error.message);
        }
    }
}
