//! The one place where every failure becomes the AWS error shape: `{"__type", "message"}` with
//! an HTTP status. Client faults are 400; only a storage failure is a 500 (`ServerException`).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use berth_control::ControlError;
use berth_ecs_convert::{ValidationError, ValidationErrorKind};
use berth_ecs_wire::{DecodeError, ErrorBody};
use berth_types::{ArnError, IdError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub error_type: &'static str,
    pub message: String,
    pub resource_ids: Option<Vec<String>>,
}

impl ApiError {
    fn client(error_type: &'static str, message: impl Into<String>) -> Self {
        ApiError { status: StatusCode::BAD_REQUEST, error_type, message: message.into(), resource_ids: None }
    }

    pub fn invalid_parameter(message: impl Into<String>) -> Self {
        Self::client("InvalidParameterException", message)
    }

    pub fn client_exception(message: impl Into<String>) -> Self {
        Self::client("ClientException", message)
    }

    pub fn unknown_operation(target: &str) -> Self {
        Self::client("UnknownOperationException", format!("Unknown operation: {target}"))
    }

    pub fn serialization(message: impl Into<String>) -> Self {
        Self::client("SerializationException", message)
    }
}

impl From<ControlError> for ApiError {
    fn from(error: ControlError) -> Self {
        let message = error.to_string();
        match error {
            ControlError::ClusterNotFound => Self::client("ClusterNotFoundException", message),
            ControlError::InvalidParameter(_) => Self::invalid_parameter(message),
            ControlError::Client(_) => Self::client_exception(message),
            ControlError::ClusterContainsContainerInstances => {
                Self::client("ClusterContainsContainerInstancesException", message)
            }
            ControlError::ClusterContainsTasks => Self::client("ClusterContainsTasksException", message),
            ControlError::Conflict { resource_ids, .. } => {
                ApiError { resource_ids: Some(resource_ids), ..Self::client("ConflictException", message) }
            }
            ControlError::ResourceNotFound => Self::client("ResourceNotFoundException", message),
            ControlError::TargetNotFound(_) => Self::client("TargetNotFoundException", message),
            ControlError::AttributeLimitExceeded(_) => Self::client("AttributeLimitExceededException", message),
            ControlError::ResourceInUse(_) => Self::client("ResourceInUseException", message),
            ControlError::ServiceNotFound => Self::client("ServiceNotFoundException", message),
            ControlError::ServiceNotActive(_) => Self::client("ServiceNotActiveException", message),
            ControlError::ServiceDeploymentNotFound => Self::client("ServiceDeploymentNotFoundException", message),
            ControlError::TaskSetNotFound => Self::client("TaskSetNotFoundException", message),
            ControlError::LimitExceeded(_) => Self::client("LimitExceededException", message),
            ControlError::ClusterContainsServices => Self::client("ClusterContainsServicesException", message),
            ControlError::TargetNotConnected(_) => Self::client("TargetNotConnectedException", message),
            ControlError::DaemonNotFound => Self::client("DaemonNotFoundException", message),
            ControlError::DaemonNotActive(_) => Self::client("DaemonNotActiveException", message),
            ControlError::GatewayNotFound => Self::client("GatewayNotFoundException", message),
            // Only ELBv2's operations fail this way; should one reach ECS, it is still the
            // caller's fault.
            ControlError::Elb(error) => Self::invalid_parameter(error.message),
            ControlError::Acm(error) => Self::invalid_parameter(error.message),
            ControlError::Logs(error) => Self::invalid_parameter(error.message),
            ControlError::Metrics(error) => Self::invalid_parameter(error.message),
            ControlError::Events(error) => Self::invalid_parameter(error.message),
            ControlError::AutoScaling(error) => Self::invalid_parameter(error.message),
            ControlError::Scheduler(error) => Self::invalid_parameter(error.message),
            ControlError::Store(store_error) => {
                tracing::error!(error = %store_error, "storage failure while serving a request");
                ApiError {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    error_type: "ServerException",
                    message: "The server could not complete the request; it was not applied.".to_string(),
                    resource_ids: None,
                }
            }
        }
    }
}

impl From<DecodeError> for ApiError {
    fn from(error: DecodeError) -> Self {
        if error.message.starts_with("Request body is not valid JSON") {
            Self::serialization(error.message)
        } else {
            Self::invalid_parameter(error.message)
        }
    }
}

impl From<ValidationError> for ApiError {
    fn from(error: ValidationError) -> Self {
        match error.kind {
            ValidationErrorKind::InvalidParameter => Self::invalid_parameter(error.message),
            ValidationErrorKind::Client => Self::client_exception(error.message),
        }
    }
}

impl From<IdError> for ApiError {
    fn from(error: IdError) -> Self {
        Self::invalid_parameter(error.to_string())
    }
}

impl From<ArnError> for ApiError {
    fn from(error: ArnError) -> Self {
        Self::invalid_parameter(error.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error_type: self.error_type.to_string(),
            message: self.message,
            resource_ids: self.resource_ids,
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        response.headers_mut().insert(
            axum::http::header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static("application/x-amz-json-1.1"),
        );
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
