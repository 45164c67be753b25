//! CreateService, UpdateService, DeleteService, DescribeServices, ListServices.

use crate::error::{ApiError, ApiResult};
use crate::{parse, placement, render, Api};
use berth_control::elb::traffic_shift::{HookAction, HookStage, PauseHook};
use berth_control::services::{
    AdvancedLoadBalancer, CircuitBreakerSettings, CreateService, DeploymentAlarmSettings, DeploymentController,
    PlacementRule, SchedulingStrategy, ServiceConfiguration, ServiceLoadBalancer, TrafficStrategy, UpdateService,
};
use berth_ecs_wire as wire;
use berth_planner::TaskDefinitionKey;
use berth_types::records::CapacityProviderStrategyItem;
use berth_types::{Arn, ClusterName, ServiceName};

const DAEMON_DESIRED_COUNT: &str = "desiredCount: The daemon scheduling strategy does not support a desired count for services. Remove the desired count value and try again";
const DAEMON_MAXIMUM_PERCENT: &str = "deploymentConfiguration.maximumPercent: The daemon scheduling strategy does not support values above 100 for maximumPercent";

/// ECS's quota of tasks per service.
const MAX_DESIRED_COUNT: i32 = 5000;

pub(crate) fn service_name(
    value: Option<&str>,
    api: &Api,
    cluster: &ClusterName,
    field: &str,
) -> ApiResult<ServiceName> {
    let value = value.unwrap_or_default();
    if value.starts_with("arn:") {
        return match Arn::parse(value, api.context())? {
            Arn::Service(service_cluster, name) if &service_cluster == cluster => Ok(name),
            Arn::Service(..) => {
                Err(ApiError::invalid_parameter(format!("{field}: {value} is not in cluster {cluster}")))
            }
            _ => Err(ApiError::invalid_parameter(format!("{field}: {value} is not a service ARN"))),
        };
    }
    ServiceName::parse(value).map_err(|error| ApiError::invalid_parameter(format!("{field}: {error}")))
}

/// `family`, `family:revision` or an ARN, resolved to a revision that exists.
fn task_definition(api: &Api, reference: &str) -> ApiResult<TaskDefinitionKey> {
    let (family, revision) = parse::task_definition(reference, api.context(), "taskDefinition")?;
    let record = api.control.describe_task_definition(&family, revision)?;
    Ok(TaskDefinitionKey { family: record.family, revision: record.revision })
}

fn desired_count(value: Option<i32>) -> ApiResult<Option<u32>> {
    match value {
        None => Ok(None),
        Some(count) if (0..=MAX_DESIRED_COUNT).contains(&count) => Ok(Some(count as u32)),
        Some(count) => Err(ApiError::invalid_parameter(format!(
            "desiredCount: must be between 0 and {MAX_DESIRED_COUNT}, got {count}"
        ))),
    }
}

fn percent(value: Option<i32>, field: &str) -> ApiResult<Option<u32>> {
    match value {
        None => Ok(None),
        Some(value) if value >= 0 => Ok(Some(value as u32)),
        Some(value) => Err(ApiError::invalid_parameter(format!("{field}: must not be negative, got {value}"))),
    }
}

/// `deploymentConfiguration.alarms`: every member is required, and at most 10 alarms.
fn deployment_alarms(alarms: Option<&wire::DeploymentAlarms>) -> ApiResult<Option<DeploymentAlarmSettings>> {
    let Some(alarms) = alarms else { return Ok(None) };
    let field = "deploymentConfiguration.alarms";
    let missing = |member: &str| ApiError::invalid_parameter(format!("{field}.{member}: is required"));
    let alarm_names = alarms.alarm_names.clone().ok_or_else(|| missing("alarmNames"))?;
    if alarm_names.len() > 10 {
        return Err(ApiError::invalid_parameter(format!(
            "{field}.alarmNames: at most 10 alarms, got {}",
            alarm_names.len()
        )));
    }
    if let Some(empty) = alarm_names.iter().position(|name| name.is_empty() || name.chars().count() > 255) {
        return Err(ApiError::invalid_parameter(format!("{field}.alarmNames[{empty}]: must be 1 to 255 characters")));
    }
    Ok(Some(DeploymentAlarmSettings {
        alarm_names,
        enable: alarms.enable.ok_or_else(|| missing("enable"))?,
        rollback: alarms.rollback.ok_or_else(|| missing("rollback"))?,
    }))
}

fn circuit_breaker(breaker: Option<&wire::DeploymentCircuitBreaker>) -> ApiResult<Option<CircuitBreakerSettings>> {
    let Some(breaker) = breaker else { return Ok(None) };
    let mut settings = CircuitBreakerSettings {
        enable: breaker.enable.unwrap_or(false),
        rollback: breaker.rollback.unwrap_or(false),
        reset_on_healthy_task: breaker.reset_on_healthy_task.unwrap_or(true),
        ..CircuitBreakerSettings::default()
    };
    if let Some(threshold) = &breaker.threshold_configuration {
        let kind = threshold.r#type.map(|kind| kind.as_str()).unwrap_or("BOUNDED_PERCENT");
        let value = threshold.value.unwrap_or(50);
        if value < 1 {
            return Err(ApiError::invalid_parameter(
                "deploymentConfiguration.deploymentCircuitBreaker.thresholdConfiguration.value: must be at least 1",
            ));
        }
        settings.threshold_type = kind.to_string();
        settings.threshold_value = value as u32;
    }
    Ok(Some(settings))
}

/// The rules as given, for the service record (`None`: the member was absent).
fn placement_constraints(items: Option<&Vec<wire::PlacementConstraint>>) -> ApiResult<Option<Vec<PlacementRule>>> {
    items.map(|items| Ok(placement::constraints(Some(items))?.into_iter().map(|(rule, _)| rule).collect())).transpose()
}

fn placement_strategy(items: Option<&Vec<wire::PlacementStrategy>>) -> ApiResult<Option<Vec<PlacementRule>>> {
    items.map(|items| Ok(placement::strategies(Some(items))?.into_iter().map(|(rule, _)| rule).collect())).transpose()
}

/// `launchType` (EC2 or EXTERNAL; Berth has no Fargate yet) or `capacityProviderStrategy`,
/// never both.
pub(crate) fn compute_option(
    launch_type: Option<wire::LaunchType>,
    strategy: Option<&Vec<wire::CapacityProviderStrategyItem>>,
) -> ApiResult<(Option<String>, Vec<CapacityProviderStrategyItem>)> {
    let launch_type = match launch_type {
        None => None,
        Some(wire::LaunchType::Ec2) => Some("EC2".to_string()),
        Some(wire::LaunchType::External) => Some("EXTERNAL".to_string()),
        Some(other) => {
            return Err(ApiError::invalid_parameter(format!("launchType: {other} is not available on this cluster")))
        }
    };
    let strategy = super::capacity_providers::strategy(strategy, "capacityProviderStrategy")?;
    if launch_type.is_some() && !strategy.is_empty() {
        return Err(ApiError::invalid_parameter("launchType and capacityProviderStrategy cannot both be specified"));
    }
    Ok((launch_type, strategy))
}

/// A create call's `clientToken` with a fingerprint of the rest of the request (`without_token`),
/// so a retry is recognised and a different request under the same token is not.
pub(crate) fn client_token(
    token: Option<&String>,
    without_token: &impl serde::Serialize,
) -> ApiResult<Option<(String, String)>> {
    match token {
        Some(token) if token.is_empty() || token.len() > 36 => {
            Err(ApiError::invalid_parameter("clientToken: must be 1 to 36 characters"))
        }
        Some(token) => {
            let fingerprint = serde_json::to_string(without_token).expect("requests always serialise");
            Ok(Some((token.clone(), fingerprint)))
        }
        None => Ok(None),
    }
}

/// `loadBalancers`, shape-checked (the control plane checks the target groups and the task
/// definition). Application Load Balancers only: a Classic Load Balancer has no target groups.
fn load_balancers(items: Option<&Vec<wire::LoadBalancer>>) -> ApiResult<Option<Vec<ServiceLoadBalancer>>> {
    let Some(items) = items else { return Ok(None) };
    let mut parsed = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let field = |name: &str| format!("loadBalancers[{index}].{name}");
        if item.load_balancer_name.is_some() {
            return Err(ApiError::invalid_parameter(format!(
                "{}: Classic Load Balancers are not supported; name an Application Load Balancer target group in targetGroupArn",
                field("loadBalancerName")
            )));
        }
        let Some(target_group_arn) = item.target_group_arn.clone().filter(|arn| !arn.is_empty()) else {
            return Err(ApiError::invalid_parameter(format!("{}: required", field("targetGroupArn"))));
        };
        let Some(container_name) = item.container_name.clone().filter(|name| !name.is_empty()) else {
            return Err(ApiError::invalid_parameter(format!("{}: required", field("containerName"))));
        };
        let container_port = match item.container_port {
            Some(port) if (1..=65535).contains(&port) => port as u16,
            Some(port) => {
                return Err(ApiError::invalid_parameter(format!(
                    "{}: must be between 1 and 65535, got {port}",
                    field("containerPort")
                )))
            }
            None => return Err(ApiError::invalid_parameter(format!("{}: required", field("containerPort")))),
        };
        let advanced =
            item.advanced_configuration.as_ref().map(|advanced| advanced_configuration(advanced, index)).transpose()?;
        parsed.push(ServiceLoadBalancer {
            target_group_arn,
            container_name,
            container_port,
            advanced,
            gateway_route: None,
        });
    }
    Ok(Some(parsed))
}

fn advanced_configuration(advanced: &wire::AdvancedConfiguration, index: usize) -> ApiResult<AdvancedLoadBalancer> {
    let required = |value: &Option<String>, name: &str| {
        value.clone().filter(|value| !value.is_empty()).ok_or_else(|| {
            ApiError::invalid_parameter(format!("loadBalancers[{index}].advancedConfiguration.{name}: required"))
        })
    };
    Ok(AdvancedLoadBalancer {
        alternate_target_group_arn: required(&advanced.alternate_target_group_arn, "alternateTargetGroupArn")?,
        production_listener_rule: required(&advanced.production_listener_rule, "productionListenerRule")?,
        test_listener_rule: advanced.test_listener_rule.clone().filter(|rule| !rule.is_empty()),
        role_arn: advanced.role_arn.clone(),
    })
}

/// `deploymentConfiguration.strategy` with its settings; `None` when no strategy is named.
/// ECS's ranges: bake times 0–1440 minutes, linear steps 3–100 %, canaries 0.1–100 %, in
/// tenths of a percent.
fn traffic_strategy(deployment: &wire::DeploymentConfiguration) -> ApiResult<Option<TrafficStrategy>> {
    let field = |name: &str| format!("deploymentConfiguration.{name}");
    let minutes = |value: Option<i32>, name: &str, default: u32| match value {
        None => Ok(default),
        Some(minutes) if (0..=1440).contains(&minutes) => Ok(minutes as u32),
        Some(minutes) => {
            Err(ApiError::invalid_parameter(format!("{}: must be between 0 and 1440, got {minutes}", field(name))))
        }
    };
    let per_mille = |value: Option<f64>, name: &str, range: (u32, u32), default: u32| match value {
        None => Ok(default),
        Some(percent) => {
            let tenths = (percent * 10.0).round();
            let whole_tenths = (percent * 10.0 - tenths).abs() < 1e-6;
            if whole_tenths && tenths >= f64::from(range.0) && tenths <= f64::from(range.1) {
                Ok(tenths as u32)
            } else {
                Err(ApiError::invalid_parameter(format!(
                    "{}: must be a multiple of 0.1 from {} to 100.0, got {percent}",
                    field(name),
                    f64::from(range.0) / 10.0
                )))
            }
        }
    };
    let bake_minutes = minutes(deployment.bake_time_in_minutes, "bakeTimeInMinutes", 0)?;
    Ok(match deployment.strategy {
        None => None,
        Some(wire::DeploymentStrategy::Rolling) => Some(TrafficStrategy::Rolling),
        Some(wire::DeploymentStrategy::BlueGreen) => {
            if deployment.bake_time_in_minutes.is_none() {
                return Err(ApiError::invalid_parameter(format!(
                    "{}: required for the BLUE_GREEN deployment strategy",
                    field("bakeTimeInMinutes")
                )));
            }
            Some(TrafficStrategy::BlueGreen { bake_minutes })
        }
        Some(wire::DeploymentStrategy::Linear) => {
            let linear = deployment.linear_configuration.clone().unwrap_or_default();
            Some(TrafficStrategy::Linear {
                bake_minutes,
                step_per_mille: per_mille(linear.step_percent, "linearConfiguration.stepPercent", (30, 1000), 100)?,
                step_bake_minutes: minutes(
                    linear.step_bake_time_in_minutes,
                    "linearConfiguration.stepBakeTimeInMinutes",
                    6,
                )?,
            })
        }
        Some(wire::DeploymentStrategy::Canary) => {
            let canary = deployment.canary_configuration.clone().unwrap_or_default();
            Some(TrafficStrategy::Canary {
                bake_minutes,
                canary_per_mille: per_mille(canary.canary_percent, "canaryConfiguration.canaryPercent", (1, 1000), 50)?,
                canary_bake_minutes: minutes(
                    canary.canary_bake_time_in_minutes,
                    "canaryConfiguration.canaryBakeTimeInMinutes",
                    10,
                )?,
            })
        }
    })
}

/// `deploymentConfiguration.lifecycleHooks`: PAUSE hooks at the stages Berth's traffic
/// shifts pass through. AWS_LAMBDA hooks need Lambda, which this endpoint does not provide.
fn lifecycle_hooks(deployment: &wire::DeploymentConfiguration) -> ApiResult<Option<Vec<PauseHook>>> {
    let Some(hooks) = &deployment.lifecycle_hooks else { return Ok(None) };
    let mut parsed = Vec::with_capacity(hooks.len());
    for (index, hook) in hooks.iter().enumerate() {
        let field = |name: &str| format!("deploymentConfiguration.lifecycleHooks[{index}].{name}");
        if hook.target_type != Some(wire::DeploymentLifecycleHookTargetType::Pause) {
            return Err(ApiError::invalid_parameter(format!(
                "{}: only PAUSE hooks are supported (AWS_LAMBDA, the default, needs AWS Lambda, which this endpoint does not provide)",
                field("targetType")
            )));
        }
        let stages = hook.lifecycle_stages.clone().unwrap_or_default();
        if stages.is_empty() {
            return Err(ApiError::invalid_parameter(format!(
                "{}: at least one stage is required",
                field("lifecycleStages")
            )));
        }
        let stages = stages
            .iter()
            .map(|stage| {
                HookStage::parse(stage.as_str()).ok_or_else(|| {
                    ApiError::invalid_parameter(format!(
                        "{}: {stage} is not a stage Berth's deployments pause at (RECONCILE_SERVICE is not supported)",
                        field("lifecycleStages")
                    ))
                })
            })
            .collect::<ApiResult<Vec<_>>>()?;
        let timeout = hook.timeout_configuration.clone().unwrap_or_default();
        let timeout_minutes = match timeout.timeout_in_minutes {
            None => 1440,
            Some(minutes) if (1..=20160).contains(&minutes) => minutes as u32,
            Some(minutes) => {
                return Err(ApiError::invalid_parameter(format!(
                    "{}: must be between 1 and 20160, got {minutes}",
                    field("timeoutConfiguration.timeoutInMinutes")
                )))
            }
        };
        let timeout_action = match timeout.action {
            Some(wire::DeploymentLifecycleHookAction::Continue) => HookAction::Continue,
            _ => HookAction::Rollback,
        };
        parsed.push(PauseHook { stages, timeout_minutes, timeout_action });
    }
    Ok(Some(parsed))
}

/// ECS (the default) or EXTERNAL. CODE_DEPLOY needs AWS CodeDeploy to drive its task sets.
fn deployment_controller(controller: Option<&wire::DeploymentController>) -> ApiResult<DeploymentController> {
    match controller.and_then(|controller| controller.r#type) {
        None | Some(wire::DeploymentControllerType::Ecs) => Ok(DeploymentController::Ecs),
        Some(wire::DeploymentControllerType::External) => Ok(DeploymentController::External),
        Some(wire::DeploymentControllerType::CodeDeploy) => Err(ApiError::invalid_parameter(
            "deploymentController.type: CODE_DEPLOY needs AWS CodeDeploy, which this endpoint does not provide; use ECS or EXTERNAL",
        )),
    }
}

fn not_supported(field: &str, present: bool) -> ApiResult<()> {
    if present {
        return Err(ApiError::invalid_parameter(format!("{field}: not supported by this Berth version yet")));
    }
    Ok(())
}

fn unsupported_members(
    service_registries: Option<&Vec<wire::ServiceRegistry>>,
    network_configuration: bool,
    service_connect: bool,
) -> ApiResult<()> {
    not_supported("serviceRegistries", service_registries.is_some_and(|items| !items.is_empty()))?;
    not_supported("networkConfiguration", network_configuration)?;
    not_supported("serviceConnectConfiguration", service_connect)
}

pub async fn create_service(api: &Api, request: wire::CreateServiceRequest) -> ApiResult<wire::CreateServiceResponse> {
    let context = api.context();
    let cluster = parse::cluster(request.cluster.as_ref(), context)?;
    let name = ServiceName::parse(request.service_name.as_deref().unwrap_or_default())
        .map_err(|error| ApiError::invalid_parameter(format!("serviceName: {error}")))?;
    unsupported_members(
        request.service_registries.as_ref(),
        request.network_configuration.is_some(),
        request.service_connect_configuration.is_some(),
    )?;
    let deployment_controller = deployment_controller(request.deployment_controller.as_ref())?;
    let scheduling_strategy = match request.scheduling_strategy {
        Some(wire::SchedulingStrategy::Daemon) => SchedulingStrategy::Daemon,
        _ => SchedulingStrategy::Replica,
    };
    let external = deployment_controller == DeploymentController::External;
    if external && scheduling_strategy == SchedulingStrategy::Daemon {
        return Err(ApiError::invalid_parameter(
            "schedulingStrategy: the DAEMON scheduling strategy is not supported with the EXTERNAL deployment controller",
        ));
    }
    let desired_count = match (scheduling_strategy, desired_count(request.desired_count)?) {
        (SchedulingStrategy::Replica, Some(count)) => count,
        (SchedulingStrategy::Replica, None) => {
            return Err(ApiError::invalid_parameter("desiredCount: required for the REPLICA scheduling strategy"))
        }
        (SchedulingStrategy::Daemon, None) => 0,
        (SchedulingStrategy::Daemon, Some(_)) => return Err(ApiError::invalid_parameter(DAEMON_DESIRED_COUNT)),
    };
    let (launch_type, capacity_provider_strategy) =
        compute_option(request.launch_type, request.capacity_provider_strategy.as_ref())?;
    let placement_strategy = placement_strategy(request.placement_strategy.as_ref())?.unwrap_or_default();
    if scheduling_strategy == SchedulingStrategy::Daemon && !placement_strategy.is_empty() {
        return Err(ApiError::invalid_parameter(
            "placementStrategy: placement strategies are not supported with the DAEMON scheduling strategy",
        ));
    }
    let deployment = request.deployment_configuration.clone().unwrap_or_default();
    let (default_minimum, default_maximum) = match scheduling_strategy {
        SchedulingStrategy::Replica => (100, 200),
        SchedulingStrategy::Daemon => (0, 100),
    };
    let minimum_healthy_percent =
        percent(deployment.minimum_healthy_percent, "deploymentConfiguration.minimumHealthyPercent")?
            .unwrap_or(default_minimum);
    let maximum_percent =
        percent(deployment.maximum_percent, "deploymentConfiguration.maximumPercent")?.unwrap_or(default_maximum);
    if scheduling_strategy == SchedulingStrategy::Daemon && maximum_percent > 100 {
        return Err(ApiError::invalid_parameter(DAEMON_MAXIMUM_PERCENT));
    }
    if maximum_percent < minimum_healthy_percent || maximum_percent == 0 {
        return Err(ApiError::invalid_parameter(
            "deploymentConfiguration: maximumPercent must be greater than 0 and at least minimumHealthyPercent",
        ));
    }
    let grace = request.health_check_grace_period_seconds.unwrap_or(0);
    if grace < 0 {
        return Err(ApiError::invalid_parameter("healthCheckGracePeriodSeconds: must not be negative"));
    }
    // An EXTERNAL service's task sets name their task definitions; the service's own is optional.
    let task_definition = match request.task_definition.as_deref() {
        None if external => None,
        reference => Some(task_definition(api, reference.unwrap_or_default())?),
    };
    let tags = berth_ecs_convert::parse_tags(request.tags.as_ref())?;
    let client_token = client_token(
        request.client_token.as_ref(),
        &wire::CreateServiceRequest { client_token: None, ..request.clone() },
    )?;
    let configuration = ServiceConfiguration {
        task_definition,
        desired_count,
        scheduling_strategy,
        minimum_healthy_percent,
        maximum_percent,
        circuit_breaker: circuit_breaker(deployment.deployment_circuit_breaker.as_ref())?.unwrap_or_default(),
        deployment_alarms: deployment_alarms(deployment.alarms.as_ref())?,
        health_check_grace_period_seconds: grace as u32,
        placement_constraints: placement_constraints(request.placement_constraints.as_ref())?.unwrap_or_default(),
        placement_strategy,
        capacity_provider_strategy,
        launch_type,
        propagate_tags: request.propagate_tags.map(|value| value.as_str().to_string()),
        enable_ecs_managed_tags: request.enable_ecs_managed_tags.unwrap_or(false),
        enable_execute_command: request.enable_execute_command.unwrap_or(false),
        deployment_controller,
        load_balancers: load_balancers(request.load_balancers.as_ref())?.unwrap_or_default(),
        strategy: traffic_strategy(&deployment)?.unwrap_or_default(),
        lifecycle_hooks: lifecycle_hooks(&deployment)?.unwrap_or_default(),
        gateway_connectors: super::gateways::connectors(request.gateway_connectors.as_ref())?.unwrap_or_default(),
    };
    let summary =
        api.control.create_service(CreateService { cluster, name, configuration, tags, client_token }).await?;
    Ok(wire::CreateServiceResponse { service: Some(render::service(&summary, context, true)) })
}

pub async fn update_service(api: &Api, request: wire::UpdateServiceRequest) -> ApiResult<wire::UpdateServiceResponse> {
    let context = api.context();
    let cluster = parse::cluster(request.cluster.as_ref(), context)?;
    let name = service_name(request.service.as_deref(), api, &cluster, "service")?;
    unsupported_members(
        request.service_registries.as_ref(),
        request.network_configuration.is_some(),
        request.service_connect_configuration.is_some(),
    )?;
    let deployment = request.deployment_configuration.clone().unwrap_or_default();
    let (current, _) = api.control.describe_services(&cluster, std::slice::from_ref(&name))?;
    if let Some(current) = current.first() {
        if current.record.configuration.scheduling_strategy == SchedulingStrategy::Daemon {
            if request.desired_count.is_some() {
                return Err(ApiError::invalid_parameter(DAEMON_DESIRED_COUNT));
            }
            if deployment.maximum_percent.is_some_and(|maximum| maximum > 100) {
                return Err(ApiError::invalid_parameter(DAEMON_MAXIMUM_PERCENT));
            }
        }
    }
    let update = UpdateService {
        task_definition: request
            .task_definition
            .as_deref()
            .map(|reference| task_definition(api, reference))
            .transpose()?,
        desired_count: desired_count(request.desired_count)?,
        minimum_healthy_percent: percent(
            deployment.minimum_healthy_percent,
            "deploymentConfiguration.minimumHealthyPercent",
        )?,
        maximum_percent: percent(deployment.maximum_percent, "deploymentConfiguration.maximumPercent")?,
        circuit_breaker: circuit_breaker(deployment.deployment_circuit_breaker.as_ref())?,
        deployment_alarms: deployment_alarms(deployment.alarms.as_ref())?,
        health_check_grace_period_seconds: match request.health_check_grace_period_seconds {
            Some(seconds) if seconds < 0 => {
                return Err(ApiError::invalid_parameter("healthCheckGracePeriodSeconds: must not be negative"))
            }
            other => other.map(|seconds| seconds as u32),
        },
        placement_constraints: placement_constraints(request.placement_constraints.as_ref())?,
        placement_strategy: placement_strategy(request.placement_strategy.as_ref())?,
        capacity_provider_strategy: request
            .capacity_provider_strategy
            .as_ref()
            .map(|items| super::capacity_providers::strategy(Some(items), "capacityProviderStrategy"))
            .transpose()?,
        force_new_deployment: request.force_new_deployment.unwrap_or(false),
        enable_execute_command: request.enable_execute_command,
        load_balancers: load_balancers(request.load_balancers.as_ref())?,
        strategy: traffic_strategy(&deployment)?,
        lifecycle_hooks: lifecycle_hooks(&deployment)?,
        gateway_connectors: super::gateways::connectors(request.gateway_connectors.as_ref())?,
    };
    let summary = api.control.update_service(&cluster, &name, update).await?;
    Ok(wire::UpdateServiceResponse { service: Some(render::service(&summary, context, false)) })
}

pub async fn delete_service(api: &Api, request: wire::DeleteServiceRequest) -> ApiResult<wire::DeleteServiceResponse> {
    let context = api.context();
    let cluster = parse::cluster(request.cluster.as_ref(), context)?;
    let name = service_name(request.service.as_deref(), api, &cluster, "service")?;
    let summary = api.control.delete_service(&cluster, &name, request.force.unwrap_or(false)).await?;
    Ok(wire::DeleteServiceResponse { service: Some(render::service(&summary, context, false)) })
}

pub async fn describe_services(
    api: &Api,
    request: wire::DescribeServicesRequest,
) -> ApiResult<wire::DescribeServicesResponse> {
    let context = api.context();
    let cluster = parse::cluster(request.cluster.as_ref(), context)?;
    let references = parse::bounded(request.services.as_ref(), 10, "services", true)?;
    let names = references
        .iter()
        .enumerate()
        .map(|(index, reference)| service_name(Some(reference), api, &cluster, &format!("services[{index}]")))
        .collect::<ApiResult<Vec<_>>>()?;
    let include_tags = request.include.unwrap_or_default().contains(&wire::ServiceField::Tags);
    let (found, missing) = api.control.describe_services(&cluster, &names)?;
    Ok(wire::DescribeServicesResponse {
        services: Some(found.iter().map(|summary| render::service(summary, context, include_tags)).collect()),
        failures: Some(
            missing
                .into_iter()
                .map(|name| render::failure(Some(Arn::Service(cluster.clone(), name).render(context)), "MISSING"))
                .collect(),
        ),
    })
}

pub async fn list_services(api: &Api, request: wire::ListServicesRequest) -> ApiResult<wire::ListServicesResponse> {
    let context = api.context();
    let cluster = parse::cluster(request.cluster.as_ref(), context)?;
    let scheduling = request.scheduling_strategy.map(|strategy| match strategy {
        wire::SchedulingStrategy::Replica => SchedulingStrategy::Replica,
        wire::SchedulingStrategy::Daemon => SchedulingStrategy::Daemon,
    });
    let launch_type = request.launch_type.map(|launch_type| launch_type.as_str());
    let arns: Vec<String> = api
        .control
        .list_services(&cluster, scheduling, launch_type)?
        .into_iter()
        .map(|name| Arn::Service(cluster.clone(), name).render(context))
        .collect();
    let (page, next_token) = parse::page(&arns, request.max_results, request.next_token.as_ref(), 10, 100)?;
    Ok(wire::ListServicesResponse { service_arns: Some(page), next_token })
}
