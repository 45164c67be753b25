//! Which AWS service a request is for, decided once from its protocol. REST-JSON requests
//! (EventBridge Scheduler) use their own methods and paths and are found by their SigV4
//! signing name, or by their paths when unsigned (`route_rest`). On `POST /`, JSON 1.0 and
//! 1.1 requests name their operation in `X-Amz-Target`, whose prefix names the service (ACM's
//! `CertificateManager.`, CloudWatch Logs' `Logs_20140328.`, EventBridge's `AWSEvents.`,
//! CloudWatch's `GraniteServiceVersion20100801.`, Application Auto Scaling's
//! `AnyScaleFrontendService.`;
//! anything else is ECS, which answers unknown targets);
//! Query requests are forms with `Action` and `Version`, and the SigV4 credential scope or the
//! `Version` names the service (ELBv2's is `2015-12-01`, CloudWatch's `2010-08-01`). RPC v2
//! CBOR requests have a route of their own (`/service/{service}/operation/{operation}`), whose
//! path names both.

use axum::http::HeaderMap;
use berth_cloudwatch_wire as cloudwatch;
use berth_query_wire::elbv2;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Ecs,
    Acm,
    Logs,
    /// EventBridge (`AWSEvents.`).
    Events,
    /// Application Auto Scaling (JSON 1.1).
    AutoScaling,
    Elbv2,
    /// CloudWatch (metrics and alarms) in JSON 1.0 or Query; its CBOR has its own route.
    CloudWatch,
    /// EventBridge Scheduler (REST-JSON, on its own paths).
    Scheduler,
    /// A Query request for a service Berth does not serve.
    UnknownQuery,
}

/// The service named by the SigV4 credential scope (`Credential=KEY/DATE/REGION/SERVICE/…`).
fn signing_name(headers: &HeaderMap) -> Option<&str> {
    let authorization = headers.get(axum::http::header::AUTHORIZATION)?.to_str().ok()?;
    let credential = authorization.split("Credential=").nth(1)?;
    let scope = credential.split([',', ' ']).next()?;
    scope.split('/').nth(3)
}

pub fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/x-www-form-urlencoded"))
}

pub fn route(headers: &HeaderMap, version: Option<&str>) -> Service {
    if let Some(target) = headers.get("x-amz-target") {
        let target = target.to_str().unwrap_or_default();
        return if target.starts_with(berth_acm_wire::TARGET_PREFIX) {
            Service::Acm
        } else if target.starts_with(berth_logs_wire::TARGET_PREFIX) {
            Service::Logs
        } else if target.starts_with(cloudwatch::TARGET_PREFIX) {
            Service::CloudWatch
        } else if target.starts_with(berth_events_wire::TARGET_PREFIX) {
            Service::Events
        } else if target.starts_with(berth_autoscaling_wire::TARGET_PREFIX) {
            Service::AutoScaling
        } else {
            Service::Ecs
        };
    }
    if version.is_none() && !is_form(headers) {
        return Service::Ecs;
    }
    match signing_name(headers) {
        Some(name) if name == elbv2::SIGNING_NAME => Service::Elbv2,
        Some(name) if name == cloudwatch::SIGNING_NAME => Service::CloudWatch,
        Some(_) => Service::UnknownQuery,
        None if version == Some(elbv2::API_VERSION) => Service::Elbv2,
        None if version == Some(cloudwatch::API_VERSION) => Service::CloudWatch,
        None => Service::UnknownQuery,
    }
}

/// The REST-JSON service of a request on any other path than `POST /` and the CBOR route:
/// the one its SigV4 credential scope names, else — unsigned — the one whose paths it uses.
pub fn route_rest(headers: &HeaderMap, path: &str) -> Option<Service> {
    match signing_name(headers) {
        Some(name) if name == berth_eventbridge_scheduler_wire::SIGNING_NAME => Some(Service::Scheduler),
        Some(_) => None,
        None if crate::scheduler::is_scheduler_path(path) => Some(Service::Scheduler),
        None => None,
    }
}

impl Service {
    /// The service's name in the request metrics.
    pub fn label(self) -> &'static str {
        match self {
            Service::Ecs => "ecs",
            Service::Acm => "acm",
            Service::Logs => "logs",
            Service::Events => "events",
            Service::AutoScaling => "application-autoscaling",
            Service::Elbv2 => "elbv2",
            Service::CloudWatch => "cloudwatch",
            Service::Scheduler => "scheduler",
            Service::UnknownQuery => "unknown",
        }
    }
}

/// The request's service and operation for the metrics: the operation is one of the
/// service's model (`X-Amz-Target`'s suffix, or the Query form's `Action`), else `unknown`,
/// so that clients cannot grow the metrics with made-up names.
pub fn operation(
    service: Service,
    headers: &HeaderMap,
    form: Option<&berth_query_wire::QueryParams>,
) -> crate::metrics::Operation {
    let target = headers.get("x-amz-target").and_then(|value| value.to_str().ok()).unwrap_or_default();
    let (name, known): (&str, &[&'static str]) = match service {
        Service::Ecs => {
            (target.strip_prefix(berth_ecs_wire::TARGET_PREFIX).unwrap_or_default(), berth_ecs_wire::ALL_OPERATIONS)
        }
        Service::Acm => {
            (target.strip_prefix(berth_acm_wire::TARGET_PREFIX).unwrap_or_default(), berth_acm_wire::ALL_OPERATIONS)
        }
        Service::Logs => {
            (target.strip_prefix(berth_logs_wire::TARGET_PREFIX).unwrap_or_default(), berth_logs_wire::ALL_OPERATIONS)
        }
        Service::Events => (
            target.strip_prefix(berth_events_wire::TARGET_PREFIX).unwrap_or_default(),
            berth_events_wire::ALL_OPERATIONS,
        ),
        Service::AutoScaling => (
            target.strip_prefix(berth_autoscaling_wire::TARGET_PREFIX).unwrap_or_default(),
            berth_autoscaling_wire::ALL_OPERATIONS,
        ),
        Service::Elbv2 => (form.and_then(|params| params.get("Action")).unwrap_or_default(), elbv2::ALL_OPERATIONS),
        Service::CloudWatch => match target.strip_prefix(cloudwatch::TARGET_PREFIX) {
            Some(name) => (name, cloudwatch::ALL_OPERATIONS),
            None => (form.and_then(|params| params.get("Action")).unwrap_or_default(), cloudwatch::ALL_OPERATIONS),
        },
        Service::Scheduler | Service::UnknownQuery => ("", &[]),
    };
    crate::metrics::Operation { service: service.label(), operation: known_operation(name, known) }
}

/// `name` as one of `known` (a model's operations), else `unknown`.
pub fn known_operation(name: &str, known: &[&'static str]) -> &'static str {
    known.iter().find(|candidate| **candidate == name).copied().unwrap_or("unknown")
}

/// The answer to a Query request for a service Berth does not serve.
pub fn unknown_service(action: &str) -> axum::response::Response {
    crate::query_protocol::error(
        "",
        &crate::query_protocol::QueryError {
            status: axum::http::StatusCode::BAD_REQUEST,
            sender_fault: true,
            code: "InvalidAction",
            message: &format!(
                "The action {action} is not valid for this web service: Berth does not serve this AWS service."
            ),
        },
        &uuid::Uuid::new_v4().to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn routes_by_target_then_signing_name_then_version() {
        let ecs = headers(&[("x-amz-target", "AmazonEC2ContainerServiceV20141113.ListClusters")]);
        assert_eq!(route(&ecs, None), Service::Ecs);
        let acm = headers(&[("x-amz-target", "CertificateManager.ImportCertificate")]);
        assert_eq!(route(&acm, None), Service::Acm);
        let logs = headers(&[("x-amz-target", "Logs_20140328.PutLogEvents")]);
        assert_eq!(route(&logs, None), Service::Logs);
        let autoscaling = headers(&[("x-amz-target", "AnyScaleFrontendService.RegisterScalableTarget")]);
        assert_eq!(route(&autoscaling, None), Service::AutoScaling);
        let named = operation(Service::AutoScaling, &autoscaling, None);
        assert_eq!((named.service, named.operation), ("application-autoscaling", "RegisterScalableTarget"));
        let form = "application/x-www-form-urlencoded; charset=utf-8";
        let signed = headers(&[
            ("content-type", form),
            ("authorization", "AWS4-HMAC-SHA256 Credential=AKID/20261202/us-east-1/elasticloadbalancing/aws4_request, SignedHeaders=host, Signature=x"),
        ]);
        assert_eq!(route(&signed, None), Service::Elbv2);
        let iam = headers(&[
            ("content-type", form),
            (
                "authorization",
                "AWS4-HMAC-SHA256 Credential=AKID/20261202/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=x",
            ),
        ]);
        assert_eq!(route(&iam, Some("2015-12-01")), Service::UnknownQuery);
        let unsigned = headers(&[("content-type", form)]);
        assert_eq!(route(&unsigned, Some("2015-12-01")), Service::Elbv2);
        assert_eq!(route(&unsigned, Some("2010-05-08")), Service::UnknownQuery);
    }

    #[test]
    fn scheduler_is_found_by_signing_name_or_path() {
        let signed = headers(&[(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKID/20261204/us-east-1/scheduler/aws4_request, SignedHeaders=host, Signature=x",
        )]);
        assert_eq!(route_rest(&signed, "/schedules/nightly"), Some(Service::Scheduler));
        assert_eq!(route_rest(&headers(&[]), "/schedule-groups"), Some(Service::Scheduler));
        assert_eq!(route_rest(&headers(&[]), "/tags/arn%3Aaws"), Some(Service::Scheduler));
        assert_eq!(route_rest(&headers(&[]), "/metrics-but-not"), None);
        let other = headers(&[(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKID/20261204/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=x",
        )]);
        assert_eq!(route_rest(&other, "/tags/arn"), None, "another REST service's tags are not Scheduler's");
    }

    #[test]
    fn cloudwatch_is_found_by_target_prefix_signing_name_or_version() {
        let json = headers(&[
            ("x-amz-target", "GraniteServiceVersion20100801.PutMetricData"),
            ("content-type", "application/x-amz-json-1.0"),
        ]);
        assert_eq!(route(&json, None), Service::CloudWatch);
        let form = "application/x-www-form-urlencoded; charset=utf-8";
        let signed = headers(&[
            ("content-type", form),
            ("authorization", "AWS4-HMAC-SHA256 Credential=AKID/20261202/us-east-1/monitoring/aws4_request, SignedHeaders=host, Signature=x"),
        ]);
        assert_eq!(route(&signed, Some("2010-08-01")), Service::CloudWatch);
        assert_eq!(route(&headers(&[("content-type", form)]), Some("2010-08-01")), Service::CloudWatch);
        let named = operation(Service::CloudWatch, &json, None);
        assert_eq!((named.service, named.operation), ("cloudwatch", "PutMetricData"));
        let params = berth_query_wire::QueryParams::parse(b"Action=MadeUp&Version=2010-08-01");
        assert_eq!(operation(Service::CloudWatch, &signed, Some(&params)).operation, "unknown");
    }
}
