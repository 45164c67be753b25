//! Maps bollard's errors to the agent's [`RuntimeError`], keeping Docker's own message: the
//! agent quotes it in ECS reasons such as `CannotPullContainerError: …`.

use berth_agent::runtime::RuntimeError;
use bollard::errors::Error;

pub fn map_error(operation: &'static str, error: Error) -> RuntimeError {
    map_error_as(operation, "resource", error)
}

/// Like [`map_error`], naming what a 404 did not find.
pub fn map_error_as(operation: &'static str, what: &str, error: Error) -> RuntimeError {
    match error {
        Error::DockerResponseServerError { status_code: 404, message } => {
            RuntimeError::NotFound { what: what.to_string(), message }
        }
        Error::DockerResponseServerError { message, .. } => RuntimeError::Failed { operation, message },
        Error::DockerStreamError { error } => RuntimeError::Failed { operation, message: error },
        Error::JsonDataError { message, .. } => RuntimeError::Failed { operation, message },
        other => RuntimeError::Unavailable { operation, message: other.to_string() },
    }
}
