//! ExecuteCommand: parse, let the control plane check and record the session, offer it to the
//! broker, answer with the stream URL and a fresh token.

use crate::error::{ApiError, ApiResult};
use crate::{caller, parse, Api};
use berth_control::exec_sessions::{BeginExecSession, ExecSessionEnd};
use berth_ecs_wire as wire;
use berth_exec::ticket::ExecTicket;
use berth_types::Arn;
use std::time::Duration;

/// A token not used within this long expires with its session.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(60);
/// ECS caps `command` at this many characters.
const MAX_COMMAND_LENGTH: usize = 4096;

fn random_secret() -> String {
    let bytes: [u8; 32] = rand::random();
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

pub async fn execute_command(
    api: &Api,
    request: wire::ExecuteCommandRequest,
) -> ApiResult<wire::ExecuteCommandResponse> {
    let context = api.context();
    let cluster = parse::cluster(request.cluster.as_ref(), context)?;
    let task = parse::task(request.task.as_deref().unwrap_or_default(), &cluster, context, "task")?;
    let command = request.command.unwrap_or_default();
    if command.len() > MAX_COMMAND_LENGTH {
        return Err(ApiError::invalid_parameter(format!("command: must be at most {MAX_COMMAND_LENGTH} characters")));
    }
    let argv = berth_exec::command_words::split(&command)
        .map_err(|error| ApiError::invalid_parameter(format!("command: {error}")))?;
    if let Some(container) = &request.container {
        if container.is_empty() || container.len() > 255 {
            return Err(ApiError::invalid_parameter("container: must be 1 to 255 characters"));
        }
    }
    // Berth runs `interactive: false` too (without a TTY); AWS accepts only true.
    let interactive = request.interactive.unwrap_or(true);
    let caller = caller::current();
    let Some(host) = caller.host.clone() else {
        return Err(ApiError::invalid_parameter("the request has no Host header to build the stream URL from"));
    };
    let record = api
        .control
        .begin_exec_session(BeginExecSession {
            cluster: cluster.clone(),
            task: task.clone(),
            container: request.container.clone(),
            command,
            interactive,
            principal: caller.principal,
        })
        .await?;
    let task_arn = Arn::Task(cluster.clone(), task.clone()).render(context);
    let client_token = random_secret();
    let ticket = ExecTicket {
        session_id: record.id.clone(),
        task_arn: task_arn.clone(),
        container_name: record.container_name.clone(),
        container_runtime_id: record.container_runtime_id.clone(),
        command: argv,
        interactive,
        agent_token: random_secret(),
    };
    api.exec.offer(record.container_instance.clone(), ticket, client_token.clone());
    let (broker, control, id) =
        (std::sync::Arc::clone(&api.exec), std::sync::Arc::clone(&api.control), record.id.clone());
    tokio::spawn(async move {
        tokio::time::sleep(TOKEN_LIFETIME).await;
        if broker.expire(&id) {
            if let Err(error) = control.end_exec_session(&id, ExecSessionEnd::Expired).await {
                tracing::warn!(session = %id, %error, "cannot record an exec session's expiry");
            }
        }
    });
    Ok(wire::ExecuteCommandResponse {
        cluster_arn: Some(Arn::Cluster(cluster.clone()).render(context)),
        container_arn: Some(format!(
            "arn:aws:ecs:{}:{}:container/{}/{}/{}",
            context.region, context.account, cluster, task, record.container_name
        )),
        container_name: Some(record.container_name.clone()),
        interactive: Some(interactive),
        session: Some(wire::Session {
            session_id: Some(record.id.clone()),
            stream_url: Some(format!("http://{host}/exec/v1/sessions/{}", record.id)),
            token_value: Some(client_token),
        }),
        task_arn: Some(task_arn),
    })
}
