//! One session's relay, run once its client has attached: wait (bounded) for the agent's
//! stream, then carry frames client → agent and agent → client until the agent reports the
//! command's end, and record that end.
//!
//! Invariant: every relay ends the session's record exactly once (exit code or failure), and
//! forgets the session in the broker.

use super::broker::SessionStream;
use crate::Api;
use berth_control::exec_sessions::ExecSessionEnd;
use berth_exec::frame::{read_frame, write_frame, Frame};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::sync::oneshot;

/// How long an attached client waits for the task's agent to attach.
const AGENT_ARRIVAL: Duration = Duration::from_secs(30);

/// Ends a session that never got to relay anything.
pub(super) async fn abandon(api: &Api, id: &str, reason: String) {
    api.exec.finish(id);
    if let Err(error) = api.control.end_exec_session(id, ExecSessionEnd::Failed(reason)).await {
        tracing::warn!(session = %id, %error, "cannot record an exec session's end");
    }
}

pub(super) async fn run(
    api: Arc<Api>,
    id: String,
    mut client: SessionStream,
    agent_arrival: oneshot::Receiver<SessionStream>,
) {
    let agent = match tokio::time::timeout(AGENT_ARRIVAL, agent_arrival).await {
        Ok(Ok(agent)) => agent,
        _ => {
            let reason = "the agent of the task's container instance did not attach to the session".to_string();
            let _ = write_frame(&mut client, &Frame::Error(reason.clone())).await;
            abandon(&api, &id, reason).await;
            return;
        }
    };
    let (mut client_read, mut client_write) = tokio::io::split(client);
    let (mut agent_read, mut agent_write) = tokio::io::split(agent);
    let upstream = tokio::spawn(async move {
        while let Ok(Some(frame)) = read_frame(&mut client_read).await {
            if write_frame(&mut agent_write, &frame).await.is_err() {
                break;
            }
        }
        // The client is gone: closing the agent's side tells it to let the command go.
        let _ = agent_write.shutdown().await;
    });
    let end = loop {
        match read_frame(&mut agent_read).await {
            Ok(Some(Frame::Exit(code))) => {
                let _ = write_frame(&mut client_write, &Frame::Exit(code)).await;
                break ExecSessionEnd::Exited(code);
            }
            Ok(Some(Frame::Error(message))) => {
                let _ = write_frame(&mut client_write, &Frame::Error(message.clone())).await;
                break ExecSessionEnd::Failed(message);
            }
            Ok(Some(frame)) => {
                if write_frame(&mut client_write, &frame).await.is_err() {
                    break ExecSessionEnd::Failed("the client disconnected before the command ended".to_string());
                }
            }
            Ok(None) | Err(_) => {
                let reason = "the agent's stream ended before the command did".to_string();
                let _ = write_frame(&mut client_write, &Frame::Error(reason.clone())).await;
                break ExecSessionEnd::Failed(reason);
            }
        }
    };
    let _ = client_write.shutdown().await;
    upstream.abort();
    api.exec.finish(&id);
    if let Err(error) = api.control.end_exec_session(&id, end).await {
        tracing::warn!(session = %id, %error, "cannot record an exec session's end");
    }
}
