//! ECS Exec on the agent: long-poll the server for this instance's sessions and serve each one
//! — attach to its stream, wait for the client's `Start`, run the command through the runtime's
//! exec, relay input, output and resizes, and end with the exit code.
//!
//! Invariant: the agent execs only into a container that carries its own identity and the
//! ticket's task and container name (checked by inspecting it, not by trusting the ticket), and
//! nothing runs before the client attached (the server sends `Start` only then).

use crate::backoff::Backoff;
use crate::client::ServerClient;
use crate::runtime::{ContainerRunState, ContainerRuntime, ExecOutput, ExecRequest};
use berth_agent_protocol::labels;
use berth_exec::frame::{read_frame, write_frame, Frame};
use berth_exec::ticket::ExecTicket;
use futures_util::StreamExt;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::sync::watch;

/// Output is cut into frames of at most this many bytes.
const OUTPUT_CHUNK: usize = 64 * 1024;
/// How long the agent looks for an exec's exit code after its output ended.
const EXIT_CODE_ATTEMPTS: u32 = 200;
const EXIT_CODE_INTERVAL: Duration = Duration::from_millis(10);

/// Serves exec sessions for as long as the agent runs, following (re)registrations.
pub(crate) async fn serve(
    client: ServerClient,
    mut session: watch::Receiver<Option<String>>,
    runtime: Arc<dyn ContainerRuntime>,
    identity: String,
) {
    let mut backoff = Backoff::new();
    loop {
        let Some(instance_id) = session.borrow_and_update().clone() else {
            if session.changed().await.is_err() {
                return;
            }
            continue;
        };
        match client.poll_exec_tickets(&instance_id).await {
            Ok(tickets) => {
                backoff.reset();
                for ticket in tickets.sessions {
                    let url = client.exec_stream_url(&instance_id, &ticket.session_id);
                    tokio::spawn(serve_session(url, Arc::clone(&runtime), identity.clone(), ticket));
                }
            }
            Err(error) => {
                tracing::debug!(%error, "exec session poll failed; retrying");
                tokio::time::sleep(backoff.next_delay()).await;
            }
        }
    }
}

/// Why this agent will not exec into the ticket's container, if it will not.
async fn refuse_reason(runtime: &dyn ContainerRuntime, identity: &str, ticket: &ExecTicket) -> Option<String> {
    let info = match runtime.inspect_container(&ticket.container_runtime_id).await {
        Ok(info) => info,
        Err(error) => return Some(format!("the container cannot be inspected: {}", error.message())),
    };
    let label = |name: &str| info.labels.get(name).map(String::as_str);
    let own = label(labels::CONTAINER_INSTANCE) == Some(identity)
        && label(labels::TASK_ARN) == Some(ticket.task_arn.as_str())
        && label(labels::CONTAINER_NAME) == Some(ticket.container_name.as_str());
    if !own {
        return Some("the container is not one of this agent's containers of that task".to_string());
    }
    (info.state != ContainerRunState::Running).then(|| format!("container {} is not running", ticket.container_name))
}

async fn serve_session(url: String, runtime: Arc<dyn ContainerRuntime>, identity: String, ticket: ExecTicket) {
    let session_id = ticket.session_id.clone();
    if let Err(error) = relay(&url, runtime, &identity, ticket).await {
        tracing::warn!(session = %session_id, %error, "exec session ended with an error");
    }
}

async fn relay(
    url: &str,
    runtime: Arc<dyn ContainerRuntime>,
    identity: &str,
    ticket: ExecTicket,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let stream = berth_exec::upgrade::dial(url, &ticket.agent_token).await?;
    let (mut from_server, mut to_server) = tokio::io::split(stream);
    if let Some(reason) = refuse_reason(runtime.as_ref(), identity, &ticket).await {
        write_frame(&mut to_server, &Frame::Error(reason)).await?;
        return Ok(());
    }
    // The server forwards the client's Start only once the client is attached.
    let (rows, columns) = match read_frame(&mut from_server).await? {
        Some(Frame::Start { rows, columns }) => (rows, columns),
        _ => return Ok(()),
    };
    let request = ExecRequest {
        container_id: ticket.container_runtime_id.clone(),
        command: ticket.command.clone(),
        tty: ticket.interactive,
    };
    let mut exec = match runtime.start_exec(&request).await {
        Ok(exec) => exec,
        Err(error) => {
            write_frame(&mut to_server, &Frame::Error(format!("the command could not start: {}", error.message())))
                .await?;
            return Ok(());
        }
    };
    if ticket.interactive && rows > 0 && columns > 0 {
        let _ = runtime.resize_exec(&exec.exec_id, rows, columns).await;
    }
    let exec_id = exec.exec_id.clone();
    let mut input = exec.input;
    let input_runtime = Arc::clone(&runtime);
    let input_exec_id = exec_id.clone();
    // Input, resizes and the server's hang-up; it ends only when the server's side closes.
    let mut inbound = tokio::spawn(async move {
        while let Ok(Some(frame)) = read_frame(&mut from_server).await {
            match frame {
                Frame::Stdin(bytes) => {
                    // A failed write means the command closed its input; resizes still matter.
                    let written = input.write_all(&bytes).await;
                    let _ = written.and(input.flush().await);
                }
                Frame::StdinClosed => {
                    let _ = input.shutdown().await;
                }
                Frame::Resize { rows, columns } => {
                    let _ = input_runtime.resize_exec(&input_exec_id, rows, columns).await;
                }
                _ => {}
            }
        }
    });
    loop {
        tokio::select! {
            output = exec.output.next() => match output {
                Some(Ok(ExecOutput::Stdout(bytes))) => send_output(&mut to_server, bytes, Frame::Stdout).await?,
                Some(Ok(ExecOutput::Stderr(bytes))) => send_output(&mut to_server, bytes, Frame::Stderr).await?,
                Some(Err(error)) => {
                    inbound.abort();
                    write_frame(&mut to_server, &Frame::Error(format!("the command's output broke: {}", error.message()))).await?;
                    return Ok(());
                }
                None => break,
            },
            _ = &mut inbound => {
                // The server hung up (the client left): let the command go.
                return Ok(());
            }
        }
    }
    inbound.abort();
    let frame = match exit_code(runtime.as_ref(), &exec_id).await {
        Some(code) => Frame::Exit(code),
        None => Frame::Error("the command's exit code could not be read".to_string()),
    };
    write_frame(&mut to_server, &frame).await?;
    let _ = to_server.shutdown().await;
    Ok(())
}

async fn send_output<W: tokio::io::AsyncWrite + Unpin>(
    to_server: &mut W,
    bytes: Vec<u8>,
    frame: fn(Vec<u8>) -> Frame,
) -> std::io::Result<()> {
    for chunk in bytes.chunks(OUTPUT_CHUNK) {
        write_frame(to_server, &frame(chunk.to_vec())).await?;
    }
    Ok(())
}

/// The exit code once the runtime has it; its output can end a moment before it does.
async fn exit_code(runtime: &dyn ContainerRuntime, exec_id: &str) -> Option<i64> {
    for _ in 0..EXIT_CODE_ATTEMPTS {
        match runtime.exec_exit_code(exec_id).await {
            Ok(Some(code)) => return Some(code),
            Ok(None) => tokio::time::sleep(EXIT_CODE_INTERVAL).await,
            Err(_) => return None,
        }
    }
    None
}
