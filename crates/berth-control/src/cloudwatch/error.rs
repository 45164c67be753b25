//! CloudWatch's failures, in its own terms; `berth-api` gives each its wire code.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricsErrorKind {
    /// `InvalidParameterValue`: one field's value is out of its rules.
    InvalidParameterValue,
    /// `InvalidParameterCombination`: fields that may not go together, or a request too big.
    InvalidParameterCombination,
    /// `MissingParameter`: a required field is absent.
    MissingParameter,
    /// `InvalidNextToken`.
    InvalidNextToken,
    /// `InvalidFormat`: a field that must be JSON is not.
    InvalidFormat,
    /// `ResourceNotFound`: an alarm that does not exist.
    ResourceNotFound,
    /// `ResourceNotFoundException`: a resource the tagging operations name that does not exist.
    ResourceNotFoundException,
    /// `LimitExceeded`.
    LimitExceeded,
    /// The metric store failed; the request may be retried.
    Internal,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct MetricsError {
    pub kind: MetricsErrorKind,
    pub message: String,
}

pub type MetricsResult<T> = Result<T, MetricsError>;

impl MetricsError {
    pub fn new(kind: MetricsErrorKind, message: impl Into<String>) -> Self {
        MetricsError { kind, message: message.into() }
    }

    /// CloudWatch's wording for a value out of its rules, naming the field as a Query client
    /// writes it (`MetricData.member.1.Value`), with why.
    pub fn invalid(field: &str, why: impl std::fmt::Display) -> Self {
        Self::new(MetricsErrorKind::InvalidParameterValue, format!("The parameter {field} {why}"))
    }

    pub fn missing(field: &str) -> Self {
        Self::new(MetricsErrorKind::MissingParameter, format!("The parameter {field} is required."))
    }

    pub fn combination(message: impl Into<String>) -> Self {
        Self::new(MetricsErrorKind::InvalidParameterCombination, message)
    }
}

impl From<berth_metric_store::MetricStoreError> for MetricsError {
    fn from(error: berth_metric_store::MetricStoreError) -> Self {
        tracing::error!(%error, "the metric store failed");
        Self::new(MetricsErrorKind::Internal, "The metric store is unavailable; retry the request.")
    }
}

/// `value` or the `MissingParameter` refusal naming `field`.
pub fn required<T>(value: Option<T>, field: &str) -> MetricsResult<T> {
    value.ok_or_else(|| MetricsError::missing(field))
}
