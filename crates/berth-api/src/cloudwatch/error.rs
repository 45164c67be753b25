//! The one mapping from failures to CloudWatch's errors, in each protocol's shape: Query's
//! `<ErrorResponse>`, and for JSON 1.0 and RPC v2 CBOR a `{"__type", "message"}` document plus
//! the `x-amzn-query-error: Code;Sender|Receiver` header. The model is `awsQueryCompatible`, so
//! botocore takes the code a JSON or CBOR client sees from that header (see its
//! `_do_query_compatible_error_parse`): the same `InvalidParameterValue` or `MissingParameter`
//! a Query client reads in `<Code>`, whichever protocol the request came in.

use super::protocol::{Protocol, CBOR_CONTENT_TYPE, JSON_CONTENT_TYPE, SMITHY_PROTOCOL};
use crate::query_protocol::{self, QueryError, REQUEST_ID_HEADER};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use berth_cloudwatch_wire::{encode_cbor, DecodeErrorKind, ErrorBody, ErrorCode, XML_NAMESPACE};
use berth_query_wire::DecodeErrorKind as QueryDecodeErrorKind;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudWatchError {
    pub status: StatusCode,
    /// `__type` of a JSON or CBOR error: the model's error shape, or a protocol-level name.
    pub error_type: &'static str,
    /// The code a client reads: `<Code>` in Query, `x-amzn-query-error` in JSON and CBOR.
    pub query_code: &'static str,
    /// `Sender` (the caller's mistake) or `Receiver` (the server's failure).
    pub sender_fault: bool,
    pub message: String,
}

pub type CloudWatchResult<T> = Result<T, CloudWatchError>;

impl CloudWatchError {
    pub fn model(code: ErrorCode, message: impl Into<String>) -> Self {
        CloudWatchError {
            status: StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::BAD_REQUEST),
            error_type: code.shape_name(),
            query_code: code.code(),
            sender_fault: code.sender_fault(),
            message: message.into(),
        }
    }

    /// A client's mistake that the model has no error for: the same name in every protocol.
    fn protocol_level(code: &'static str, message: String) -> Self {
        CloudWatchError {
            status: StatusCode::BAD_REQUEST,
            error_type: code,
            query_code: code,
            sender_fault: true,
            message,
        }
    }

    /// An operation of the model that Berth does not decode at all (dashboards, metric streams,
    /// insight rules, anomaly detectors, …).
    pub fn unsupported(operation: &str) -> Self {
        Self::protocol_level(
            "InvalidAction",
            format!(
                "{operation} is not supported by this Berth version: Berth's CloudWatch reads metric data, alarms and their tags."
            ),
        )
    }

    /// A name outside the model. JSON and CBOR clients read `UnknownOperationException` in
    /// `__type`; the Query code is `InvalidAction`, as a Query service answers it.
    pub fn unknown_operation(operation: &str) -> Self {
        CloudWatchError {
            error_type: "UnknownOperationException",
            ..Self::protocol_level(
                "InvalidAction",
                format!("The action {operation} is not valid for this web service."),
            )
        }
    }

    /// A body that is not a document of its protocol, or an RPC v2 CBOR request without the
    /// protocol's headers.
    pub fn malformed(message: String) -> Self {
        Self::protocol_level("SerializationException", message)
    }

    pub fn internal() -> Self {
        Self::model(
            ErrorCode::InternalServiceFault,
            "The server hit an internal error; the request may not have been applied.",
        )
    }

    /// The error in `protocol`'s shape.
    pub fn into_response(self, protocol: Protocol, request_id: &str) -> Response {
        let content_type = match protocol {
            Protocol::Query => {
                let error = QueryError {
                    status: self.status,
                    sender_fault: self.sender_fault,
                    code: self.query_code,
                    message: &self.message,
                };
                return query_protocol::error(XML_NAMESPACE, &error, request_id);
            }
            Protocol::Cbor => CBOR_CONTENT_TYPE,
            Protocol::Json => JSON_CONTENT_TYPE,
        };
        let query_error = format!("{};{}", self.query_code, if self.sender_fault { "Sender" } else { "Receiver" });
        let body = ErrorBody { error_type: self.error_type.to_string(), message: self.message, resource_ids: None };
        let body = match protocol {
            Protocol::Cbor => encode_cbor(&body),
            _ => serde_json::to_vec(&body).expect("error bodies always serialise"),
        };
        let mut response = (
            self.status,
            [
                (axum::http::header::CONTENT_TYPE.as_str(), content_type),
                ("x-amzn-query-error", query_error.as_str()),
                (REQUEST_ID_HEADER, request_id),
            ],
            body,
        )
            .into_response();
        if protocol == Protocol::Cbor {
            response.headers_mut().insert("smithy-protocol", axum::http::HeaderValue::from_static(SMITHY_PROTOCOL));
        }
        response
    }
}

/// JSON 1.0's and CBOR's decoding failures.
impl From<berth_cloudwatch_wire::DecodeError> for CloudWatchError {
    fn from(error: berth_cloudwatch_wire::DecodeError) -> Self {
        match error.kind {
            DecodeErrorKind::Malformed => Self::malformed(error.message),
            DecodeErrorKind::Invalid => Self::model(ErrorCode::InvalidParameterValueException, error.message),
            DecodeErrorKind::Missing => Self::model(ErrorCode::MissingRequiredParameterException, error.message),
        }
    }
}

/// Query's decoding failures.
impl From<berth_query_wire::DecodeError> for CloudWatchError {
    fn from(error: berth_query_wire::DecodeError) -> Self {
        match error.kind {
            QueryDecodeErrorKind::Invalid => Self::model(ErrorCode::InvalidParameterValueException, error.message),
            QueryDecodeErrorKind::Missing => Self::model(ErrorCode::MissingRequiredParameterException, error.message),
        }
    }
}

impl From<berth_control::cloudwatch::MetricsError> for CloudWatchError {
    fn from(error: berth_control::cloudwatch::MetricsError) -> Self {
        use berth_control::cloudwatch::MetricsErrorKind as Kind;
        let code = match error.kind {
            Kind::InvalidParameterValue => ErrorCode::InvalidParameterValueException,
            Kind::InvalidParameterCombination => ErrorCode::InvalidParameterCombinationException,
            Kind::MissingParameter => ErrorCode::MissingRequiredParameterException,
            Kind::InvalidNextToken => ErrorCode::InvalidNextToken,
            Kind::ResourceNotFound => ErrorCode::ResourceNotFound,
            Kind::ResourceNotFoundException => ErrorCode::ResourceNotFoundException,
            Kind::InvalidFormat => ErrorCode::InvalidFormatFault,
            Kind::LimitExceeded => ErrorCode::LimitExceededFault,
            Kind::Internal => ErrorCode::InternalServiceFault,
        };
        Self::model(code, error.message)
    }
}
