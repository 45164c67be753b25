//! Target groups, their attributes, targets and target health.

use super::render::{self, parse_tags};
use super::{page, required, ElbApiError, ElbResult};
use crate::Api;
use berth_control::elb::target_groups::{HealthCheckChange, NewTargetGroup};
use berth_control::elb::targets::TargetRef;
use berth_query_wire::elbv2 as wire;

fn port(value: Option<i32>) -> Option<u16> {
    value.and_then(|port| u16::try_from(port).ok())
}

fn count(value: Option<i32>) -> Option<u32> {
    value.and_then(|count| u32::try_from(count).ok())
}

#[allow(clippy::too_many_arguments)]
fn health_check(
    protocol: Option<wire::ProtocolEnum>,
    port: Option<String>,
    enabled: Option<bool>,
    path: Option<String>,
    interval: Option<i32>,
    timeout: Option<i32>,
    healthy: Option<i32>,
    unhealthy: Option<i32>,
    matcher: Option<wire::Matcher>,
) -> ElbResult<HealthCheckChange> {
    if matcher.as_ref().is_some_and(|matcher| matcher.grpc_code.is_some()) {
        return Err(ElbApiError::validation("GrpcCode matchers need gRPC target groups, which Berth does not serve"));
    }
    Ok(HealthCheckChange {
        enabled,
        protocol: protocol.map(|protocol| protocol.as_str().to_string()),
        port,
        path,
        interval_seconds: count(interval),
        timeout_seconds: count(timeout),
        healthy_threshold: count(healthy),
        unhealthy_threshold: count(unhealthy),
        matcher: matcher.and_then(|matcher| matcher.http_code),
    })
}

fn rendered(api: &Api, record: &berth_control::elb::records::TargetGroupRecord) -> wire::TargetGroup {
    render::target_group(record, api.control.target_group_load_balancers(&record.arn))
}

pub async fn create_target_group(
    api: &Api,
    input: wire::CreateTargetGroupInput,
) -> ElbResult<wire::CreateTargetGroupOutput> {
    let spec = NewTargetGroup {
        name: required(input.name, "Name")?,
        protocol: input.protocol.map(|protocol| protocol.as_str().to_string()),
        protocol_version: input.protocol_version,
        port: port(input.port),
        vpc_id: input.vpc_id,
        target_type: input.target_type.map(|kind| kind.as_str().to_string()),
        ip_address_type: input.ip_address_type.map(|kind| kind.as_str().to_string()),
        health_check: health_check(
            input.health_check_protocol,
            input.health_check_port,
            input.health_check_enabled,
            input.health_check_path,
            input.health_check_interval_seconds,
            input.health_check_timeout_seconds,
            input.healthy_threshold_count,
            input.unhealthy_threshold_count,
            input.matcher,
        )?,
        tags: parse_tags(input.tags)?,
    };
    let record = api.control.create_target_group(spec).await?;
    Ok(wire::CreateTargetGroupOutput { target_groups: Some(vec![rendered(api, &record)]) })
}

pub async fn describe_target_groups(
    api: &Api,
    input: wire::DescribeTargetGroupsInput,
) -> ElbResult<wire::DescribeTargetGroupsOutput> {
    let records = api.control.describe_target_groups(
        input.load_balancer_arn.as_deref(),
        &input.target_group_arns.unwrap_or_default(),
        &input.names.unwrap_or_default(),
    )?;
    let (records, next_marker) = page(records, input.marker.as_deref(), input.page_size)?;
    Ok(wire::DescribeTargetGroupsOutput {
        target_groups: Some(records.iter().map(|record| rendered(api, record)).collect()),
        next_marker,
    })
}

pub async fn modify_target_group(
    api: &Api,
    input: wire::ModifyTargetGroupInput,
) -> ElbResult<wire::ModifyTargetGroupOutput> {
    let arn = required(input.target_group_arn, "TargetGroupArn")?;
    let change = health_check(
        input.health_check_protocol,
        input.health_check_port,
        input.health_check_enabled,
        input.health_check_path,
        input.health_check_interval_seconds,
        input.health_check_timeout_seconds,
        input.healthy_threshold_count,
        input.unhealthy_threshold_count,
        input.matcher,
    )?;
    let record = api.control.modify_target_group(&arn, change).await?;
    Ok(wire::ModifyTargetGroupOutput { target_groups: Some(vec![rendered(api, &record)]) })
}

pub async fn delete_target_group(
    api: &Api,
    input: wire::DeleteTargetGroupInput,
) -> ElbResult<wire::DeleteTargetGroupOutput> {
    api.control.delete_target_group(&required(input.target_group_arn, "TargetGroupArn")?).await?;
    Ok(wire::DeleteTargetGroupOutput {})
}

fn target_group_attributes(attributes: &std::collections::BTreeMap<String, String>) -> Vec<wire::TargetGroupAttribute> {
    render::attributes(attributes, |key, value| wire::TargetGroupAttribute { key: Some(key), value: Some(value) })
}

pub async fn describe_target_group_attributes(
    api: &Api,
    input: wire::DescribeTargetGroupAttributesInput,
) -> ElbResult<wire::DescribeTargetGroupAttributesOutput> {
    let attributes = api.control.target_group_attributes(&required(input.target_group_arn, "TargetGroupArn")?)?;
    Ok(wire::DescribeTargetGroupAttributesOutput { attributes: Some(target_group_attributes(&attributes)) })
}

pub async fn modify_target_group_attributes(
    api: &Api,
    input: wire::ModifyTargetGroupAttributesInput,
) -> ElbResult<wire::ModifyTargetGroupAttributesOutput> {
    let arn = required(input.target_group_arn, "TargetGroupArn")?;
    let pairs = render::attribute_pairs(
        required(input.attributes, "Attributes")?.into_iter().map(|attribute| (attribute.key, attribute.value)),
    )?;
    let attributes = api.control.modify_target_group_attributes(&arn, pairs).await?;
    Ok(wire::ModifyTargetGroupAttributesOutput { attributes: Some(target_group_attributes(&attributes)) })
}

fn targets(descriptions: Vec<wire::TargetDescription>) -> ElbResult<Vec<TargetRef>> {
    descriptions
        .into_iter()
        .map(|target| {
            if target.port.is_some_and(|port| !(1..=65535).contains(&port)) {
                return Err(ElbApiError::validation("A target's Port must be between 1 and 65535"));
            }
            Ok(TargetRef {
                id: required(target.id, "Targets.member.N.Id")?,
                port: port(target.port),
                availability_zone: target.availability_zone,
            })
        })
        .collect()
}

pub async fn register_targets(api: &Api, input: wire::RegisterTargetsInput) -> ElbResult<wire::RegisterTargetsOutput> {
    let arn = required(input.target_group_arn, "TargetGroupArn")?;
    api.control.register_targets(&arn, targets(required(input.targets, "Targets")?)?).await?;
    Ok(wire::RegisterTargetsOutput {})
}

pub async fn deregister_targets(
    api: &Api,
    input: wire::DeregisterTargetsInput,
) -> ElbResult<wire::DeregisterTargetsOutput> {
    let arn = required(input.target_group_arn, "TargetGroupArn")?;
    api.control.deregister_targets(&arn, targets(required(input.targets, "Targets")?)?).await?;
    Ok(wire::DeregisterTargetsOutput {})
}

pub async fn describe_target_health(
    api: &Api,
    input: wire::DescribeTargetHealthInput,
) -> ElbResult<wire::DescribeTargetHealthOutput> {
    let arn = required(input.target_group_arn, "TargetGroupArn")?;
    let views = api.control.describe_target_health(&arn, &targets(input.targets.unwrap_or_default())?)?;
    let descriptions = views
        .into_iter()
        .map(|view| wire::TargetHealthDescription {
            target: Some(wire::TargetDescription {
                id: Some(view.id),
                port: Some(i32::from(view.port)),
                ..Default::default()
            }),
            health_check_port: Some(view.health_check_port),
            target_health: Some(wire::TargetHealth {
                state: wire::TargetHealthStateEnum::parse(view.state),
                reason: view.reason.as_deref().and_then(wire::TargetHealthReasonEnum::parse),
                description: view.description,
            }),
            ..Default::default()
        })
        .collect();
    Ok(wire::DescribeTargetHealthOutput { target_health_descriptions: Some(descriptions) })
}
