//! ECS's BLUE_GREEN, LINEAR and CANARY deployments: the new (green) revision starts in full
//! behind each load balancer's alternate target group while the old (blue) one keeps serving;
//! once every green task is healthy there, the production listener rule's weighted forward
//! moves traffic to green — at once, in equal steps, or a canary share first — and the blue
//! tasks stay for `bakeTimeInMinutes`; then the alternate groups become the production ones
//! and the blue tasks are retired. A deployment that stops being the PRIMARY (a circuit
//! breaker rollback, StopServiceDeployment) puts all traffic back on blue in the same pass.
//!
//! Invariant: traffic moves only between two groups that both hold healthy targets of the
//! service: green gets a share only after all its tasks are healthy, and blue is retired only
//! after it carries no production traffic. The stage lives in the service record, so a
//! restart resumes where the shift was.

use super::records::ActionRecord;
use super::ElbChange;
use crate::services::{AdvancedLoadBalancer, ServiceLoadBalancer, ServiceRecord, TrafficStrategy};
use crate::state::{Change, State};
use berth_planner::{DeploymentId, LoadBalancerHealth, RolloutState, TaskView};
use berth_proxy_protocol::{Action, WeightedTargetGroup};
use berth_types::{DesiredStatus, TaskStatus, Timestamp};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// All of the traffic, in tenths of a percent (ALB weights are at most 999, see `weights`).
const ALL: u32 = 1000;

/// A service's traffic between its primary and alternate target groups.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrafficState {
    /// After a finished shift the alternate groups carry production, and the next deployment's
    /// new revision goes behind the primary ones.
    pub production_on_alternate: bool,
    pub shift: Option<TrafficShift>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrafficShift {
    /// The green deployment.
    pub deployment: DeploymentId,
    pub stage: ShiftStage,
    /// Production traffic on green, in tenths of a percent.
    pub green_per_mille: u32,
    pub stage_since: Timestamp,
    /// The test listener rules forward to green (from the end of SCALE_UP).
    #[serde(default)]
    pub test_on_green: bool,
    /// Lifecycle hook stages passed, as a count of [`HookStage::ORDER`]: each pauses once.
    #[serde(default)]
    pub hook_stages_passed: usize,
    /// The PAUSE hooks this shift has reached, as DescribeServiceDeployments shows them.
    #[serde(default)]
    pub hook_runs: Vec<HookRun>,
}

/// A `PAUSE` lifecycle hook: the deployment waits at each of its stages for
/// ContinueServiceDeployment, or for the timeout to take its action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PauseHook {
    pub stages: Vec<HookStage>,
    pub timeout_minutes: u32,
    pub timeout_action: HookAction,
}

/// The lifecycle stages a hook can pause at, in the order a deployment reaches them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum HookStage {
    PreScaleUp,
    PostScaleUp,
    TestTrafficShift,
    PostTestTrafficShift,
    ProductionTrafficShift,
    PostProductionTrafficShift,
}

impl HookStage {
    pub const ORDER: [HookStage; 6] = [
        HookStage::PreScaleUp,
        HookStage::PostScaleUp,
        HookStage::TestTrafficShift,
        HookStage::PostTestTrafficShift,
        HookStage::ProductionTrafficShift,
        HookStage::PostProductionTrafficShift,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            HookStage::PreScaleUp => "PRE_SCALE_UP",
            HookStage::PostScaleUp => "POST_SCALE_UP",
            HookStage::TestTrafficShift => "TEST_TRAFFIC_SHIFT",
            HookStage::PostTestTrafficShift => "POST_TEST_TRAFFIC_SHIFT",
            HookStage::ProductionTrafficShift => "PRODUCTION_TRAFFIC_SHIFT",
            HookStage::PostProductionTrafficShift => "POST_PRODUCTION_TRAFFIC_SHIFT",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        HookStage::ORDER.into_iter().find(|stage| stage.as_str() == value)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum HookAction {
    Continue,
    Rollback,
}

impl HookAction {
    pub fn as_str(self) -> &'static str {
        match self {
            HookAction::Continue => "CONTINUE",
            HookAction::Rollback => "ROLLBACK",
        }
    }
}

/// One pause of a hook at one stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HookRun {
    pub hook_id: String,
    pub stage: HookStage,
    pub status: HookStatus,
    pub expires_at: Timestamp,
    pub timeout_action: HookAction,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum HookStatus {
    AwaitingAction,
    Succeeded,
    Failed,
    TimedOut,
}

impl HookStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            HookStatus::AwaitingAction => "AWAITING_ACTION",
            HookStatus::Succeeded => "SUCCEEDED",
            HookStatus::Failed => "FAILED",
            HookStatus::TimedOut => "TIMED_OUT",
        }
    }
}

impl TrafficShift {
    /// Whether the deployment may go past `stage`: no PAUSE hook waits there (any hook that
    /// does is started here, and its timeout applied). `Err(())` asks for a rollback.
    fn pass_hook(
        &mut self,
        hooks: &[PauseHook],
        stage: HookStage,
        minute: Duration,
        now: Timestamp,
    ) -> Result<bool, ()> {
        let index = HookStage::ORDER.iter().position(|candidate| *candidate == stage).unwrap_or(0);
        if self.hook_stages_passed > index {
            return Ok(true);
        }
        let Some(hook) = hooks.iter().find(|hook| hook.stages.contains(&stage)) else {
            self.hook_stages_passed = index + 1;
            return Ok(true);
        };
        let run = match self.hook_runs.iter_mut().find(|run| run.stage == stage) {
            Some(run) => run,
            None => {
                self.hook_runs.push(HookRun {
                    hook_id: crate::services::uuid_like(),
                    stage,
                    status: HookStatus::AwaitingAction,
                    expires_at: now.plus(minute.saturating_mul(hook.timeout_minutes)),
                    timeout_action: hook.timeout_action,
                });
                return Ok(false);
            }
        };
        if run.status == HookStatus::AwaitingAction && now >= run.expires_at {
            run.status = HookStatus::TimedOut;
        }
        let proceed = match (run.status, run.timeout_action) {
            (HookStatus::AwaitingAction, _) => return Ok(false),
            (HookStatus::Succeeded, _) | (HookStatus::TimedOut, HookAction::Continue) => true,
            (HookStatus::Failed, _) | (HookStatus::TimedOut, HookAction::Rollback) => return Err(()),
        };
        self.hook_stages_passed = index + 1;
        Ok(proceed)
    }
}

/// ECS's lifecycle stages, as far as Berth runs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ShiftStage {
    /// Green starts in full; blue carries all production traffic.
    ScaleUp,
    /// Production traffic moves to green.
    ProductionTrafficShift,
    /// All traffic is on green; blue stays for the bake time.
    BakeTime,
    /// The alternate groups are production now; blue is retired.
    CleanUp,
}

impl ShiftStage {
    pub fn as_str(self) -> &'static str {
        match self {
            ShiftStage::ScaleUp => "SCALE_UP",
            ShiftStage::ProductionTrafficShift => "PRODUCTION_TRAFFIC_SHIFT",
            ShiftStage::BakeTime => "BAKE_TIME",
            ShiftStage::CleanUp => "CLEAN_UP",
        }
    }
}

impl TrafficState {
    /// Nothing to store: production on the primary groups and no shift.
    pub fn is_idle(&self) -> bool {
        !self.production_on_alternate && self.shift.is_none()
    }

    /// Whether a PRE_SCALE_UP hook holds green's launches.
    pub fn holds_launches(&self) -> bool {
        self.shift.as_ref().is_some_and(|shift| shift.stage == ShiftStage::ScaleUp && shift.hook_stages_passed == 0)
    }

    /// Whether the planner keeps the older deployments' tasks (it retires them at CLEAN_UP).
    pub fn holds_previous(&self) -> bool {
        self.shift.as_ref().is_some_and(|shift| shift.stage != ShiftStage::CleanUp)
    }

    /// The group a task of `deployment` registers in for `entry`.
    pub fn group_for<'a>(&self, entry: &'a ServiceLoadBalancer, deployment: Option<&str>) -> &'a str {
        let Some(advanced) = &entry.advanced else { return &entry.target_group_arn };
        let green = self
            .shift
            .as_ref()
            .is_some_and(|shift| shift.stage != ShiftStage::CleanUp && deployment == Some(shift.deployment.as_str()));
        let (production, other) = production_and_other(entry, advanced, self.production_on_alternate);
        if green {
            other
        } else {
            production
        }
    }
}

fn production_and_other<'a>(
    entry: &'a ServiceLoadBalancer,
    advanced: &'a AdvancedLoadBalancer,
    on_alternate: bool,
) -> (&'a str, &'a str) {
    if on_alternate {
        (&advanced.alternate_target_group_arn, &entry.target_group_arn)
    } else {
        (&entry.target_group_arn, &advanced.alternate_target_group_arn)
    }
}

/// What the pass starts from: the traffic state, and a green deployment just abandoned.
pub(crate) struct BeforePass {
    pub traffic: TrafficState,
    /// Rolled back or superseded mid-shift: its tasks carry no production traffic and are
    /// stopped at once, while the planner keeps blue this pass (or it might retire blue first,
    /// oldest deployment first, and leave production without targets).
    pub abandoned: Option<DeploymentId>,
}

/// Before the planner runs: starts a shift for a new PRIMARY deployment that has blue tasks to
/// move traffic from, ends one whose deployment completed, and abandons one whose deployment is
/// no longer the PRIMARY (traffic goes back to blue).
pub(crate) fn before_pass(state: &State, record: &ServiceRecord, minute: Duration, now: Timestamp) -> BeforePass {
    let mut traffic = record.traffic.clone();
    let mut abandoned = None;
    let uses_shifts = !record.configuration.strategy.is_rolling()
        && record.configuration.load_balancers.iter().any(|entry| entry.advanced.is_some());
    let primary = record.progress.primary();
    if let Some(shift) = &traffic.shift {
        match primary {
            Some(primary) if primary.id == shift.deployment => {
                if primary.rollout_state == RolloutState::Completed {
                    traffic.shift = None;
                }
            }
            // Rolled back or superseded: blue still carries production, so all traffic returns
            // to it (green's share is dropped by `rule_changes` below).
            _ => {
                abandoned = Some(shift.deployment.clone());
                traffic.shift = None;
            }
        }
    }
    if traffic.shift.is_none() && uses_shifts {
        if let Some(primary) =
            primary.filter(|primary| primary.rollout_state == RolloutState::InProgress && primary.rollback_of.is_none())
        {
            let group = format!("service:{}", record.name);
            let blue_serving = state.tasks_in_group(&record.cluster, &group).any(|task| {
                task.desired_status == DesiredStatus::Running
                    && task.last_status == TaskStatus::Running
                    && task.started_by.as_deref() != Some(primary.id.as_str())
            });
            if blue_serving {
                let mut shift = TrafficShift {
                    deployment: primary.id.clone(),
                    stage: ShiftStage::ScaleUp,
                    green_per_mille: 0,
                    stage_since: now,
                    test_on_green: false,
                    hook_stages_passed: 0,
                    hook_runs: vec![],
                };
                // A PRE_SCALE_UP hook pauses before green launches (the planner sees the hold).
                let _ = shift.pass_hook(&record.configuration.lifecycle_hooks, HookStage::PreScaleUp, minute, now);
                traffic.shift = Some(shift);
            }
        }
    }
    BeforePass { traffic, abandoned }
}

/// What the pass after the planner decided for the traffic.
pub(crate) struct AfterPass {
    /// Rule changes (production and test weights).
    pub changes: Vec<Change>,
    pub events: Vec<String>,
    /// A lifecycle hook failed or timed out with ROLLBACK: roll the green deployment back.
    pub rollback: Option<DeploymentId>,
}

/// After the planner: moves the shift on by what the pass saw (green's health, the clock, the
/// lifecycle hooks) and answers the listener rule changes that put the traffic where the stage
/// says, with ECS-style events.
pub(crate) fn after_pass(
    state: &State,
    record: &ServiceRecord,
    traffic: &mut TrafficState,
    tasks: &[TaskView],
    minute: Duration,
    now: Timestamp,
) -> AfterPass {
    let mut events = Vec::new();
    let mut rollback = None;
    if let Some(shift) = traffic.shift.as_mut() {
        let before = shift.stage;
        if advance(record, shift, tasks, minute, now, &mut events).is_err() {
            rollback = Some(shift.deployment.clone());
        }
        if before != ShiftStage::CleanUp && shift.stage == ShiftStage::CleanUp {
            // Green's groups are production from now on; blue goes.
            traffic.production_on_alternate = !traffic.production_on_alternate;
        }
    }
    AfterPass { changes: rule_changes(state, record, traffic), events, rollback }
}

/// One pass of the stage machine; stops at a paused hook, `Err` when one asks for a rollback.
fn advance(
    record: &ServiceRecord,
    shift: &mut TrafficShift,
    tasks: &[TaskView],
    minute: Duration,
    now: Timestamp,
    events: &mut Vec<String>,
) -> Result<(), ()> {
    let strategy = &record.configuration.strategy;
    let hooks = &record.configuration.lifecycle_hooks;
    let waited = |since: Timestamp, count: u32| now >= since.plus(minute.saturating_mul(count));
    loop {
        match shift.stage {
            ShiftStage::ScaleUp => {
                if !shift.pass_hook(hooks, HookStage::PreScaleUp, minute, now)? {
                    return Ok(());
                }
                let green_healthy = tasks
                    .iter()
                    .filter(|task| task.deployment == shift.deployment)
                    .filter(|task| {
                        task.last_status == TaskStatus::Running && task.desired_status == DesiredStatus::Running
                    })
                    .filter(|task| task.load_balancer_health == Some(LoadBalancerHealth::Healthy))
                    .count();
                if green_healthy < record.configuration.desired_count as usize
                    || !shift.pass_hook(hooks, HookStage::PostScaleUp, minute, now)?
                {
                    return Ok(());
                }
                shift.test_on_green = true;
                if !shift.pass_hook(hooks, HookStage::TestTrafficShift, minute, now)?
                    || !shift.pass_hook(hooks, HookStage::PostTestTrafficShift, minute, now)?
                    || !shift.pass_hook(hooks, HookStage::ProductionTrafficShift, minute, now)?
                {
                    return Ok(());
                }
                shift.stage = ShiftStage::ProductionTrafficShift;
                shift.green_per_mille = first_step(strategy);
                shift.stage_since = now;
                events.push(shift_event(record, shift));
            }
            ShiftStage::ProductionTrafficShift if shift.green_per_mille < ALL => {
                let (step, wait) = match strategy {
                    TrafficStrategy::Linear { step_per_mille, step_bake_minutes, .. } => {
                        (*step_per_mille, *step_bake_minutes)
                    }
                    TrafficStrategy::Canary { canary_bake_minutes, .. } => (ALL, *canary_bake_minutes),
                    _ => (ALL, 0),
                };
                if !waited(shift.stage_since, wait) {
                    return Ok(());
                }
                shift.green_per_mille = (shift.green_per_mille + step.max(1)).min(ALL);
                shift.stage_since = now;
                events.push(shift_event(record, shift));
            }
            ShiftStage::ProductionTrafficShift => {
                if !shift.pass_hook(hooks, HookStage::PostProductionTrafficShift, minute, now)? {
                    return Ok(());
                }
                shift.stage = ShiftStage::BakeTime;
                shift.stage_since = now;
            }
            ShiftStage::BakeTime => {
                if !waited(shift.stage_since, strategy.bake_minutes()) {
                    return Ok(());
                }
                shift.stage = ShiftStage::CleanUp;
                shift.green_per_mille = 0;
                shift.stage_since = now;
                return Ok(());
            }
            ShiftStage::CleanUp => return Ok(()),
        }
    }
}

fn first_step(strategy: &TrafficStrategy) -> u32 {
    match strategy {
        TrafficStrategy::Linear { step_per_mille, .. } => (*step_per_mille).clamp(1, ALL),
        TrafficStrategy::Canary { canary_per_mille, .. } => (*canary_per_mille).clamp(1, ALL),
        _ => ALL,
    }
}

fn shift_event(record: &ServiceRecord, shift: &TrafficShift) -> String {
    format!(
        "(service {}) (deployment {}) shifted {} of production traffic to the new service revision.",
        record.name,
        shift.deployment,
        percent_text(shift.green_per_mille)
    )
}

fn percent_text(per_mille: u32) -> String {
    if per_mille.is_multiple_of(10) {
        format!("{}%", per_mille / 10)
    } else {
        format!("{}.{}%", per_mille / 10, per_mille % 10)
    }
}

/// The forward weights (production group, other group) for green's share: whole percents
/// when the share is one, else tenths (ALB's weights stop at 999).
fn weights(green_per_mille: u32) -> (u32, u32) {
    let green = green_per_mille.min(ALL);
    if green.is_multiple_of(10) {
        (100 - green / 10, green / 10)
    } else {
        (ALL - green, green)
    }
}

/// The production (and test) rules' forward actions as the traffic state wants them, where
/// they differ from what is stored.
fn rule_changes(state: &State, record: &ServiceRecord, traffic: &TrafficState) -> Vec<Change> {
    let green_per_mille = traffic.shift.as_ref().map_or(0, |shift| shift.green_per_mille);
    let testing = traffic.shift.as_ref().is_some_and(|shift| shift.test_on_green && shift.stage != ShiftStage::CleanUp);
    let mut changes = Vec::new();
    for entry in &record.configuration.load_balancers {
        let Some(advanced) = &entry.advanced else { continue };
        let (production, other) = production_and_other(entry, advanced, traffic.production_on_alternate);
        let (production_weight, other_weight) = weights(green_per_mille);
        let production_forward = [(production, production_weight), (other, other_weight)];
        changes.extend(set_forward(state, &advanced.production_listener_rule, &production_forward));
        if let Some(test_rule) = &advanced.test_listener_rule {
            // Test traffic reaches green from the moment it starts, and production afterwards.
            let test_forward = if testing { [(production, 0), (other, 100)] } else { [(production, 100), (other, 0)] };
            changes.extend(set_forward(state, test_rule, &test_forward));
        }
    }
    changes
}

/// Rewrites the forward action of a rule, or of a listener's default rule, to these weighted
/// groups; `None` when it already forwards so (or the rule is gone).
fn set_forward(state: &State, rule_arn: &str, groups: &[(&str, u32)]) -> Option<Change> {
    let forward = |actions: &[ActionRecord]| -> Option<Vec<ActionRecord>> {
        let mut actions = actions.to_vec();
        let action = actions.iter_mut().find(|action| matches!(action.action, Action::Forward { .. }))?;
        let Action::Forward { target_groups, .. } = &mut action.action else { return None };
        let wanted: Vec<WeightedTargetGroup> = groups
            .iter()
            .map(|(arn, weight)| WeightedTargetGroup { target_group_arn: (*arn).to_owned(), weight: *weight })
            .collect();
        if *target_groups == wanted {
            return None;
        }
        *target_groups = wanted;
        action.single_target_group = false;
        Some(actions)
    };
    if let Some(rule) = state.elb.rules.get(rule_arn) {
        let mut rule = rule.clone();
        rule.actions = forward(&rule.actions)?;
        return Some(Change::Elb(ElbChange::PutRule(Box::new(rule))));
    }
    let listener =
        state.elb.listeners.values().find(|listener| super::arns::default_rule(&listener.arn) == rule_arn)?;
    let mut listener = listener.clone();
    listener.default_actions = forward(&listener.default_actions)?;
    Some(Change::Elb(ElbChange::PutListener(Box::new(listener))))
}

/// Whether `rule_arn` names a rule, or a listener's default rule, that forwards to `group`.
pub(crate) fn rule_forwards_to(state: &State, rule_arn: &str, group: &str) -> Option<bool> {
    let actions = match state.elb.rules.get(rule_arn) {
        Some(rule) => &rule.actions,
        None => {
            &state
                .elb
                .listeners
                .values()
                .find(|listener| super::arns::default_rule(&listener.arn) == rule_arn)?
                .default_actions
        }
    };
    Some(actions.iter().any(|action| action.target_groups().any(|arn| arn == group)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_are_whole_percents_when_they_can_be() {
        assert_eq!(weights(0), (100, 0));
        assert_eq!(weights(50), (95, 5));
        assert_eq!(weights(1000), (0, 100));
        assert_eq!(weights(25), (975, 25));
        assert_eq!(percent_text(25), "2.5%");
        assert_eq!(percent_text(100), "10%");
    }
}
