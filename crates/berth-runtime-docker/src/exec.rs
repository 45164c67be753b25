//! Docker's exec API behind the runtime's exec methods: create and start an attached exec
//! (`TERM=xterm` with a TTY, as `docker exec -t` sets it), resize it, read its exit code.
//!
//! Invariant: output is passed on as Docker demultiplexed it (stdout and stderr apart without a
//! TTY; one console stream with one), never reinterpreted.

use crate::error::map_error;
use berth_agent::runtime::{ExecOutput, ExecRequest, ExecStreams, RuntimeError};
use bollard::container::LogOutput;
use bollard::exec::{CreateExecOptions, ResizeExecOptions, StartExecOptions, StartExecResults};
use bollard::Docker;
use futures_util::StreamExt;

pub(crate) async fn start(docker: &Docker, request: &ExecRequest) -> Result<ExecStreams, RuntimeError> {
    let options = CreateExecOptions::<String> {
        attach_stdin: Some(true),
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        tty: Some(request.tty),
        env: request.tty.then(|| vec!["TERM=xterm".to_string()]),
        cmd: Some(request.command.clone()),
        ..Default::default()
    };
    let created =
        docker.create_exec(&request.container_id, options).await.map_err(|error| map_error("create exec", error))?;
    let started = docker
        .start_exec(&created.id, Some(StartExecOptions { detach: false, tty: request.tty, output_capacity: None }))
        .await
        .map_err(|error| map_error("start exec", error))?;
    match started {
        StartExecResults::Attached { output, input } => Ok(ExecStreams {
            exec_id: created.id,
            input,
            output: output
                .map(|item| match item {
                    Ok(LogOutput::StdErr { message }) => Ok(ExecOutput::Stderr(message.to_vec())),
                    Ok(
                        LogOutput::StdOut { message } | LogOutput::Console { message } | LogOutput::StdIn { message },
                    ) => Ok(ExecOutput::Stdout(message.to_vec())),
                    Err(error) => Err(map_error("exec output", error)),
                })
                .boxed(),
        }),
        StartExecResults::Detached => {
            Err(RuntimeError::Failed { operation: "start exec", message: "Docker started the exec detached".into() })
        }
    }
}

pub(crate) async fn resize(docker: &Docker, exec_id: &str, rows: u16, columns: u16) -> Result<(), RuntimeError> {
    docker
        .resize_exec(exec_id, ResizeExecOptions { height: rows, width: columns })
        .await
        .map_err(|error| map_error("resize exec", error))
}

pub(crate) async fn exit_code(docker: &Docker, exec_id: &str) -> Result<Option<i64>, RuntimeError> {
    let inspected = docker.inspect_exec(exec_id).await.map_err(|error| map_error("inspect exec", error))?;
    Ok(if inspected.running == Some(true) { None } else { inspected.exit_code })
}
