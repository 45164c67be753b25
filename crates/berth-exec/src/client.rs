//! `berth exec` and `berth exec-sessions list`, as a library: call ExecuteCommand on the ECS
//! endpoint, attach to the returned stream with the session token, pass standard input, output
//! and the terminal through, and give back the command's exit code.
//!
//! Invariant: the local terminal is restored however the session ends (the raw-mode guard
//! lives exactly as long as the session), and an ECS error is printed in the aws CLI's words.

use crate::frame::{read_frame, write_frame, Frame};
use crate::terminal::{self, RawMode};
use crate::upgrade;
use berth_ecs_wire::{ErrorBody, ExecuteCommandRequest, ExecuteCommandResponse, TARGET_PREFIX};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

/// What `berth exec` was asked to do.
#[derive(Debug, Clone)]
pub struct ExecOptions {
    /// The Berth endpoint, e.g. `http://127.0.0.1:23784`.
    pub server: String,
    pub cluster: String,
    pub task: String,
    pub container: Option<String>,
    /// With a TTY (and raw mode when standard input is a terminal).
    pub interactive: bool,
    pub command: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// The ECS endpoint refused ExecuteCommand.
    #[error("An error occurred ({error_type}) when calling the ExecuteCommand operation: {message}")]
    Refused { error_type: String, message: String },
    #[error("cannot reach the Berth endpoint: {0}")]
    Http(String),
    #[error(transparent)]
    Dial(#[from] upgrade::DialError),
    #[error("the session failed: {0}")]
    Session(String),
    #[error("the session stream broke: {0}")]
    Io(#[from] std::io::Error),
}

fn http_client() -> Result<reqwest::Client, ExecError> {
    reqwest::Client::builder().no_proxy().tcp_nodelay(true).build().map_err(|error| ExecError::Http(error.to_string()))
}

/// The `Authorization` header Berth reads the caller's access key ID from. Berth does not check
/// signatures yet, so the client names the key from the environment without signing.
fn authorization() -> Option<String> {
    let key = std::env::var("AWS_ACCESS_KEY_ID").ok().filter(|key| !key.is_empty())?;
    let region = std::env::var("AWS_DEFAULT_REGION").unwrap_or_else(|_| "us-east-1".to_string());
    Some(format!("AWS4-HMAC-SHA256 Credential={key}/19700101/{region}/ecs/aws4_request, SignedHeaders=host"))
}

/// Calls ExecuteCommand; the session's stream URL and token.
pub async fn execute_command(options: &ExecOptions) -> Result<ExecuteCommandResponse, ExecError> {
    let request = ExecuteCommandRequest {
        cluster: Some(options.cluster.clone()),
        container: options.container.clone(),
        command: Some(crate::command_words::join(&options.command)),
        interactive: Some(options.interactive),
        task: Some(options.task.clone()),
    };
    let mut call = http_client()?
        .post(format!("{}/", options.server.trim_end_matches('/')))
        .header("Content-Type", "application/x-amz-json-1.1")
        .header("X-Amz-Target", format!("{TARGET_PREFIX}ExecuteCommand"))
        .json(&request);
    if let Some(authorization) = authorization() {
        call = call.header("Authorization", authorization);
    }
    let response = call.send().await.map_err(|error| ExecError::Http(error.to_string()))?;
    let status = response.status();
    let body = response.bytes().await.map_err(|error| ExecError::Http(error.to_string()))?;
    if !status.is_success() {
        return Err(match serde_json::from_slice::<ErrorBody>(&body) {
            Ok(error) => ExecError::Refused {
                error_type: error.error_type.rsplit('#').next().unwrap_or_default().to_string(),
                message: error.message,
            },
            Err(_) => ExecError::Http(format!("{status}: {}", String::from_utf8_lossy(&body))),
        });
    }
    serde_json::from_slice(&body)
        .map_err(|error| ExecError::Http(format!("undecodable ExecuteCommand answer: {error}")))
}

/// Runs the whole `berth exec`; the command's exit code.
pub async fn run(options: ExecOptions) -> Result<i64, ExecError> {
    let answer = execute_command(&options).await?;
    let session = answer.session.ok_or_else(|| ExecError::Session("ExecuteCommand returned no session".into()))?;
    let (Some(url), Some(token)) = (session.stream_url, session.token_value) else {
        return Err(ExecError::Session("the session has no stream URL or token".into()));
    };
    attach(&url, &token, options.interactive).await
}

/// Attaches to a session stream and runs it to its end.
pub async fn attach(url: &str, token: &str, interactive: bool) -> Result<i64, ExecError> {
    let stream = upgrade::dial(url, token).await?;
    let (mut reader, mut writer) = tokio::io::split(stream);
    let raw_terminal = interactive && terminal::stdin_is_terminal();
    let (rows, columns) = if interactive { terminal::window_size().unwrap_or((24, 80)) } else { (0, 0) };
    write_frame(&mut writer, &Frame::Start { rows, columns }).await?;
    // Raw only once the session is up, so that an early failure leaves the terminal alone.
    let raw_mode = if raw_terminal { Some(RawMode::enter()?) } else { None };
    let (outgoing, mut to_send) = mpsc::channel::<Frame>(64);
    tokio::spawn(async move {
        while let Some(frame) = to_send.recv().await {
            if write_frame(&mut writer, &frame).await.is_err() {
                break;
            }
        }
    });
    tokio::spawn(pump_stdin(outgoing.clone()));
    if raw_terminal {
        tokio::spawn(pump_resizes(outgoing.clone()));
    }
    drop(outgoing);
    let mut stdout = tokio::io::stdout();
    let mut stderr = tokio::io::stderr();
    let outcome = loop {
        match read_frame(&mut reader).await {
            Ok(Some(Frame::Stdout(bytes))) => {
                stdout.write_all(&bytes).await?;
                stdout.flush().await?;
            }
            Ok(Some(Frame::Stderr(bytes))) => {
                stderr.write_all(&bytes).await?;
                stderr.flush().await?;
            }
            Ok(Some(Frame::Exit(code))) => break Ok(code),
            Ok(Some(Frame::Error(message))) => break Err(ExecError::Session(message)),
            Ok(Some(_)) => {}
            Ok(None) => break Err(ExecError::Session("the server closed the stream before the command ended".into())),
            Err(error) => break Err(ExecError::Io(error)),
        }
    };
    drop(raw_mode);
    outcome
}

async fn pump_stdin(outgoing: mpsc::Sender<Frame>) {
    let mut stdin = tokio::io::stdin();
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        match stdin.read(&mut buffer).await {
            Ok(0) | Err(_) => {
                let _ = outgoing.send(Frame::StdinClosed).await;
                return;
            }
            Ok(read) => {
                if outgoing.send(Frame::Stdin(buffer[..read].to_vec())).await.is_err() {
                    return;
                }
            }
        }
    }
}

async fn pump_resizes(outgoing: mpsc::Sender<Frame>) {
    use tokio::signal::unix::{signal, SignalKind};
    let Ok(mut resized) = signal(SignalKind::window_change()) else {
        return;
    };
    while resized.recv().await.is_some() {
        if let Some((rows, columns)) = terminal::window_size() {
            if outgoing.send(Frame::Resize { rows, columns }).await.is_err() {
                return;
            }
        }
    }
}

/// `berth exec-sessions list`: the server's recorded sessions, oldest first, as a table.
pub async fn list_sessions(server: &str) -> Result<String, ExecError> {
    let response = http_client()?
        .get(format!("{}/exec/v1/sessions", server.trim_end_matches('/')))
        .send()
        .await
        .map_err(|error| ExecError::Http(error.to_string()))?;
    let status = response.status();
    let body = response.text().await.map_err(|error| ExecError::Http(error.to_string()))?;
    if !status.is_success() {
        return Err(ExecError::Http(format!("{status}: {body}")));
    }
    let listing: serde_json::Value =
        serde_json::from_str(&body).map_err(|error| ExecError::Http(format!("undecodable listing: {error}")))?;
    let mut table = String::from("SESSION\tSTATUS\tEXIT\tPRINCIPAL\tSTARTED\tENDED\tTASK\tCONTAINER\tCOMMAND\n");
    for session in listing["sessions"].as_array().into_iter().flatten() {
        let text = |field: &str| match &session[field] {
            serde_json::Value::Null => "-".to_string(),
            serde_json::Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        let row = [
            "sessionId",
            "status",
            "exitCode",
            "principal",
            "startedAt",
            "endedAt",
            "taskArn",
            "containerName",
            "command",
        ]
        .map(text);
        table.push_str(&row.join("\t"));
        table.push('\n');
    }
    Ok(table)
}
