//! Service actions: create, update (which begins deployments), delete, describe, list. The
//! service reconciler (`service_reconciler`) does the rest: it turns the record into tasks.
//!
//! A service record holds the user's configuration and, beside it, the planner's progress
//! (deployments, throttle, notes) exactly as the last pass returned it, plus the newest events.

use crate::clusters::active_cluster;
use crate::error::{ControlError, ControlResult};
use crate::gateways::connectors::{connect, release_routes, GatewayConnector};
use crate::service_history::mapping::started_deployment_changes;
use crate::state::{Change, State};
use crate::task_definitions::find_task_definition;
use crate::task_sets::{TaskSetRecord, TaskSetStatus};
use crate::ControlPlane;
use berth_planner::{begin_deployment, DeploymentId, ServiceProgress, TaskDefinitionKey};
use berth_types::records::CapacityProviderStrategyItem;
use berth_types::{ClusterName, DesiredStatus, ServiceName, Tag, TaskDefinitionStatus, TaskStatus, Timestamp};
use rand::SeedableRng;
use serde::{Deserialize, Serialize};

/// ECS keeps at most this many events on a service.
pub const MAX_SERVICE_EVENTS: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ServiceStatus {
    Active,
    Draining,
    Inactive,
}

impl ServiceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceStatus::Active => "ACTIVE",
            ServiceStatus::Draining => "DRAINING",
            ServiceStatus::Inactive => "INACTIVE",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SchedulingStrategy {
    Replica,
    Daemon,
}

/// `deploymentCircuitBreaker` with its threshold configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CircuitBreakerSettings {
    pub enable: bool,
    pub rollback: bool,
    /// COUNT, BOUNDED_PERCENT or UNBOUNDED_PERCENT.
    pub threshold_type: String,
    pub threshold_value: u32,
    pub reset_on_healthy_task: bool,
}

impl Default for CircuitBreakerSettings {
    fn default() -> Self {
        CircuitBreakerSettings {
            enable: false,
            rollback: false,
            threshold_type: "BOUNDED_PERCENT".to_string(),
            threshold_value: 50,
            reset_on_healthy_task: true,
        }
    }
}

/// `deploymentConfiguration.alarms`: the CloudWatch alarms a deployment watches; with
/// `enable`, one of them in ALARM fails the deployment, and with `rollback` the service goes
/// back to its last completed deployment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeploymentAlarmSettings {
    pub alarm_names: Vec<String>,
    pub enable: bool,
    pub rollback: bool,
}

/// `deploymentController.type`. CODE_DEPLOY needs CodeDeploy, which Berth does not have; the
/// edge refuses it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeploymentController {
    /// Rolling updates run by the planner's deployments.
    #[default]
    Ecs,
    /// Task sets created and scaled by an external controller (`task_sets`).
    External,
}

impl DeploymentController {
    pub fn as_str(self) -> &'static str {
        match self {
            DeploymentController::Ecs => "ECS",
            DeploymentController::External => "EXTERNAL",
        }
    }
}

/// A placement constraint or strategy as the user gave it: its type and its expression or
/// field. The scheduler parses it when placing (the edge has already checked it parses).
pub type PlacementRule = (String, Option<String>);

/// The user's service configuration: what CreateService and UpdateService set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceConfiguration {
    /// Always set for the ECS controller; for EXTERNAL the task sets name their own.
    pub task_definition: Option<TaskDefinitionKey>,
    pub desired_count: u32,
    pub scheduling_strategy: SchedulingStrategy,
    pub minimum_healthy_percent: u32,
    pub maximum_percent: u32,
    pub circuit_breaker: CircuitBreakerSettings,
    /// `deploymentConfiguration.alarms`, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_alarms: Option<DeploymentAlarmSettings>,
    pub health_check_grace_period_seconds: u32,
    /// `(type, expression)` as given; the scheduler parses them when placing.
    pub placement_constraints: Vec<PlacementRule>,
    /// `(type, field)` as given.
    pub placement_strategy: Vec<PlacementRule>,
    pub capacity_provider_strategy: Vec<CapacityProviderStrategyItem>,
    pub launch_type: Option<String>,
    pub propagate_tags: Option<String>,
    pub enable_ecs_managed_tags: bool,
    /// `enableExecuteCommand`, inherited by every task the service launches from now on.
    #[serde(default)]
    pub enable_execute_command: bool,
    #[serde(default)]
    pub deployment_controller: DeploymentController,
    /// `loadBalancers`: the target groups its tasks register in.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub load_balancers: Vec<ServiceLoadBalancer>,
    /// `deploymentConfiguration.strategy` and its settings.
    #[serde(default, skip_serializing_if = "TrafficStrategy::is_rolling")]
    pub strategy: TrafficStrategy,
    /// `deploymentConfiguration.lifecycleHooks` (PAUSE hooks: Berth has no Lambda).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lifecycle_hooks: Vec<crate::elb::traffic_shift::PauseHook>,
    /// `gatewayConnectors` (at most one): the service's ingress through its cluster's
    /// gateways, whose target groups appear among `load_balancers` marked with their route.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gateway_connectors: Vec<GatewayConnector>,
}

/// `deploymentConfiguration.strategy`: ROLLING replaces tasks within the bounds; the others
/// start the new revision in full behind the alternate target groups and move production
/// traffic to it (at once, in equal steps, or a canary first), keeping the old revision for
/// `bakeTimeInMinutes` so a rollback is instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum TrafficStrategy {
    #[default]
    Rolling,
    BlueGreen {
        bake_minutes: u32,
    },
    Linear {
        bake_minutes: u32,
        /// `stepPercent` in tenths of a percent (ECS takes multiples of 0.1).
        step_per_mille: u32,
        step_bake_minutes: u32,
    },
    Canary {
        bake_minutes: u32,
        /// `canaryPercent` in tenths of a percent.
        canary_per_mille: u32,
        canary_bake_minutes: u32,
    },
}

impl TrafficStrategy {
    pub fn is_rolling(&self) -> bool {
        matches!(self, TrafficStrategy::Rolling)
    }

    pub fn name(&self) -> &'static str {
        match self {
            TrafficStrategy::Rolling => "ROLLING",
            TrafficStrategy::BlueGreen { .. } => "BLUE_GREEN",
            TrafficStrategy::Linear { .. } => "LINEAR",
            TrafficStrategy::Canary { .. } => "CANARY",
        }
    }

    /// `bakeTimeInMinutes`: how long the old revision stays after all traffic has moved.
    pub fn bake_minutes(&self) -> u32 {
        match self {
            TrafficStrategy::Rolling => 0,
            TrafficStrategy::BlueGreen { bake_minutes }
            | TrafficStrategy::Linear { bake_minutes, .. }
            | TrafficStrategy::Canary { bake_minutes, .. } => *bake_minutes,
        }
    }
}

/// One entry of a service's `loadBalancers`: a target group and the container port that
/// serves it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceLoadBalancer {
    pub target_group_arn: String,
    pub container_name: String,
    pub container_port: u16,
    /// `advancedConfiguration`, needed by the BLUE_GREEN, LINEAR and CANARY strategies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advanced: Option<AdvancedLoadBalancer>,
    /// Set on the entries a gateway manages for the service: the route whose groups they are.
    /// DescribeServices shows only the user's own entries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway_route: Option<String>,
}

/// The second target group and the listener rules a traffic-shifting deployment moves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdvancedLoadBalancer {
    pub alternate_target_group_arn: String,
    /// The rule (or a listener's default rule) whose forward action carries production traffic.
    pub production_listener_rule: String,
    /// A rule that sends test traffic to the new revision before production moves.
    pub test_listener_rule: Option<String>,
    pub role_arn: Option<String>,
}

impl ServiceConfiguration {
    /// A REPLICA service of `desired_count` tasks with ECS's defaults for everything else
    /// (100/200 %, no circuit breaker, no placement rules).
    pub fn replica(task_definition: TaskDefinitionKey, desired_count: u32) -> Self {
        ServiceConfiguration {
            task_definition: Some(task_definition),
            desired_count,
            scheduling_strategy: SchedulingStrategy::Replica,
            minimum_healthy_percent: 100,
            maximum_percent: 200,
            circuit_breaker: CircuitBreakerSettings::default(),
            deployment_alarms: None,
            health_check_grace_period_seconds: 0,
            placement_constraints: vec![],
            placement_strategy: vec![],
            capacity_provider_strategy: vec![],
            launch_type: None,
            propagate_tags: None,
            enable_ecs_managed_tags: false,
            enable_execute_command: false,
            deployment_controller: DeploymentController::Ecs,
            load_balancers: vec![],
            strategy: TrafficStrategy::Rolling,
            lifecycle_hooks: vec![],
            gateway_connectors: vec![],
        }
    }

    pub fn is_external(&self) -> bool {
        self.deployment_controller == DeploymentController::External
    }
}

/// One entry of a service's `events`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceEventRecord {
    pub id: String,
    pub created_at: Timestamp,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceRecord {
    pub cluster: ClusterName,
    pub name: ServiceName,
    pub status: ServiceStatus,
    pub configuration: ServiceConfiguration,
    /// The planner's memory: deployments, throttle and notes, as the last pass left them.
    pub progress: ServiceProgress,
    /// Newest first, at most [`MAX_SERVICE_EVENTS`].
    pub events: Vec<ServiceEventRecord>,
    pub tags: Vec<Tag>,
    pub created_at: Timestamp,
    pub created_by: String,
    /// CreateService's client token and a fingerprint of its other parameters.
    pub client_token: Option<(String, String)>,
    /// EXTERNAL only: the task sets, in creation order.
    #[serde(default)]
    pub task_sets: Vec<TaskSetRecord>,
    /// Which target groups carry production traffic, and a blue/green, linear or canary
    /// shift under way.
    #[serde(default, skip_serializing_if = "crate::elb::traffic_shift::TrafficState::is_idle")]
    pub traffic: crate::elb::traffic_shift::TrafficState,
}

impl ServiceRecord {
    pub fn primary_task_set(&self) -> Option<&TaskSetRecord> {
        self.task_sets.iter().find(|set| set.status == TaskSetStatus::Primary)
    }

    pub fn key(cluster: &ClusterName, name: &ServiceName) -> String {
        format!("{cluster}/{name}")
    }

    /// Prepends events, keeping the newest [`MAX_SERVICE_EVENTS`].
    pub fn record_events(&mut self, messages: Vec<String>, now: Timestamp) {
        for message in messages {
            self.events.insert(0, ServiceEventRecord { id: uuid_like(), created_at: now, message });
        }
        self.events.truncate(MAX_SERVICE_EVENTS);
    }
}

pub(crate) fn uuid_like() -> String {
    let bytes: [u8; 16] = rand::random();
    let hex: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

/// A validated CreateService.
#[derive(Debug, Clone)]
pub struct CreateService {
    pub cluster: ClusterName,
    pub name: ServiceName,
    pub configuration: ServiceConfiguration,
    pub tags: Vec<Tag>,
    pub client_token: Option<(String, String)>,
}

/// A validated UpdateService: `None` keeps the current value.
#[derive(Debug, Clone, Default)]
pub struct UpdateService {
    pub task_definition: Option<TaskDefinitionKey>,
    pub desired_count: Option<u32>,
    pub minimum_healthy_percent: Option<u32>,
    pub maximum_percent: Option<u32>,
    pub circuit_breaker: Option<CircuitBreakerSettings>,
    pub deployment_alarms: Option<DeploymentAlarmSettings>,
    pub health_check_grace_period_seconds: Option<u32>,
    pub placement_constraints: Option<Vec<PlacementRule>>,
    pub placement_strategy: Option<Vec<PlacementRule>>,
    pub capacity_provider_strategy: Option<Vec<CapacityProviderStrategyItem>>,
    pub force_new_deployment: bool,
    pub enable_execute_command: Option<bool>,
    /// Replaces the load balancers (an empty list removes them); a change begins a deployment.
    pub load_balancers: Option<Vec<ServiceLoadBalancer>>,
    pub strategy: Option<TrafficStrategy>,
    pub lifecycle_hooks: Option<Vec<crate::elb::traffic_shift::PauseHook>>,
    /// Replaces the gateway connectors (an empty list removes them).
    pub gateway_connectors: Option<Vec<GatewayConnector>>,
}

impl ControlPlane {
    pub async fn create_service(&self, mut request: CreateService) -> ControlResult<ServiceSummary> {
        let context = self.arn_context().clone();
        let created = self
            .mutate(|state| {
                active_cluster(state, &request.cluster)?;
                if let Some(existing) = live_service(state, &request.cluster, &request.name) {
                    let same_request = request.client_token.is_some() && existing.client_token == request.client_token;
                    if same_request {
                        return Ok((vec![], existing.clone()));
                    }
                    return Err(ControlError::InvalidParameter("Creation of service was not idempotent.".to_string()));
                }
                let now = Timestamp::now();
                let mut progress = ServiceProgress::default();
                let (managed, gateway_changes) = connect(
                    state,
                    &context,
                    &request.cluster,
                    &request.name,
                    &request.configuration.gateway_connectors,
                    request.configuration.task_definition.as_ref(),
                )?;
                request.configuration.load_balancers.extend(managed);
                crate::elb::service_targets::check_load_balancers(state, &request.configuration)?;
                if let Some(task_definition) = &request.configuration.task_definition {
                    check_task_definition(state, task_definition)?;
                    // An EXTERNAL service runs only what its task sets ask for.
                    if !request.configuration.is_external() {
                        let desired = request.configuration.desired_count;
                        begin_deployment(&mut progress, new_deployment_id(), task_definition.clone(), desired, now);
                    }
                }
                let record = ServiceRecord {
                    cluster: request.cluster.clone(),
                    name: request.name.clone(),
                    status: ServiceStatus::Active,
                    configuration: request.configuration,
                    progress,
                    events: vec![],
                    tags: request.tags,
                    created_at: now,
                    created_by: "arn:aws:iam::000000000000:root".to_string(),
                    client_token: request.client_token,
                    task_sets: vec![],
                    traffic: Default::default(),
                };
                let mut changes = gateway_changes;
                changes.push(Change::PutService(Box::new(record.clone())));
                changes.extend(started_deployment_changes(state, &record, &ServiceProgress::default(), now));
                Ok((changes, record))
            })
            .await?;
        self.wake_service_reconciler();
        Ok(summarise(&self.read(), &created))
    }

    /// Applies the changes; a new task definition, changed placement or `forceNewDeployment`
    /// begins a new deployment, while a new desired count or new bounds do not.
    pub async fn update_service(
        &self,
        cluster: &ClusterName,
        name: &ServiceName,
        update: UpdateService,
    ) -> ControlResult<ServiceSummary> {
        let context = self.arn_context().clone();
        let updated = self
            .mutate(|state| {
                active_cluster(state, cluster)?;
                let existing =
                    state.services.get(&ServiceRecord::key(cluster, name)).ok_or(ControlError::ServiceNotFound)?;
                if existing.status != ServiceStatus::Active {
                    return Err(ControlError::ServiceNotActive("Service was not ACTIVE.".to_string()));
                }
                let mut record = existing.clone();
                if record.configuration.is_external() {
                    refuse_for_external(&update)?;
                }
                // The target groups are checked against what the tasks will run when either moves
                // (a group deleted since does not block an unrelated update).
                let recheck_load_balancers = update.load_balancers.is_some()
                    || update.task_definition.is_some()
                    || update.strategy.is_some()
                    || update.lifecycle_hooks.is_some()
                    || update.gateway_connectors.is_some();
                // A new task definition may put the connector's named port elsewhere.
                let reconnect = update.gateway_connectors.is_some()
                    || (update.task_definition.is_some() && !record.configuration.gateway_connectors.is_empty());
                let configuration = &mut record.configuration;
                let mut redeploy = update.force_new_deployment;
                if let Some(task_definition) = update.task_definition {
                    check_task_definition(state, &task_definition)?;
                    redeploy |= Some(&task_definition) != configuration.task_definition.as_ref();
                    configuration.task_definition = Some(task_definition);
                }
                if let Some(constraints) = update.placement_constraints {
                    redeploy |= constraints != configuration.placement_constraints;
                    configuration.placement_constraints = constraints;
                }
                if let Some(strategy) = update.placement_strategy {
                    redeploy |= strategy != configuration.placement_strategy;
                    configuration.placement_strategy = strategy;
                }
                if let Some(strategy) = update.capacity_provider_strategy {
                    redeploy |= strategy != configuration.capacity_provider_strategy;
                    configuration.capacity_provider_strategy = strategy;
                }
                if let Some(mut load_balancers) = update.load_balancers {
                    // The gateway-managed entries stay; they follow the connectors.
                    load_balancers.extend(
                        configuration.load_balancers.iter().filter(|entry| entry.gateway_route.is_some()).cloned(),
                    );
                    redeploy |= load_balancers != configuration.load_balancers;
                    configuration.load_balancers = load_balancers;
                }
                let mut gateway_changes = Vec::new();
                if let Some(connectors) = update.gateway_connectors {
                    configuration.gateway_connectors = connectors;
                }
                if reconnect {
                    let (managed, changes) = connect(
                        state,
                        &context,
                        cluster,
                        name,
                        &configuration.gateway_connectors,
                        configuration.task_definition.as_ref(),
                    )?;
                    let mut load_balancers: Vec<ServiceLoadBalancer> = configuration
                        .load_balancers
                        .iter()
                        .filter(|entry| entry.gateway_route.is_none())
                        .cloned()
                        .collect();
                    load_balancers.extend(managed);
                    redeploy |= load_balancers != configuration.load_balancers;
                    configuration.load_balancers = load_balancers;
                    gateway_changes = changes;
                }
                if let Some(strategy) = update.strategy {
                    configuration.strategy = strategy;
                }
                if let Some(hooks) = update.lifecycle_hooks {
                    configuration.lifecycle_hooks = hooks;
                }
                if let Some(enable) = update.enable_execute_command {
                    // As in ECS, tasks already running keep the flag they were launched with.
                    configuration.enable_execute_command = enable;
                }
                if let Some(count) = update.desired_count {
                    configuration.desired_count = count;
                }
                if let Some(minimum) = update.minimum_healthy_percent {
                    configuration.minimum_healthy_percent = minimum;
                }
                if let Some(maximum) = update.maximum_percent {
                    configuration.maximum_percent = maximum;
                }
                if let Some(breaker) = update.circuit_breaker {
                    configuration.circuit_breaker = breaker;
                }
                if let Some(alarms) = update.deployment_alarms {
                    configuration.deployment_alarms = Some(alarms);
                }
                if let Some(grace) = update.health_check_grace_period_seconds {
                    configuration.health_check_grace_period_seconds = grace;
                }
                if recheck_load_balancers {
                    crate::elb::service_targets::check_load_balancers(state, configuration)?;
                }
                if configuration.maximum_percent < configuration.minimum_healthy_percent {
                    return Err(ControlError::InvalidParameter(
                        "deploymentConfiguration: maximumPercent must be at least minimumHealthyPercent.".to_string(),
                    ));
                }
                let mut history = Vec::new();
                if let (true, Some(task_definition)) = (redeploy, record.configuration.task_definition.clone()) {
                    let desired = record.configuration.desired_count;
                    let previous = record.progress.clone();
                    let now = Timestamp::now();
                    begin_deployment(&mut record.progress, new_deployment_id(), task_definition, desired, now);
                    history = started_deployment_changes(state, &record, &previous, now);
                }
                let mut changes = gateway_changes;
                changes.push(Change::PutService(Box::new(record.clone())));
                changes.extend(history);
                Ok((changes, record))
            })
            .await?;
        self.wake_service_reconciler();
        Ok(summarise(&self.read(), &updated))
    }

    /// Scales the service to zero and marks it DRAINING; it becomes INACTIVE once its tasks have
    /// stopped. Without `force`, a service still scaled above zero is refused, as in ECS.
    pub async fn delete_service(
        &self,
        cluster: &ClusterName,
        name: &ServiceName,
        force: bool,
    ) -> ControlResult<ServiceSummary> {
        let deleted = self
            .mutate(|state| {
                active_cluster(state, cluster)?;
                let mut record = live_service(state, cluster, name).ok_or(ControlError::ServiceNotFound)?.clone();
                if record.configuration.desired_count > 0
                    && !force
                    && record.configuration.scheduling_strategy == SchedulingStrategy::Replica
                {
                    return Err(ControlError::InvalidParameter(
                        "The service cannot be stopped while it is scaled above 0.".to_string(),
                    ));
                }
                record.status = ServiceStatus::Draining;
                record.configuration.desired_count = 0;
                let mut changes = release_routes(state, cluster, name);
                changes.push(Change::PutService(Box::new(record.clone())));
                Ok((changes, record))
            })
            .await?;
        self.wake_service_reconciler();
        Ok(summarise(&self.read(), &deleted))
    }

    /// The named services of the cluster (INACTIVE ones included, as ECS shows them for a
    /// while) and the names that match none.
    pub fn describe_services(
        &self,
        cluster: &ClusterName,
        names: &[ServiceName],
    ) -> ControlResult<(Vec<ServiceSummary>, Vec<ServiceName>)> {
        let state = self.read();
        active_cluster(&state, cluster)?;
        let mut found = Vec::new();
        let mut missing = Vec::new();
        for name in names {
            match state.services.get(&ServiceRecord::key(cluster, name)) {
                Some(record) => found.push(summarise(&state, record)),
                None => missing.push(name.clone()),
            }
        }
        Ok((found, missing))
    }

    /// Names of the cluster's services that are not INACTIVE, in name order.
    pub fn list_services(
        &self,
        cluster: &ClusterName,
        scheduling_strategy: Option<SchedulingStrategy>,
        launch_type: Option<&str>,
    ) -> ControlResult<Vec<ServiceName>> {
        let state = self.read();
        active_cluster(&state, cluster)?;
        Ok(state
            .services
            .values()
            .filter(|record| &record.cluster == cluster && record.status != ServiceStatus::Inactive)
            .filter(|record| {
                scheduling_strategy.is_none_or(|wanted| record.configuration.scheduling_strategy == wanted)
            })
            .filter(|record| {
                launch_type.is_none_or(|wanted| record.configuration.launch_type.as_deref().unwrap_or("EC2") == wanted)
            })
            .map(|record| record.name.clone())
            .collect())
    }

    pub async fn set_service_tags(
        &self,
        cluster: &ClusterName,
        name: &ServiceName,
        tags: Vec<Tag>,
    ) -> ControlResult<()> {
        self.mutate(|state| {
            let mut record =
                state.services.get(&ServiceRecord::key(cluster, name)).ok_or(ControlError::ServiceNotFound)?.clone();
            record.tags = tags;
            Ok((vec![Change::PutService(Box::new(record))], ()))
        })
        .await
    }
}

/// A service with the counts DescribeServices reports.
#[derive(Debug, Clone)]
pub struct ServiceSummary {
    pub record: ServiceRecord,
    /// The user's desired count; for DAEMON, the number of eligible instances.
    pub desired_count: u32,
    pub running_count: u32,
    pub pending_count: u32,
}

pub(crate) fn summarise(state: &State, record: &ServiceRecord) -> ServiceSummary {
    let group = format!("service:{}", record.name);
    let (mut running_count, mut pending_count) = (0, 0);
    for task in state.tasks_in_group(&record.cluster, &group) {
        // A task stopped because its instance was lost may still run on the unreachable
        // host, but it has been replaced and no longer counts as the service's.
        let replaced_while_lost = task.desired_status == DesiredStatus::Stopped
            && task.stopped_reason.as_deref() == Some(berth_planner::StopReason::INSTANCE_LOST);
        if task.last_status == TaskStatus::Running && !replaced_while_lost {
            running_count += 1;
        } else if task.last_status.is_pending() && task.desired_status == DesiredStatus::Running {
            pending_count += 1;
        }
    }
    let desired_count = match record.configuration.scheduling_strategy {
        SchedulingStrategy::Replica => record.configuration.desired_count,
        SchedulingStrategy::Daemon => record.progress.primary().map_or(0, |deployment| deployment.desired_count),
    };
    ServiceSummary { record: record.clone(), desired_count, running_count, pending_count }
}

/// The service of that name that is ACTIVE or DRAINING.
pub(crate) fn live_service<'a>(
    state: &'a State,
    cluster: &ClusterName,
    name: &ServiceName,
) -> Option<&'a ServiceRecord> {
    state.services.get(&ServiceRecord::key(cluster, name)).filter(|record| record.status != ServiceStatus::Inactive)
}

/// UpdateService on an EXTERNAL service changes only the desired count, the bounds and the
/// health check grace period; everything a task launches with belongs to a new task set.
fn refuse_for_external(update: &UpdateService) -> ControlResult<()> {
    let task_set_members = [
        ("taskDefinition", update.task_definition.is_some()),
        ("placementConstraints", update.placement_constraints.is_some()),
        ("placementStrategy", update.placement_strategy.is_some()),
        ("capacityProviderStrategy", update.capacity_provider_strategy.is_some()),
        ("forceNewDeployment", update.force_new_deployment),
        ("loadBalancers", update.load_balancers.is_some()),
        ("gatewayConnectors", update.gateway_connectors.is_some()),
    ];
    match task_set_members.iter().find(|(_, given)| *given) {
        Some((member, _)) => Err(ControlError::InvalidParameter(format!(
            "{member}: cannot be updated on a service with the EXTERNAL deployment controller; create a new task set instead."
        ))),
        None => Ok(()),
    }
}

pub(crate) fn check_task_definition(state: &State, key: &TaskDefinitionKey) -> ControlResult<()> {
    let definition = find_task_definition(state, key.family.as_str(), Some(key.revision))?;
    if definition.status != TaskDefinitionStatus::Active {
        return Err(ControlError::Client(format!("TaskDefinition is inactive: {key}")));
    }
    Ok(())
}

pub(crate) fn new_deployment_id() -> DeploymentId {
    DeploymentId::generate(&mut rand::rngs::StdRng::from_os_rng())
}
