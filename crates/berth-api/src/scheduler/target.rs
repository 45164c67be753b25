//! A schedule's target as Berth runs it: the ECS templated target (`Arn` an ECS cluster ARN,
//! `EcsParameters` the RunTask members) becomes ECS's RunTaskRequest, checked at
//! CreateSchedule/UpdateSchedule as far as it can be without running it, and built again at
//! each firing with that firing's client token.
//!
//! `Input`, for an ECS target, is the task's `overrides` as JSON (`containerOverrides`,
//! `cpu`, `memory`, `taskRoleArn`, …), as EventBridge passes a rule's input to an ECS target.

use super::error::SchedulerApiError;
use berth_ecs_wire as ecs;
use berth_eventbridge_scheduler_wire as wire;
use berth_types::ArnContext;
use serde_json::{json, Map, Value};

type TargetResult<T> = Result<T, SchedulerApiError>;

fn invalid(message: impl Into<String>) -> SchedulerApiError {
    SchedulerApiError::validation(message)
}

/// The cluster ARN the target names, if it is an ECS cluster of this account and region.
fn cluster_arn(target: &wire::Target, context: &ArnContext) -> TargetResult<String> {
    let arn = target.arn.as_deref().unwrap_or_default();
    let prefix = format!("arn:aws:ecs:{}:{}:cluster/", context.region, context.account);
    match arn.strip_prefix(&prefix) {
        Some(name) if berth_types::ClusterName::parse(name).is_ok() => Ok(arn.to_string()),
        _ => Err(invalid(format!(
            "Target.Arn {arn} is not supported: Berth runs ECS targets only, whose Arn is an ECS cluster ARN ({prefix}NAME) with EcsParameters."
        ))),
    }
}

fn refuse_other_targets(target: &wire::Target) -> TargetResult<()> {
    let others = [
        ("EventBridgeParameters", target.event_bridge_parameters.is_some()),
        ("EventBridgePutEventsV2Parameters", target.event_bridge_put_events_v2_parameters.is_some()),
        ("EventBridgePutRawEventsParameters", target.event_bridge_put_raw_events_parameters.is_some()),
        ("KinesisParameters", target.kinesis_parameters.is_some()),
        ("SageMakerPipelineParameters", target.sage_maker_pipeline_parameters.is_some()),
        ("SqsParameters", target.sqs_parameters.is_some()),
    ];
    if let Some((name, _)) = others.iter().find(|(_, given)| *given) {
        return Err(invalid(format!("Target.{name} is not supported: Berth runs ECS targets only (EcsParameters).")));
    }
    if target.dead_letter_config.is_some() {
        return Err(invalid("Target.DeadLetterConfig is not supported: Berth has no SQS queues to deliver to."));
    }
    let role = target.role_arn.as_deref().unwrap_or_default();
    let role_ok = role.starts_with("arn:aws") && role.contains(":iam::") && role.contains(":role/");
    if !role_ok {
        return Err(invalid(format!("Target.RoleArn {role} is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME).")));
    }
    Ok(())
}

/// The RunTask request of one firing (`client_token` and `started_by` are the firing's).
pub fn run_task_request(
    target: &wire::Target,
    client_token: &str,
    started_by: &str,
) -> TargetResult<ecs::RunTaskRequest> {
    let parameters =
        target.ecs_parameters.as_ref().ok_or_else(|| invalid("Target.EcsParameters is required for an ECS target."))?;
    if parameters.launch_type == Some(wire::LaunchType::Fargate) {
        return Err(invalid("Target.EcsParameters.LaunchType FARGATE is not supported: Berth runs tasks on EC2-style instances (EC2 or EXTERNAL)."));
    }
    if parameters.network_configuration.is_some() {
        return Err(invalid(
            "Target.EcsParameters.NetworkConfiguration is not supported yet: Berth has no awsvpc networking.",
        ));
    }
    if parameters.platform_version.is_some() {
        return Err(invalid("Target.EcsParameters.PlatformVersion is not supported: it applies to Fargate only."));
    }
    if parameters.launch_type.is_some()
        && parameters.capacity_provider_strategy.as_ref().is_some_and(|items| !items.is_empty())
    {
        return Err(invalid("Target.EcsParameters: LaunchType and CapacityProviderStrategy cannot both be given."));
    }
    let mut request = Map::new();
    request.insert("cluster".into(), json!(target.arn));
    request.insert("taskDefinition".into(), json!(parameters.task_definition_arn));
    request.insert("count".into(), json!(parameters.task_count.unwrap_or(1)));
    request.insert("startedBy".into(), json!(started_by));
    request.insert("clientToken".into(), json!(client_token));
    if let Some(launch_type) = parameters.launch_type {
        request.insert("launchType".into(), json!(launch_type.as_str()));
    }
    // Scheduler's capacity provider items and placement rules have ECS's member names.
    let members = serde_json::to_value(parameters).expect("shapes always serialise");
    for (scheduler, ecs_name) in [
        ("CapacityProviderStrategy", "capacityProviderStrategy"),
        ("PlacementConstraints", "placementConstraints"),
        ("PlacementStrategy", "placementStrategy"),
    ] {
        if let Some(value) = members.get(scheduler) {
            request.insert(ecs_name.into(), value.clone());
        }
    }
    if let Some(group) = &parameters.group {
        request.insert("group".into(), json!(group));
    }
    if let Some(tags) = &parameters.tags {
        let tags: Vec<Value> =
            tags.iter().flat_map(|map| map.iter().map(|(key, value)| json!({"key": key, "value": value}))).collect();
        request.insert("tags".into(), Value::Array(tags));
    }
    if let Some(managed) = parameters.enable_ecs_managed_tags {
        request.insert("enableECSManagedTags".into(), json!(managed));
    }
    if let Some(exec) = parameters.enable_execute_command {
        request.insert("enableExecuteCommand".into(), json!(exec));
    }
    if let Some(propagate) = parameters.propagate_tags {
        request.insert("propagateTags".into(), json!(propagate.as_str()));
    }
    if let Some(input) = &target.input {
        let overrides: Value = serde_json::from_str(input)
            .ok()
            .filter(Value::is_object)
            .ok_or_else(|| invalid("Target.Input must be a JSON object: an ECS target's input is the task's overrides (containerOverrides, cpu, memory, …)."))?;
        request.insert("overrides".into(), overrides);
    }
    let body = serde_json::to_vec(&Value::Object(request)).expect("JSON always serialises");
    ecs::decode_request::<ecs::RunTaskRequest>(&body).map_err(|error| {
        let message = error.message.replace("parameter overrides", "parameter Target.Input");
        invalid(format!("Target.EcsParameters or Target.Input cannot be run: {message}"))
    })
}

/// Checks a target when a schedule is created or updated; answers its cluster ARN.
pub fn check(target: &wire::Target, context: &ArnContext) -> TargetResult<String> {
    let cluster = cluster_arn(target, context)?;
    refuse_other_targets(target)?;
    let request = run_task_request(target, "check", "check")?;
    crate::operations::tasks::check_static(&request, context)
        .map_err(|error| invalid(format!("Target.EcsParameters: {}", error.message)))?;
    Ok(cluster)
}
