//! The control plane's firing loop runs a schedule's tasks through here: the stored target
//! becomes a RunTask request (`target::run_task_request`) with the firing's client token and
//! `startedBy`, served by the same RunTask operation users call, so placement, overrides,
//! tags and idempotency are RunTask's own.

use super::target;
use crate::Api;
use berth_control::schedules::firing::{RunAnswer, RunRefusal, ScheduledRun, ScheduledRunTask};
use berth_control::ControlPlane;
use std::sync::Arc;

pub struct RunTaskLauncher {
    api: Api,
}

/// The launcher the binary hands to `berth_control::schedules::firing::run_schedule_firing`.
pub fn scheduled_run_task(control: Arc<ControlPlane>) -> Arc<dyn ScheduledRunTask> {
    let telemetry = crate::metrics::Telemetry::new(&control);
    let api = Api { control, task_cache: Default::default(), exec: Arc::default(), telemetry };
    Arc::new(RunTaskLauncher { api })
}

#[async_trait::async_trait]
impl ScheduledRunTask for RunTaskLauncher {
    async fn run_task(&self, run: ScheduledRun) -> Result<RunAnswer, RunRefusal> {
        let target: berth_eventbridge_scheduler_wire::Target = serde_json::from_value(run.target_document)
            .map_err(|error| RunRefusal::Retry(format!("the stored target cannot be read: {error}")))?;
        let request = target::run_task_request(&target, &run.client_token, &run.started_by)
            .map_err(|error| RunRefusal::Retry(error.message))?;
        match crate::operations::tasks::run_task(&self.api, request).await {
            Ok(response) => Ok(RunAnswer {
                task_arns: response.tasks.unwrap_or_default().into_iter().filter_map(|task| task.task_arn).collect(),
                failures: response
                    .failures
                    .unwrap_or_default()
                    .into_iter()
                    .map(|failure| failure.reason.unwrap_or_default())
                    .collect(),
            }),
            Err(error) if error.error_type == "ConflictException" => Err(RunRefusal::AlreadyRan(error.message)),
            Err(error) => Err(RunRefusal::Retry(format!("{}: {}", error.error_type, error.message))),
        }
    }
}
