use super::*;
use std::collections::BTreeMap;

fn parts(labels: &[(&str, &str)], query: &str) -> HttpParts {
    HttpParts {
        labels: labels.iter().map(|(key, value)| (key.to_string(), value.to_string())).collect(),
        query: rest::parse_query(query).unwrap(),
        headers: BTreeMap::new(),
    }
}

#[test]
fn routes_match_method_and_path_with_encoded_labels() {
    let (route, labels) = match_route(ROUTES, "POST", "/schedules/nightly").unwrap();
    assert_eq!(route.operation, "CreateSchedule");
    assert_eq!(labels["Name"], "nightly");
    let arn = "/tags/arn%3Aaws%3Ascheduler%3Aus-east-1%3A000000000000%3Aschedule-group%2Fjobs";
    let (route, labels) = match_route(ROUTES, "GET", arn).unwrap();
    assert_eq!(route.operation, "ListTagsForResource");
    assert_eq!(labels["ResourceArn"], "arn:aws:scheduler:us-east-1:000000000000:schedule-group/jobs");
    assert_eq!(match_route(ROUTES, "GET", "/schedules").unwrap().0.operation, "ListSchedules");
    assert!(match_route(ROUTES, "PATCH", "/schedules/x").is_none());
    assert!(match_route(ROUTES, "GET", "/schedules/a/b").is_none());
}

#[test]
fn located_members_are_bound_and_required_ones_checked() {
    let request: ListSchedulesInput =
        decode_rest_request(&parts(&[], "ScheduleGroup=jobs&State=ENABLED&MaxResults=5"), b"").unwrap();
    assert_eq!(request.group_name.as_deref(), Some("jobs"));
    assert_eq!(request.state, Some(ScheduleState::Enabled));
    assert_eq!(request.max_results, Some(5));
    let error = decode_rest_request::<ListSchedulesInput>(&parts(&[], "MaxResults=500"), b"").unwrap_err();
    assert!(error.message.contains("MaxResults"), "{}", error.message);
    let error = decode_rest_request::<ListSchedulesInput>(&parts(&[], "State=ON"), b"").unwrap_err();
    assert!(error.message.contains("State"), "{}", error.message);
    let untag: UntagResourceInput =
        decode_rest_request(&parts(&[("ResourceArn", "arn")], "TagKeys=a&TagKeys=b%20c"), b"").unwrap();
    assert_eq!(untag.tag_keys, Some(vec!["a".to_string(), "b c".to_string()]));
    let error = decode_rest_request::<CreateScheduleInput>(&parts(&[("Name", "n")], ""), b"{}").unwrap_err();
    assert!(error.message.contains("ScheduleExpression"), "{}", error.message);
}

#[test]
fn the_body_never_sets_a_located_member() {
    let request: CreateScheduleGroupInput =
        decode_rest_request(&parts(&[("Name", "from-path")], ""), br#"{"Name":"from-body"}"#).unwrap();
    assert_eq!(request.name.as_deref(), Some("from-path"));
}

#[test]
fn error_codes_carry_the_model_statuses() {
    assert_eq!(ErrorCode::ServiceQuotaExceededException.http_status(), 402);
    assert_eq!(ErrorCode::ConflictException.http_status(), 409);
    assert_eq!(ErrorCode::ResourceNotFoundException.http_status(), 404);
    assert_eq!(ErrorCode::ValidationException.http_status(), 400);
    assert_eq!(SIGNING_NAME, "scheduler");
}
