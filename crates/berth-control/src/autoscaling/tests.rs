//! The control plane's Application Auto Scaling against a real (in-memory or embedded) store:
//! targets and their bounds, policies and their alarms, alarm actions carried out, scheduled
//! actions, refusals that change nothing, and durability.

use super::policies::{CustomizedInput, PolicyInput, StepInput, TrackingInput};
use super::records::*;
use super::scheduled_actions::ScheduledActionInput;
use super::targets::{parse_target, RegisterTarget};
use super::AutoScalingErrorKind;
use crate::cloudwatch::alarms::config::AlarmInput;
use crate::cloudwatch::alarms::records::{AlarmState, Comparison};
use crate::cloudwatch::datums::DatumInput;
use crate::services::{CreateService, ServiceConfiguration};
use crate::testing::{cluster_with_instance, control_plane, name};
use crate::{ControlConfig, ControlError, ControlPlane};
use berth_planner::TaskDefinitionKey;
use berth_types::{ServiceName, TaskDefinitionFamily, Timestamp};
use std::sync::Arc;

fn kind(error: ControlError) -> AutoScalingErrorKind {
    match error {
        ControlError::AutoScaling(error) => error.kind,
        other => panic!("not an Application Auto Scaling error: {other:?}"),
    }
}

fn key() -> TargetKey {
    parse_target("ecs", "service/prod/web", "ecs:service:DesiredCount").unwrap()
}

async fn with_service(control: &ControlPlane, desired: u32) {
    cluster_with_instance(control, "prod", 4096, 4096).await;
    let family = TaskDefinitionFamily::parse("web").unwrap();
    control
        .register_task_definition(family.clone(), crate::testing::task_spec(), serde_json::json!({}), vec![])
        .await
        .unwrap();
    let definition = TaskDefinitionKey { family, revision: 1 };
    control
        .create_service(CreateService {
            cluster: name("prod"),
            name: ServiceName::parse("web").unwrap(),
            configuration: ServiceConfiguration::replica(definition, desired),
            tags: vec![],
            client_token: None,
        })
        .await
        .unwrap();
}

fn desired(control: &ControlPlane) -> u32 {
    control.read().services.get("prod/web").map(|service| service.configuration.desired_count).unwrap()
}

fn bounds(min: i32, max: i32) -> RegisterTarget {
    RegisterTarget { min_capacity: Some(min), max_capacity: Some(max), ..RegisterTarget::default() }
}

#[tokio::test]
async fn registering_checks_the_service_and_the_bounds_and_refusals_change_nothing() {
    let control = control_plane();
    assert!(parse_target("dynamodb", "table/t", "dynamodb:table:ReadCapacityUnits")
        .unwrap_err()
        .message
        .contains("ServiceNamespace dynamodb"));
    assert!(parse_target("ecs", "cluster/prod", "ecs:service:DesiredCount")
        .unwrap_err()
        .message
        .contains("ResourceId"));
    let missing = control.register_scalable_target(key(), bounds(1, 3)).await.unwrap_err();
    assert_eq!(kind(missing), AutoScalingErrorKind::Validation);
    with_service(&control, 1).await;
    let inverted = control.register_scalable_target(key(), bounds(4, 2)).await.unwrap_err();
    assert!(inverted.to_string().contains("MinCapacity (4) cannot be greater than MaxCapacity (2)"), "{inverted}");
    let half = RegisterTarget { min_capacity: Some(1), ..RegisterTarget::default() };
    assert!(control.register_scalable_target(key(), half).await.unwrap_err().to_string().contains("MaxCapacity"));
    assert!(control.describe_scalable_targets(&[]).is_empty(), "refused registrations left nothing");
    let arn = control.register_scalable_target(key(), bounds(1, 3)).await.unwrap();
    assert!(arn.starts_with("arn:aws:application-autoscaling:"), "{arn}");
    // An update keeps what it does not give, and a bad one changes nothing.
    let raise_max = RegisterTarget { max_capacity: Some(5), ..RegisterTarget::default() };
    assert_eq!(control.register_scalable_target(key(), raise_max).await.unwrap(), arn);
    let targets = control.describe_scalable_targets(&[]);
    assert_eq!((targets[0].1.min_capacity, targets[0].1.max_capacity), (1, 5));
    control
        .register_scalable_target(key(), RegisterTarget { min_capacity: Some(9), ..Default::default() })
        .await
        .unwrap_err();
    assert_eq!(control.describe_scalable_targets(&[])[0].1.min_capacity, 1);
}

#[tokio::test]
async fn new_bounds_bring_the_desired_count_within_them_as_an_activity() {
    let control = control_plane();
    with_service(&control, 1).await;
    control.register_scalable_target(key(), bounds(3, 6)).await.unwrap();
    assert_eq!(desired(&control), 3);
    let activities = control.describe_scaling_activities(Some(&key()));
    let activity = &activities[0].1;
    assert_eq!(activity.description, "Setting desired count to 3.");
    assert_eq!(activity.cause, "minimum capacity was set to 3");
    assert_eq!(activity.status, ActivityStatus::Successful);
    assert_eq!(
        activity.status_message.as_deref(),
        Some("Successfully set desired count to 3. Change successfully fulfilled by ecs.")
    );
    control.register_scalable_target(key(), bounds(1, 2)).await.unwrap();
    assert_eq!(desired(&control), 2);
    assert_eq!(control.describe_scaling_activities(Some(&key()))[0].1.cause, "maximum capacity was set to 2");
}

fn tracking_policy(name: &str, disable_scale_in: bool) -> PolicyInput {
    PolicyInput {
        name: name.into(),
        policy_type: Some("TargetTrackingScaling".into()),
        tracking: Some(TrackingInput {
            target_value: Some(50.0),
            customized: Some(CustomizedInput {
                metric_name: Some("Load".into()),
                namespace: Some("App".into()),
                dimensions: vec![("Service".into(), "web".into())],
                statistic: Some("Average".into()),
                ..CustomizedInput::default()
            }),
            scale_out_cooldown: Some(0),
            scale_in_cooldown: Some(0),
            disable_scale_in: Some(disable_scale_in),
            ..TrackingInput::default()
        }),
        ..PolicyInput::default()
    }
}

#[tokio::test]
async fn target_tracking_owns_two_alarms_of_the_documented_shape() {
    let control = control_plane();
    with_service(&control, 1).await;
    control.register_scalable_target(key(), bounds(1, 10)).await.unwrap();
    let answer = control.put_scaling_policy(key(), tracking_policy("track", false)).await.unwrap();
    assert_eq!(answer.alarms.len(), 2);
    assert!(
        answer.arn.contains(":scalingPolicy:")
            && answer.arn.ends_with(":resource/ecs/service/prod/web:policyName/track")
    );
    let (high, low) = (&answer.alarms[0].name, &answer.alarms[1].name);
    assert!(high.starts_with("TargetTracking-service/prod/web-AlarmHigh-"), "{high}");
    assert!(low.starts_with("TargetTracking-service/prod/web-AlarmLow-"), "{low}");
    {
        let state = control.read();
        let high = &state.alarms.alarms[high].config;
        assert_eq!((high.period, high.evaluation_periods, high.datapoints_to_alarm), (60, 3, Some(3)));
        assert_eq!((high.threshold, high.comparison), (50.0, Comparison::GreaterThanThreshold));
        assert_eq!(high.alarm_actions, vec![answer.arn.clone()]);
        assert!(high.description.as_deref().unwrap().starts_with("DO NOT EDIT OR DELETE."));
        let low = &state.alarms.alarms[low].config;
        assert_eq!((low.evaluation_periods, low.threshold, low.comparison), (15, 45.0, Comparison::LessThanThreshold));
    }
    // Putting it again keeps the alarm names; disabling scale-in removes the low alarm.
    let again = control.put_scaling_policy(key(), tracking_policy("track", true)).await.unwrap();
    assert_eq!((again.arn.as_str(), again.alarms.len()), (answer.arn.as_str(), 1));
    assert_eq!(&again.alarms[0].name, high);
    assert!(!control.read().alarms.alarms.contains_key(low));
    control.delete_scaling_policy(key(), "track".into()).await.unwrap();
    assert!(control.read().alarms.alarms.is_empty(), "the policy's alarms went with it");
    let gone = control.delete_scaling_policy(key(), "track".into()).await.unwrap_err();
    assert_eq!(kind(gone), AutoScalingErrorKind::ObjectNotFound);
}

#[tokio::test]
async fn a_policy_needs_a_registered_target_and_a_valid_metric() {
    let control = control_plane();
    with_service(&control, 1).await;
    let unregistered = control.put_scaling_policy(key(), tracking_policy("track", false)).await.unwrap_err();
    assert_eq!(kind(unregistered), AutoScalingErrorKind::ObjectNotFound);
    control.register_scalable_target(key(), bounds(1, 10)).await.unwrap();
    let mut bad_statistic = tracking_policy("track", false);
    if let Some(tracking) = bad_statistic.tracking.as_mut() {
        tracking.customized.as_mut().unwrap().statistic = Some("p99".into());
    }
    let refused = control.put_scaling_policy(key(), bad_statistic).await.unwrap_err();
    assert_eq!(kind(refused), AutoScalingErrorKind::Validation);
    assert!(control.read().alarms.alarms.is_empty() && control.read().autoscaling.policies.is_empty());
}

fn step_policy() -> PolicyInput {
    PolicyInput {
        name: "steps".into(),
        policy_type: Some("StepScaling".into()),
        step: Some(StepInput {
            adjustment_type: Some(AdjustmentType::ChangeInCapacity),
            steps: vec![
                StepAdjustment { lower_bound: Some(0.0), upper_bound: Some(20.0), adjustment: 1 },
                StepAdjustment { lower_bound: Some(20.0), upper_bound: None, adjustment: 3 },
            ],
            cooldown: Some(0),
            ..StepInput::default()
        }),
        ..PolicyInput::default()
    }
}

async fn put_load(control: &ControlPlane, value: f64) {
    let datum = DatumInput {
        metric_name: Some("Load".into()),
        timestamp_ms: Some(Timestamp::now().0),
        value: Some(value),
        ..DatumInput::default()
    };
    control.put_metric_data(Some("App".into()), Some(vec![datum])).await.unwrap();
}

#[tokio::test]
async fn an_alarm_in_alarm_runs_the_step_policy_it_names() {
    let control = control_plane();
    with_service(&control, 1).await;
    control.register_scalable_target(key(), bounds(1, 6)).await.unwrap();
    let policy = control.put_scaling_policy(key(), step_policy()).await.unwrap();
    assert!(policy.alarms.is_empty(), "a step policy owns no alarm");
    control
        .put_metric_alarm(AlarmInput {
            name: Some("load-high".into()),
            namespace: Some("App".into()),
            metric_name: Some("Load".into()),
            statistic: Some("Average".into()),
            period: Some(60),
            evaluation_periods: Some(1),
            threshold: Some(50.0),
            comparison: Some("GreaterThanOrEqualToThreshold".into()),
            alarm_actions: vec![policy.arn.clone()],
            ..AlarmInput::default()
        })
        .await
        .unwrap();
    put_load(&control, 80.0).await;
    control.evaluate_alarms(Timestamp::now().0).await.unwrap();
    assert_eq!(control.alarm_state("load-high").unwrap().0, AlarmState::Alarm);
    assert_eq!(desired(&control), 4, "80 is 30 above the threshold: the +3 step");
    let activity = control.describe_scaling_activities(Some(&key()))[0].1.clone();
    assert_eq!(activity.cause, "monitor alarm load-high in state ALARM triggered policy steps");
    assert_eq!(activity.description, "Setting desired count to 4.");
    // Still in ALARM at the next evaluation: the policy runs again, up to the maximum.
    control.evaluate_alarms(Timestamp::now().0).await.unwrap();
    assert_eq!(desired(&control), 6, "clamped to MaxCapacity");
    // The policy lists the alarm that names it.
    let described = control.describe_scaling_policies(Some(&key()), &[]);
    assert_eq!(described[0].2[0].name, "load-high");
}

#[tokio::test]
async fn suspended_dynamic_scaling_holds_policies_back() {
    let control = control_plane();
    with_service(&control, 1).await;
    let suspended = RegisterTarget { dynamic_out_suspended: Some(true), ..bounds(1, 6) };
    control.register_scalable_target(key(), suspended).await.unwrap();
    let policy = control.put_scaling_policy(key(), step_policy()).await.unwrap();
    let trigger = super::decide::AlarmTrigger { alarm_name: "a".into(), values: vec![90.0], threshold: 50.0 };
    let signal = super::engine::AlarmSignal { trigger, policy_arns: vec![policy.arn] };
    control.run_alarm_actions(vec![signal], Timestamp::now().0).await;
    assert_eq!(desired(&control), 1);
}

#[tokio::test]
async fn a_scheduled_action_raises_the_minimum_and_the_desired_count() {
    let control = control_plane();
    with_service(&control, 1).await;
    control.register_scalable_target(key(), bounds(1, 4)).await.unwrap();
    let now = Timestamp::now().0;
    let when = jiff::Timestamp::from_millisecond(now + 3_600_000).unwrap();
    let at = format!("at({})", when.strftime("%Y-%m-%dT%H:%M:%S"));
    let action = ScheduledActionInput {
        name: "morning".into(),
        schedule: Some(at),
        min_capacity: Some(3),
        ..Default::default()
    };
    control.put_scheduled_action(key(), action).await.unwrap();
    let bad = ScheduledActionInput {
        name: "broken".into(),
        schedule: Some("cron(0 9 * * * *)".into()),
        min_capacity: Some(1),
        ..Default::default()
    };
    assert_eq!(kind(control.put_scheduled_action(key(), bad).await.unwrap_err()), AutoScalingErrorKind::Validation);
    assert_eq!(control.run_due_scheduled_actions(now).await.unwrap(), 0, "not due yet");
    assert_eq!(control.run_due_scheduled_actions(now + 3_601_000).await.unwrap(), 1);
    assert_eq!(desired(&control), 3);
    assert_eq!(control.describe_scalable_targets(&[])[0].1.min_capacity, 3);
    let activity = control.describe_scaling_activities(Some(&key()))[0].1.clone();
    assert_eq!(activity.cause, "scheduled action name morning was triggered");
    let actions = control.describe_scheduled_actions(Some(&key()), &[]);
    assert_eq!(actions[0].1.next_run_ms, None, "an at() action runs once");
    assert_eq!(control.run_due_scheduled_actions(now + 7_200_000).await.unwrap(), 0);
}

#[tokio::test]
async fn deregistering_takes_policies_alarms_and_scheduled_actions_and_everything_survives_a_restart() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("berth.redb");
    let open = || {
        let store = Arc::new(berth_store::EmbeddedStore::open(&path).unwrap());
        ControlPlane::open(ControlConfig::default(), store).unwrap()
    };
    {
        let control = open();
        with_service(&control, 1).await;
        control.register_scalable_target(key(), bounds(1, 10)).await.unwrap();
        control.put_scaling_policy(key(), tracking_policy("track", false)).await.unwrap();
        let action = ScheduledActionInput {
            name: "nightly".into(),
            schedule: Some("cron(0 2 * * ? *)".into()),
            timezone: Some("Europe/Paris".into()),
            max_capacity: Some(2),
            ..Default::default()
        };
        control.put_scheduled_action(key(), action).await.unwrap();
    }
    let control = open();
    assert_eq!(control.describe_scalable_targets(&[]).len(), 1);
    assert_eq!(control.describe_scaling_policies(None, &[]).len(), 1);
    assert_eq!(control.read().alarms.alarms.len(), 2);
    let actions = control.describe_scheduled_actions(None, &[]);
    assert_eq!(actions[0].1.timezone.as_deref(), Some("Europe/Paris"));
    assert!(actions[0].1.next_run_ms.is_some());
    control.deregister_scalable_target(key()).await.unwrap();
    assert!(control.describe_scalable_targets(&[]).is_empty());
    assert!(control.describe_scaling_policies(None, &[]).is_empty());
    assert!(control.describe_scheduled_actions(None, &[]).is_empty());
    assert!(control.read().alarms.alarms.is_empty());
    assert_eq!(
        kind(control.deregister_scalable_target(key()).await.unwrap_err()),
        AutoScalingErrorKind::ObjectNotFound
    );
}

#[tokio::test]
async fn a_deployment_in_progress_does_not_hold_a_scale_out_back() {
    let control = control_plane();
    with_service(&control, 1).await;
    control.register_scalable_target(key(), bounds(1, 6)).await.unwrap();
    let policy = control.put_scaling_policy(key(), step_policy()).await.unwrap();
    // A second revision begins a deployment that no reconciler pass has finished.
    let family = TaskDefinitionFamily::parse("web").unwrap();
    control
        .register_task_definition(family.clone(), crate::testing::task_spec(), serde_json::json!({}), vec![])
        .await
        .unwrap();
    let update = crate::services::UpdateService {
        task_definition: Some(TaskDefinitionKey { family, revision: 2 }),
        ..Default::default()
    };
    control.update_service(&name("prod"), &ServiceName::parse("web").unwrap(), update).await.unwrap();
    let deployments = || control.read().services["prod/web"].progress.deployments.len();
    assert_eq!(deployments(), 2);
    let trigger = super::decide::AlarmTrigger { alarm_name: "a".into(), values: vec![90.0], threshold: 50.0 };
    let signal = super::engine::AlarmSignal { trigger, policy_arns: vec![policy.arn] };
    control.run_alarm_actions(vec![signal], Timestamp::now().0).await;
    assert_eq!(desired(&control), 4);
    assert_eq!(deployments(), 2, "a new desired count begins no deployment of its own");
}
