//! ELBv2 on Berth's endpoint (AWS Query protocol): the form is decoded into the generated
//! input shape, parsed into domain values (`actions`), handed to `berth_control::elb`, and the
//! answer written as XML in the operation's result wrapper. Every failure leaves through
//! [`ElbApiError`], the one mapping to Query's `<ErrorResponse>`.

mod actions;
mod error;
mod listeners;
mod load_balancers;
mod render;
mod rules;
mod target_groups;

use crate::query_protocol::{self, QueryError};
use crate::Api;
use axum::http::StatusCode;
use axum::response::Response;
use berth_query_wire::elbv2::{self, result_wrapper, XML_NAMESPACE};
use berth_query_wire::query::decode_input;
use berth_query_wire::QueryParams;
pub use error::ElbApiError;

type ElbResult<T> = Result<T, ElbApiError>;

/// Answers one ELBv2 request.
pub async fn serve(api: &Api, params: &QueryParams) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let action = params.get("Action").unwrap_or_default().to_string();
    match dispatch(api, &action, params).await {
        Ok(body) => query_protocol::answer(&action, XML_NAMESPACE, result_wrapper(&action), body.as_ref(), &request_id),
        Err(error) => {
            tracing::debug!(action, code = error.code, reason = %error.message, "ELBv2 request refused");
            let refusal = QueryError {
                status: error.status,
                sender_fault: error.status.is_client_error(),
                code: error.code,
                message: &error.message,
            };
            query_protocol::error(XML_NAMESPACE, &refusal, &request_id)
        }
    }
}

/// The answer when a handler panicked.
pub fn internal_failure() -> Response {
    let failure = QueryError {
        status: StatusCode::INTERNAL_SERVER_ERROR,
        sender_fault: false,
        code: "InternalFailure",
        message: "The server hit an internal error; the request may not have been applied.",
    };
    query_protocol::error(XML_NAMESPACE, &failure, &uuid::Uuid::new_v4().to_string())
}

/// A rendered result, whatever its shape.
type Answer = Box<dyn berth_query_wire::ToXml + Send>;

async fn dispatch(api: &Api, action: &str, params: &QueryParams) -> ElbResult<Answer> {
    macro_rules! serve {
        ($handler:path) => {{
            let input = decode_input(params)?;
            let output = $handler(api, input).await?;
            Ok(Box::new(output) as Answer)
        }};
    }
    match action {
        "CreateLoadBalancer" => serve!(load_balancers::create_load_balancer),
        "DescribeLoadBalancers" => serve!(load_balancers::describe_load_balancers),
        "DeleteLoadBalancer" => serve!(load_balancers::delete_load_balancer),
        "DescribeLoadBalancerAttributes" => serve!(load_balancers::describe_load_balancer_attributes),
        "ModifyLoadBalancerAttributes" => serve!(load_balancers::modify_load_balancer_attributes),
        "SetSecurityGroups" => serve!(load_balancers::set_security_groups),
        "DescribeAccountLimits" => serve!(load_balancers::describe_account_limits),
        "CreateTargetGroup" => serve!(target_groups::create_target_group),
        "DescribeTargetGroups" => serve!(target_groups::describe_target_groups),
        "ModifyTargetGroup" => serve!(target_groups::modify_target_group),
        "DeleteTargetGroup" => serve!(target_groups::delete_target_group),
        "DescribeTargetGroupAttributes" => serve!(target_groups::describe_target_group_attributes),
        "ModifyTargetGroupAttributes" => serve!(target_groups::modify_target_group_attributes),
        "RegisterTargets" => serve!(target_groups::register_targets),
        "DeregisterTargets" => serve!(target_groups::deregister_targets),
        "DescribeTargetHealth" => serve!(target_groups::describe_target_health),
        "CreateListener" => serve!(listeners::create_listener),
        "DescribeListeners" => serve!(listeners::describe_listeners),
        "ModifyListener" => serve!(listeners::modify_listener),
        "DeleteListener" => serve!(listeners::delete_listener),
        "AddListenerCertificates" => serve!(listeners::add_listener_certificates),
        "RemoveListenerCertificates" => serve!(listeners::remove_listener_certificates),
        "DescribeListenerCertificates" => serve!(listeners::describe_listener_certificates),
        "CreateRule" => serve!(rules::create_rule),
        "DescribeRules" => serve!(rules::describe_rules),
        "ModifyRule" => serve!(rules::modify_rule),
        "DeleteRule" => serve!(rules::delete_rule),
        "SetRulePriorities" => serve!(rules::set_rule_priorities),
        "AddTags" => serve!(load_balancers::add_tags),
        "RemoveTags" => serve!(load_balancers::remove_tags),
        "DescribeTags" => serve!(load_balancers::describe_tags),
        known if elbv2::ALL_OPERATIONS.contains(&known) => Err(ElbApiError::unsupported(known)),
        unknown => Err(ElbApiError::invalid_action(unknown)),
    }
}

/// A member the decoder already checked is present (the model marks it required).
fn required<T>(value: Option<T>, name: &str) -> ElbResult<T> {
    value.ok_or_else(|| berth_query_wire::DecodeError::missing(name).into())
}

/// ELBv2's paging: `Marker` is the index of the next item, `PageSize` at most 400.
fn page<T>(items: Vec<T>, marker: Option<&str>, page_size: Option<i32>) -> ElbResult<(Vec<T>, Option<String>)> {
    let start: usize = match marker {
        None => 0,
        Some(marker) => {
            marker.parse().map_err(|_| ElbApiError::validation(format!("Marker '{marker}' is not valid")))?
        }
    };
    let size = page_size.unwrap_or(400).max(1) as usize;
    let end = (start + size).min(items.len());
    let next = (end < items.len()).then(|| end.to_string());
    Ok((items.into_iter().skip(start).take(size).collect(), next))
}
