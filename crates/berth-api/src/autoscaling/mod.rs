//! Application Auto Scaling on Berth's endpoint (AWS JSON 1.1,
//! `X-Amz-Target: AnyScaleFrontendService.<Op>`): the body is decoded into the generated
//! request shape, its members become domain values (`berth_control::autoscaling`), and the
//! answer is rendered. Every failure leaves through [`AutoScalingApiError`].

mod error;
mod policies;
mod scheduled;
mod targets;

use crate::Api;
use axum::response::{IntoResponse, Response};
use berth_autoscaling_wire::{decode_request, ALL_OPERATIONS, TARGET_PREFIX};
use berth_control::autoscaling::records::TargetKey;
use berth_control::autoscaling::targets::parse_target;
pub use error::AutoScalingApiError;

type AutoScalingApiResult<T> = Result<T, AutoScalingApiError>;

/// Answers one Application Auto Scaling request.
pub async fn serve(api: &Api, target: &str, body: &[u8]) -> Response {
    let operation = target.strip_prefix(TARGET_PREFIX).unwrap_or_default();
    match dispatch(api, operation, body).await {
        Ok(body) => ([(axum::http::header::CONTENT_TYPE, "application/x-amz-json-1.1")], body).into_response(),
        Err(error) => {
            tracing::debug!(operation, code = error.code, reason = %error.message, "Application Auto Scaling request refused");
            error.into_response()
        }
    }
}

/// The answer when a handler panicked.
pub fn internal_failure() -> Response {
    AutoScalingApiError::internal().into_response()
}

async fn dispatch(api: &Api, operation: &str, body: &[u8]) -> AutoScalingApiResult<Vec<u8>> {
    macro_rules! serve {
        ($handler:path) => {
            serve_json!(api, body, $handler)
        };
    }
    match operation {
        "RegisterScalableTarget" => serve!(targets::register_scalable_target),
        "DescribeScalableTargets" => serve!(targets::describe_scalable_targets),
        "DeregisterScalableTarget" => serve!(targets::deregister_scalable_target),
        "TagResource" => serve!(targets::tag_resource),
        "UntagResource" => serve!(targets::untag_resource),
        "ListTagsForResource" => serve!(targets::list_tags_for_resource),
        "PutScalingPolicy" => serve!(policies::put_scaling_policy),
        "DescribeScalingPolicies" => serve!(policies::describe_scaling_policies),
        "DeleteScalingPolicy" => serve!(policies::delete_scaling_policy),
        "DescribeScalingActivities" => serve!(scheduled::describe_scaling_activities),
        "PutScheduledAction" => serve!(scheduled::put_scheduled_action),
        "DescribeScheduledActions" => serve!(scheduled::describe_scheduled_actions),
        "DeleteScheduledAction" => serve!(scheduled::delete_scheduled_action),
        known if ALL_OPERATIONS.contains(&known) => Err(AutoScalingApiError::unsupported(known)),
        unknown => Err(AutoScalingApiError::unknown_operation(&format!("{TARGET_PREFIX}{unknown}"))),
    }
}

/// A member the decoder already checked is present (the model marks it required).
fn required<T>(value: Option<T>, name: &str) -> AutoScalingApiResult<T> {
    value.ok_or_else(|| AutoScalingApiError::validation(format!("Missing required parameter: {name}")))
}

/// The scalable target the three naming members of a request name.
fn target_key(
    namespace: Option<berth_autoscaling_wire::ServiceNamespace>,
    resource_id: Option<String>,
    dimension: Option<berth_autoscaling_wire::ScalableDimension>,
) -> AutoScalingApiResult<TargetKey> {
    let namespace = required(namespace, "ServiceNamespace")?;
    let resource_id = required(resource_id, "ResourceId")?;
    let dimension = required(dimension, "ScalableDimension")?;
    Ok(parse_target(namespace.as_str(), &resource_id, dimension.as_str())?)
}

/// The optional filters of a Describe: the namespace must be ECS's; a resource ID and a
/// dimension narrow the listing to one target.
fn describe_filter(
    namespace: Option<berth_autoscaling_wire::ServiceNamespace>,
    resource_id: Option<String>,
    dimension: Option<berth_autoscaling_wire::ScalableDimension>,
) -> AutoScalingApiResult<Option<TargetKey>> {
    use berth_control::autoscaling::targets::{check_dimension, check_namespace, parse_resource_id};
    check_namespace(required(namespace, "ServiceNamespace")?.as_str())?;
    if let Some(dimension) = dimension {
        check_dimension(dimension.as_str())?;
    }
    Ok(resource_id.map(|resource_id| parse_resource_id(&resource_id)).transpose()?)
}

fn seconds(ms: i64) -> f64 {
    ms as f64 / 1000.0
}

fn millis(seconds: f64) -> i64 {
    (seconds * 1000.0).round() as i64
}
