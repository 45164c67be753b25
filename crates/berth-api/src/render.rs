//! Domain records to ECS response shapes. Everything a response shows is derived here, so the
//! wire format lives in one place.

use berth_control::clusters::ClusterSummary;
use berth_control::container_instances::InstanceSummary;
use berth_control::services::{SchedulingStrategy, ServiceSummary};
use berth_control::task_sets::TaskSetRecord;
use berth_ecs_wire as wire;
use berth_types::records::{CapacityProviderRecord, CapacityProviderStrategyItem, TaskRecord};
use berth_types::{Arn, ArnContext, ClusterName, PortProtocol, Resources, ServiceName, Tag, TaskStatus};

pub fn tags(tags: &[Tag]) -> Vec<wire::Tag> {
    tags.iter().map(|tag| wire::Tag { key: Some(tag.key.clone()), value: Some(tag.value.clone()) }).collect()
}

/// Which optional parts a describe call asked for with `include`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Include {
    pub tags: bool,
    pub statistics: bool,
    pub settings: bool,
}

pub fn cluster(summary: &ClusterSummary, context: &ArnContext, include: Include) -> wire::Cluster {
    let record = &summary.record;
    wire::Cluster {
        cluster_arn: Some(Arn::Cluster(record.name.clone()).render(context)),
        cluster_name: Some(record.name.to_string()),
        status: Some(record.status.as_str().to_string()),
        registered_container_instances_count: Some(summary.registered_container_instances as i32),
        running_tasks_count: Some(summary.running_tasks as i32),
        pending_tasks_count: Some(summary.pending_tasks as i32),
        active_services_count: Some(summary.active_services as i32),
        statistics: Some(if include.statistics { cluster_statistics(summary) } else { vec![] }),
        tags: Some(if include.tags { tags(&record.tags) } else { vec![] }),
        settings: include.settings.then(|| {
            record
                .settings
                .iter()
                .map(|(name, value)| wire::ClusterSetting {
                    name: wire::ClusterSettingName::parse(name),
                    value: Some(value.clone()),
                })
                .collect()
        }),
        capacity_providers: Some(record.capacity_providers.clone()),
        default_capacity_provider_strategy: Some(capacity_provider_strategy(
            &record.default_capacity_provider_strategy,
        )),
        ..Default::default()
    }
}

/// The EC2 launch-type statistics ECS lists under `include: STATISTICS`.
fn cluster_statistics(summary: &ClusterSummary) -> Vec<wire::KeyValuePair> {
    let pair =
        |name: &str, value: usize| wire::KeyValuePair { name: Some(name.to_string()), value: Some(value.to_string()) };
    vec![
        pair("runningEC2TasksCount", summary.running_tasks),
        pair("runningFargateTasksCount", 0),
        pair("pendingEC2TasksCount", summary.pending_tasks),
        pair("pendingFargateTasksCount", 0),
        pair("runningExternalTasksCount", 0),
        pair("pendingExternalTasksCount", 0),
        pair("activeEC2ServiceCount", summary.active_services),
        pair("activeFargateServiceCount", 0),
        pair("drainingEC2ServiceCount", 0),
        pair("drainingFargateServiceCount", 0),
        pair("activeExternalServiceCount", 0),
        pair("drainingExternalServiceCount", 0),
    ]
}

pub fn capacity_provider_strategy(items: &[CapacityProviderStrategyItem]) -> Vec<wire::CapacityProviderStrategyItem> {
    items
        .iter()
        .map(|item| wire::CapacityProviderStrategyItem {
            capacity_provider: Some(item.capacity_provider.clone()),
            weight: Some(item.weight as i32),
            base: Some(item.base as i32),
        })
        .collect()
}

pub fn capacity_provider(
    record: &CapacityProviderRecord,
    context: &ArnContext,
    include_tags: bool,
) -> wire::CapacityProvider {
    wire::CapacityProvider {
        capacity_provider_arn: Some(Arn::CapacityProvider(record.name.clone()).render(context)),
        name: Some(record.name.clone()),
        status: Some(if record.active {
            wire::CapacityProviderStatus::Active
        } else {
            wire::CapacityProviderStatus::Inactive
        }),
        auto_scaling_group_provider: record
            .auto_scaling_group_provider
            .clone()
            .and_then(|document| serde_json::from_value(document).ok()),
        update_status: wire::CapacityProviderUpdateStatus::parse(&record.update_status),
        update_status_reason: record.update_status_reason.clone(),
        tags: Some(if include_tags { tags(&record.tags) } else { vec![] }),
        ..Default::default()
    }
}

pub fn resources(resources: &Resources) -> Vec<wire::Resource> {
    let integer = |name: &str, value: i64| wire::Resource {
        name: Some(name.to_string()),
        r#type: Some("INTEGER".to_string()),
        integer_value: Some(value.clamp(i32::MIN as i64, i32::MAX as i64) as i32),
        double_value: Some(0.0),
        long_value: Some(0),
        ..Default::default()
    };
    let ports = |name: &str, protocol: PortProtocol| wire::Resource {
        name: Some(name.to_string()),
        r#type: Some("STRINGSET".to_string()),
        string_set_value: Some(resources.ports(protocol).iter().map(u16::to_string).collect()),
        double_value: Some(0.0),
        long_value: Some(0),
        integer_value: Some(0),
    };
    vec![
        integer("CPU", resources.cpu),
        integer("MEMORY", resources.memory),
        ports("PORTS", PortProtocol::Tcp),
        ports("PORTS_UDP", PortProtocol::Udp),
    ]
}

pub fn container_instance(
    summary: &InstanceSummary,
    context: &ArnContext,
    include_tags: bool,
) -> wire::ContainerInstance {
    let record = &summary.record;
    wire::ContainerInstance {
        container_instance_arn: Some(Arn::ContainerInstance(record.cluster.clone(), record.id.clone()).render(context)),
        ec2_instance_id: Some(record.ec2_instance_id.clone()),
        capacity_provider_name: record.capacity_provider.clone(),
        version: Some(record.version as i64),
        version_info: Some(wire::VersionInfo {
            agent_version: record.version_info.agent_version.clone(),
            agent_hash: record.version_info.agent_hash.clone(),
            docker_version: record.version_info.docker_version.clone(),
        }),
        remaining_resources: Some(resources(&summary.remaining)),
        registered_resources: Some(resources(&record.registered)),
        status: Some(record.status.as_str().to_string()),
        status_reason: record.status_reason.clone(),
        agent_connected: Some(summary.agent_connected),
        running_tasks_count: Some(summary.running_tasks as i32),
        pending_tasks_count: Some(summary.pending_tasks as i32),
        attributes: Some(
            record
                .effective_attributes()
                .iter()
                .map(|attribute| wire::Attribute {
                    name: Some(attribute.name.clone()),
                    value: attribute.value.clone(),
                    ..Default::default()
                })
                .collect(),
        ),
        registered_at: Some(record.registered_at.as_epoch_seconds()),
        attachments: Some(vec![]),
        tags: Some(if include_tags { tags(&record.tags) } else { vec![] }),
        ..Default::default()
    }
}

fn stop_code(code: berth_types::TaskStopCode) -> wire::TaskStopCode {
    wire::TaskStopCode::parse(code.as_str()).expect("Berth's stop codes are all ECS stop codes")
}

fn health(status: berth_types::HealthStatus) -> wire::HealthStatus {
    wire::HealthStatus::parse(status.as_str()).expect("Berth's health statuses are ECS's")
}

/// A daemon's task (group `daemon:NAME`) runs a daemon task definition, which has its own ARN.
fn task_definition_arn_of(task: &TaskRecord, context: &ArnContext) -> String {
    if task.group.starts_with("daemon:") {
        berth_types::daemons::DaemonArn::TaskDefinition(task.family.clone(), task.revision).render(context)
    } else {
        Arn::TaskDefinition(task.family.clone(), task.revision).render(context)
    }
}

pub fn task(task: &TaskRecord, context: &ArnContext, include_tags: bool) -> wire::Task {
    let task_arn = Arn::Task(task.cluster.clone(), task.id.clone()).render(context);
    let containers = task
        .containers
        .iter()
        .map(|state| {
            let spec = task.spec.containers.iter().find(|spec| spec.name == state.name);
            wire::Container {
                container_arn: Some(format!(
                    "arn:aws:ecs:{}:{}:container/{}/{}/{}",
                    context.region, context.account, task.cluster, task.id, state.name
                )),
                task_arn: Some(task_arn.clone()),
                name: Some(state.name.clone()),
                image: spec.map(|spec| spec.image.clone()),
                image_digest: state.image_digest.clone(),
                runtime_id: state.runtime_id.clone(),
                last_status: Some(state.last_status.as_str().to_string()),
                exit_code: state.exit_code,
                reason: state.reason.clone(),
                network_bindings: Some(
                    state
                        .network_bindings
                        .iter()
                        .map(|binding| wire::NetworkBinding {
                            bind_ip: Some(binding.bind_ip.clone()),
                            container_port: Some(i32::from(binding.container_port)),
                            host_port: Some(i32::from(binding.host_port)),
                            protocol: Some(match binding.protocol {
                                PortProtocol::Tcp => wire::TransportProtocol::Tcp,
                                PortProtocol::Udp => wire::TransportProtocol::Udp,
                            }),
                            ..Default::default()
                        })
                        .collect(),
                ),
                network_interfaces: Some(vec![]),
                health_status: Some(health(state.health_status)),
                cpu: spec.map(|spec| spec.cpu.to_string()),
                memory: spec.and_then(|spec| spec.memory).map(|memory| memory.to_string()),
                memory_reservation: spec.and_then(|spec| spec.memory_reservation).map(|memory| memory.to_string()),
                ..Default::default()
            }
        })
        .collect();
    let overrides: Option<wire::TaskOverride> = serde_json::from_value(task.overrides.clone()).ok();
    wire::Task {
        attachments: Some(vec![]),
        attributes: Some(vec![]),
        cluster_arn: Some(Arn::Cluster(task.cluster.clone()).render(context)),
        connectivity: (task.last_status >= TaskStatus::Pending).then_some(wire::Connectivity::Connected),
        connectivity_at: (task.last_status >= TaskStatus::Pending).then(|| task.created_at.as_epoch_seconds()),
        container_instance_arn: Some(
            Arn::ContainerInstance(task.cluster.clone(), task.container_instance.clone()).render(context),
        ),
        containers: Some(containers),
        cpu: task.spec.cpu.map(|cpu| cpu.to_string()),
        memory: task.spec.memory.map(|memory| memory.to_string()),
        created_at: Some(task.created_at.as_epoch_seconds()),
        desired_status: Some(task.desired_status.as_str().to_string()),
        enable_execute_command: Some(task.enable_execute_command),
        execution_stopped_at: task.execution_stopped_at.map(|at| at.as_epoch_seconds()),
        group: Some(task.group.clone()),
        health_status: Some(health(task.health_status)),
        inference_accelerators: Some(vec![]),
        last_status: Some(task.shown_last_status().as_str().to_string()),
        launch_type: wire::LaunchType::parse(&task.launch_type),
        capacity_provider_name: task.capacity_provider.clone(),
        overrides,
        pull_started_at: task.pull_started_at.map(|at| at.as_epoch_seconds()),
        pull_stopped_at: task.pull_stopped_at.map(|at| at.as_epoch_seconds()),
        started_at: task.started_at.map(|at| at.as_epoch_seconds()),
        started_by: task.started_by.clone(),
        stop_code: task.stop_code.map(stop_code),
        stopped_at: task.stopped_at.map(|at| at.as_epoch_seconds()),
        stopped_reason: task.stopped_reason.clone(),
        stopping_at: task.stopping_at.map(|at| at.as_epoch_seconds()),
        tags: Some(if include_tags { tags(&task.tags) } else { vec![] }),
        task_arn: Some(task_arn),
        task_definition_arn: Some(task_definition_arn_of(task, context)),
        version: Some(task.version as i64),
        ..Default::default()
    }
}

pub fn failure(arn: Option<String>, reason: &str) -> wire::Failure {
    wire::Failure { arn, reason: Some(reason.to_string()), detail: None }
}

pub fn service(summary: &ServiceSummary, context: &ArnContext, include_tags: bool) -> wire::Service {
    let record = &summary.record;
    let configuration = &record.configuration;
    let task_definition_arn =
        |key: &berth_planner::TaskDefinitionKey| Arn::TaskDefinition(key.family.clone(), key.revision).render(context);
    // An EXTERNAL service shows its primary task set's fields, and none without a primary.
    let primary_task_set = record.primary_task_set();
    let (launch_type, provider_items) = match primary_task_set {
        Some(set) => (set.launch_type.as_deref(), &set.capacity_provider_strategy),
        None => (configuration.launch_type.as_deref(), &configuration.capacity_provider_strategy),
    };
    let launch_type =
        if provider_items.is_empty() { wire::LaunchType::parse(launch_type.unwrap_or("EC2")) } else { None };
    let capacity_provider_strategy = capacity_provider_strategy(provider_items);
    let service_task_definition = match primary_task_set {
        Some(set) => Some(&set.task_definition),
        None if configuration.is_external() => None,
        None => configuration.task_definition.as_ref(),
    };
    let task_sets = configuration.is_external().then(|| {
        record
            .task_sets
            .iter()
            .map(|set| task_set(&record.cluster, &record.name, configuration.desired_count, set, context, include_tags))
            .collect()
    });
    let deployments = record
        .progress
        .visible_deployments()
        .map(|deployment| wire::Deployment {
            id: Some(deployment.id.to_string()),
            status: Some(deployment.status.as_str().to_string()),
            task_definition: Some(task_definition_arn(&deployment.task_definition)),
            desired_count: Some(deployment.desired_count as i32),
            pending_count: Some(deployment.pending_count as i32),
            running_count: Some(deployment.running_count as i32),
            failed_tasks: Some(deployment.failed_tasks as i32),
            created_at: Some(deployment.created_at.as_epoch_seconds()),
            updated_at: Some(deployment.updated_at.as_epoch_seconds()),
            launch_type,
            capacity_provider_strategy: (!capacity_provider_strategy.is_empty())
                .then(|| capacity_provider_strategy.clone()),
            rollout_state: wire::DeploymentRolloutState::parse(deployment.rollout_state.as_str()),
            rollout_state_reason: Some(deployment.rollout_state_reason.clone()),
            ..Default::default()
        })
        .collect();
    wire::Service {
        service_arn: Some(Arn::Service(record.cluster.clone(), record.name.clone()).render(context)),
        service_name: Some(record.name.to_string()),
        cluster_arn: Some(Arn::Cluster(record.cluster.clone()).render(context)),
        load_balancers: Some(
            record
                .configuration
                .load_balancers
                .iter()
                .filter(|entry| entry.gateway_route.is_none())
                .map(load_balancer)
                .collect(),
        ),
        service_registries: Some(vec![]),
        status: Some(record.status.as_str().to_string()),
        desired_count: Some(summary.desired_count as i32),
        running_count: Some(summary.running_count as i32),
        pending_count: Some(summary.pending_count as i32),
        launch_type,
        capacity_provider_strategy: (!capacity_provider_strategy.is_empty()).then_some(capacity_provider_strategy),
        task_definition: service_task_definition.map(task_definition_arn),
        task_sets,
        deployment_configuration: Some(wire::DeploymentConfiguration {
            deployment_circuit_breaker: Some(wire::DeploymentCircuitBreaker {
                enable: Some(configuration.circuit_breaker.enable),
                rollback: Some(configuration.circuit_breaker.rollback),
                ..Default::default()
            }),
            maximum_percent: Some(configuration.maximum_percent as i32),
            minimum_healthy_percent: Some(configuration.minimum_healthy_percent as i32),
            alarms: configuration.deployment_alarms.as_ref().map(|alarms| wire::DeploymentAlarms {
                alarm_names: Some(alarms.alarm_names.clone()),
                rollback: Some(alarms.rollback),
                enable: Some(alarms.enable),
            }),
            ..strategy(&configuration.strategy, &configuration.lifecycle_hooks)
        }),
        deployments: Some(deployments),
        events: Some(
            record
                .events
                .iter()
                .map(|event| wire::ServiceEvent {
                    id: Some(event.id.clone()),
                    created_at: Some(event.created_at.as_epoch_seconds()),
                    message: Some(event.message.clone()),
                })
                .collect(),
        ),
        created_at: Some(record.created_at.as_epoch_seconds()),
        placement_constraints: Some(
            configuration
                .placement_constraints
                .iter()
                .map(|(kind, expression)| wire::PlacementConstraint {
                    r#type: wire::PlacementConstraintType::parse(kind),
                    expression: expression.clone(),
                })
                .collect(),
        ),
        placement_strategy: Some(
            configuration
                .placement_strategy
                .iter()
                .map(|(kind, field)| wire::PlacementStrategy {
                    r#type: wire::PlacementStrategyType::parse(kind),
                    field: field.clone(),
                })
                .collect(),
        ),
        health_check_grace_period_seconds: Some(configuration.health_check_grace_period_seconds as i32),
        scheduling_strategy: Some(match configuration.scheduling_strategy {
            SchedulingStrategy::Replica => wire::SchedulingStrategy::Replica,
            SchedulingStrategy::Daemon => wire::SchedulingStrategy::Daemon,
        }),
        deployment_controller: Some(wire::DeploymentController {
            r#type: wire::DeploymentControllerType::parse(configuration.deployment_controller.as_str()),
        }),
        tags: Some(if include_tags { tags(&record.tags) } else { vec![] }),
        created_by: Some(record.created_by.clone()),
        enable_ecs_managed_tags: Some(configuration.enable_ecs_managed_tags),
        propagate_tags: Some(
            configuration
                .propagate_tags
                .as_deref()
                .and_then(wire::PropagateTags::parse)
                .unwrap_or(wire::PropagateTags::None),
        ),
        enable_execute_command: Some(configuration.enable_execute_command),
        ..Default::default()
    }
}

/// `arn:aws:ecs:REGION:ACCOUNT:task-set/CLUSTER/SERVICE/ecs-svc/DIGITS`.
pub fn task_set_arn(cluster: &ClusterName, service: &ServiceName, id: &str, context: &ArnContext) -> String {
    format!("arn:aws:ecs:{}:{}:task-set/{cluster}/{service}/{id}", context.region, context.account)
}

pub fn task_set(
    cluster: &ClusterName,
    service: &ServiceName,
    service_desired_count: u32,
    set: &TaskSetRecord,
    context: &ArnContext,
    include_tags: bool,
) -> wire::TaskSet {
    let provider_items = capacity_provider_strategy(&set.capacity_provider_strategy);
    let launch_type = if provider_items.is_empty() {
        wire::LaunchType::parse(set.launch_type.as_deref().unwrap_or("EC2"))
    } else {
        None
    };
    wire::TaskSet {
        id: Some(set.id.to_string()),
        task_set_arn: Some(task_set_arn(cluster, service, set.id.as_str(), context)),
        service_arn: Some(Arn::Service(cluster.clone(), service.clone()).render(context)),
        cluster_arn: Some(Arn::Cluster(cluster.clone()).render(context)),
        external_id: set.external_id.clone(),
        status: Some(set.status.as_str().to_string()),
        task_definition: Some(
            Arn::TaskDefinition(set.task_definition.family.clone(), set.task_definition.revision).render(context),
        ),
        computed_desired_count: Some(set.computed_desired_count(service_desired_count) as i32),
        pending_count: Some(set.pending_count as i32),
        running_count: Some(set.running_count as i32),
        created_at: Some(set.created_at.as_epoch_seconds()),
        updated_at: Some(set.updated_at.as_epoch_seconds()),
        launch_type,
        capacity_provider_strategy: (!provider_items.is_empty()).then_some(provider_items),
        load_balancers: Some(vec![]),
        service_registries: Some(vec![]),
        scale: Some(wire::Scale { value: Some(set.scale_percent), unit: Some(wire::ScaleUnit::Percent) }),
        stability_status: Some(if set.steady {
            wire::StabilityStatus::SteadyState
        } else {
            wire::StabilityStatus::Stabilizing
        }),
        stability_status_at: Some(set.stability_status_at.as_epoch_seconds()),
        tags: include_tags.then(|| tags(&set.tags)),
        ..Default::default()
    }
}

/// One entry of a service's `loadBalancers`.
pub fn load_balancer(entry: &berth_control::services::ServiceLoadBalancer) -> wire::LoadBalancer {
    wire::LoadBalancer {
        target_group_arn: Some(entry.target_group_arn.clone()),
        container_name: Some(entry.container_name.clone()),
        container_port: Some(i32::from(entry.container_port)),
        advanced_configuration: entry.advanced.as_ref().map(|advanced| wire::AdvancedConfiguration {
            alternate_target_group_arn: Some(advanced.alternate_target_group_arn.clone()),
            production_listener_rule: Some(advanced.production_listener_rule.clone()),
            test_listener_rule: advanced.test_listener_rule.clone(),
            role_arn: advanced.role_arn.clone(),
        }),
        ..Default::default()
    }
}

/// The strategy members of `deploymentConfiguration`.
fn strategy(
    strategy: &berth_control::services::TrafficStrategy,
    hooks: &[berth_control::elb::traffic_shift::PauseHook],
) -> wire::DeploymentConfiguration {
    use berth_control::services::TrafficStrategy;
    let percent = |per_mille: u32| Some(f64::from(per_mille) / 10.0);
    let mut configuration = wire::DeploymentConfiguration {
        strategy: wire::DeploymentStrategy::parse(strategy.name()),
        lifecycle_hooks: (!hooks.is_empty()).then(|| {
            hooks
                .iter()
                .map(|hook| wire::DeploymentLifecycleHook {
                    target_type: Some(wire::DeploymentLifecycleHookTargetType::Pause),
                    lifecycle_stages: Some(
                        hook.stages
                            .iter()
                            .filter_map(|stage| wire::DeploymentLifecycleHookStage::parse(stage.as_str()))
                            .collect(),
                    ),
                    timeout_configuration: Some(wire::DeploymentLifecycleHookTimeoutConfiguration {
                        timeout_in_minutes: Some(hook.timeout_minutes as i32),
                        action: wire::DeploymentLifecycleHookAction::parse(hook.timeout_action.as_str()),
                    }),
                    ..Default::default()
                })
                .collect()
        }),
        ..Default::default()
    };
    if !strategy.is_rolling() {
        configuration.bake_time_in_minutes = Some(strategy.bake_minutes() as i32);
    }
    match strategy {
        TrafficStrategy::Linear { step_per_mille, step_bake_minutes, .. } => {
            configuration.linear_configuration = Some(wire::LinearConfiguration {
                step_percent: percent(*step_per_mille),
                step_bake_time_in_minutes: Some(*step_bake_minutes as i32),
            })
        }
        TrafficStrategy::Canary { canary_per_mille, canary_bake_minutes, .. } => {
            configuration.canary_configuration = Some(wire::CanaryConfiguration {
                canary_percent: percent(*canary_per_mille),
                canary_bake_time_in_minutes: Some(*canary_bake_minutes as i32),
            })
        }
        TrafficStrategy::Rolling | TrafficStrategy::BlueGreen { .. } => {}
    }
    configuration
}
