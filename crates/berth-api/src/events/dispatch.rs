//! The delivery loop: every event in the outbox, oldest first, is rendered in AWS's shape,
//! matched against every enabled rule, and given to each matching rule's targets; only then is
//! it taken out of the outbox. An ECS target's tasks are one RunTask each, whose client token is
//! derived from the event, the invocation and the attempt: a delivery repeated after a crash
//! starts each task once, a task that could not be placed is tried again with the next
//! attempt (EventBridge's default retry policy), and one that started is recorded and never
//! asked for again.

use super::targets::{input_for, wire_target};
use super::task_event::render_event;
use crate::Api;
use berth_control::events::records::{PendingEvent, RuleRecord, TargetRecord};
use berth_control::events::rules::parse_pattern;
use berth_event_pattern::Pattern;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::Duration;

/// How often the outbox is looked at.
const POLL_INTERVAL: Duration = Duration::from_millis(200);
/// Events taken from the outbox in one pass.
const BATCH: usize = 100;

pub async fn run(api: Arc<Api>) {
    let mut patterns = Patterns::default();
    loop {
        for pending in api.control.pending_events(BATCH) {
            let done = match deliver(&api, &pending, &mut patterns).await {
                Delivery::Done => api.control.finish_event(pending.id.clone()).await,
                Delivery::Undone if given_up(&pending) => {
                    tracing::warn!(
                        event = pending.id,
                        attempts = pending.attempts + 1,
                        "EventBridge gave up on an event whose targets could not all be invoked"
                    );
                    api.control.finish_event(pending.id.clone()).await
                }
                Delivery::Undone => {
                    api.control.retry_event_later(pending.id.clone(), retry_delay_ms(pending.attempts)).await
                }
                // The server itself failed (its store); the event stays for the next pass.
                Delivery::ServerFailed => break,
            };
            if let Err(error) = done {
                tracing::error!(event = pending.id, %error, "an event's delivery could not be recorded");
                break;
            }
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// EventBridge's default retry policy: 185 attempts over at most 24 hours.
const MAX_ATTEMPTS: u32 = 185;
const MAX_EVENT_AGE_MS: i64 = 24 * 3600 * 1000;

fn given_up(pending: &PendingEvent) -> bool {
    pending.attempts + 1 >= MAX_ATTEMPTS || berth_types::Timestamp::now().0 - pending.time.0 > MAX_EVENT_AGE_MS
}

/// Exponential back-off between attempts: 1 s, 2 s, 4 s, … at most a minute.
fn retry_delay_ms(attempts: u32) -> i64 {
    1000i64.saturating_mul(1 << attempts.min(6)).min(60_000)
}

/// Each rule's pattern parsed once, by its text (a rule put again with a new pattern gets a new
/// entry; the map is dropped when it grows past the rules there are).
#[derive(Default)]
struct Patterns(HashMap<String, Option<Pattern>>);

impl Patterns {
    fn of(&mut self, text: &str, rules: usize) -> Option<&Pattern> {
        if self.0.len() > rules * 2 + 64 {
            self.0.clear();
        }
        self.0.entry(text.to_string()).or_insert_with(|| parse_pattern(text).ok()).as_ref()
    }
}

enum Delivery {
    Done,
    /// Some invocation could not be made (no instance could take a task); tried again later.
    Undone,
    ServerFailed,
}

/// Delivers one event to every target of every enabled rule it matches.
async fn deliver(api: &Api, pending: &PendingEvent, patterns: &mut Patterns) -> Delivery {
    let event = render_event(api, pending);
    let Ok(rules) = api.control.list_event_rules(None, None) else {
        return Delivery::ServerFailed;
    };
    let mut undone = false;
    for rule in rules.iter().filter(|rule| rule.enabled) {
        if !patterns.of(&rule.event_pattern, rules.len()).is_some_and(|pattern| pattern.matches(&event)) {
            continue;
        }
        for target in &rule.targets {
            match invoke(api, rule, target, &event, pending).await {
                Delivery::Done => {}
                Delivery::Undone => undone = true,
                Delivery::ServerFailed => return Delivery::ServerFailed,
            }
        }
    }
    if undone {
        Delivery::Undone
    } else {
        Delivery::Done
    }
}

/// One target's invocation: its tasks one RunTask each, so that each is either started (and
/// recorded as delivered) or not started at all (and tried again with the next attempt's token).
async fn invoke(
    api: &Api,
    rule: &RuleRecord,
    target: &TargetRecord,
    event: &Value,
    pending: &PendingEvent,
) -> Delivery {
    let Ok(wire) = wire_target(target) else {
        return Delivery::Done;
    };
    let Some(input) = input_for(&wire, &rule.name, event) else {
        tracing::warn!(
            rule = rule.name,
            target = target.id,
            "the target's InputPath selects nothing in the event; not invoked"
        );
        return Delivery::Done;
    };
    let named_input = wire.input.is_some() || wire.input_path.is_some() || wire.input_transformer.is_some();
    let request = match run_task_request(&wire, &rule.name, target, named_input.then_some(input.as_str())) {
        Ok(request) => request,
        Err(reason) => {
            tracing::warn!(rule = rule.name, target = target.id, reason, "EventBridge could not invoke its ECS target");
            return Delivery::Done;
        }
    };
    let count = wire.ecs_parameters.as_ref().and_then(|ecs| ecs.task_count).unwrap_or(1).max(1);
    let mut outcome = Delivery::Done;
    for index in 0..count {
        let key = format!("{}/{}/{index}", rule.name, target.id);
        if pending.delivered.contains(&key) {
            continue;
        }
        let token = client_token(&pending.id, &key, pending.attempts);
        let request = berth_ecs_wire::RunTaskRequest { client_token: Some(token), ..request.clone() };
        match crate::operations::tasks::run_task(api, request).await {
            Ok(answer) if !answer.tasks.as_ref().is_none_or(Vec::is_empty) => {
                if api.control.record_event_delivered(pending.id.clone(), key).await.is_err() {
                    return Delivery::ServerFailed;
                }
            }
            Ok(answer) => {
                for failure in answer.failures.unwrap_or_default() {
                    tracing::info!(rule = rule.name, target = target.id, reason = ?failure.reason, "a task EventBridge asked for could not be placed yet");
                }
                outcome = Delivery::Undone;
            }
            Err(error) if error.status.is_server_error() => return Delivery::ServerFailed,
            Err(error) => {
                // A refusal (a definition that does not exist, …) will not pass on a retry.
                tracing::warn!(rule = rule.name, target = target.id, code = error.error_type, reason = %error.message, "EventBridge's RunTask was refused");
            }
        }
    }
    outcome
}

/// A client token for one invocation and attempt: the same on every try of that attempt
/// (after a crash too), at most 64 characters.
fn client_token(event_id: &str, invocation: &str, attempt: u32) -> String {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    (invocation, attempt).hash(&mut hasher);
    format!("{event_id}-{:016x}", hasher.finish())
}

/// EventBridge's PascalCase members as ECS's camelCase (`SecurityGroups` → `securityGroups`).
fn camel(value: Value) -> Value {
    match value {
        Value::Object(object) => Value::Object(
            object
                .into_iter()
                .map(|(key, value)| {
                    let mut characters = key.chars();
                    let key = characters
                        .next()
                        .map(|first| first.to_lowercase().chain(characters).collect())
                        .unwrap_or_default();
                    (key, camel(value))
                })
                .collect::<Map<String, Value>>(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(camel).collect()),
        other => other,
    }
}

fn run_task_request(
    target: &berth_events_wire::Target,
    rule: &str,
    record: &TargetRecord,
    overrides: Option<&str>,
) -> Result<berth_ecs_wire::RunTaskRequest, String> {
    let ecs = target.ecs_parameters.as_ref().ok_or("the target has no EcsParameters")?;
    let mut request = json!({
        "cluster": record.arn,
        "taskDefinition": ecs.task_definition_arn,
        "count": 1,
        "startedBy": format!("events-rule/{rule}"),
    });
    let members = serde_json::to_value(ecs).expect("parameters always serialise");
    for (from, to) in [
        ("LaunchType", "launchType"),
        ("NetworkConfiguration", "networkConfiguration"),
        ("PlatformVersion", "platformVersion"),
        ("Group", "group"),
        ("CapacityProviderStrategy", "capacityProviderStrategy"),
        ("EnableECSManagedTags", "enableECSManagedTags"),
        ("EnableExecuteCommand", "enableExecuteCommand"),
        ("PlacementConstraints", "placementConstraints"),
        ("PlacementStrategy", "placementStrategy"),
        ("PropagateTags", "propagateTags"),
        ("ReferenceId", "referenceId"),
        ("Tags", "tags"),
    ] {
        if let Some(value) = members.get(from) {
            request[to] = camel(value.clone());
        }
    }
    if let Some(overrides) = overrides {
        let overrides: Value =
            serde_json::from_str(overrides).map_err(|_| "the target's input is not JSON task overrides".to_string())?;
        request["overrides"] = overrides;
    }
    serde_json::from_value(request)
        .map_err(|error| format!("the target's input does not make a RunTask request: {error}"))
}
