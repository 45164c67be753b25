//! Targets: PutTargets' checks (Berth delivers to ECS clusters, running tasks, and to nothing
//! else, which it refuses rather than accept and never deliver), the stored target back in
//! its wire shape, and the input a target receives (the event, `Input`, `InputPath` or
//! `InputTransformer`).

use super::{required, EventsApiError, EventsResult};
use crate::Api;
use berth_control::events::records::TargetRecord;
use berth_events_wire as wire;
use serde_json::Value;

fn check_id(index: usize, id: &str) -> EventsResult<()> {
    let valid = (1..=64).contains(&id.len())
        && id.bytes().all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'-' | b'_'));
    if !valid {
        return Err(EventsApiError::validation(format!(
            "Targets[{index}].Id: '{id}' must have 1-64 characters of [\\.\\-_A-Za-z0-9]"
        )));
    }
    Ok(())
}

/// PutTargets' checks of one target; the stored record keeps it as given.
pub fn check(api: &Api, index: usize, target: wire::Target) -> EventsResult<TargetRecord> {
    let id = required(target.id.clone(), "Targets.Id")?;
    check_id(index, &id)?;
    let arn = required(target.arn.clone(), "Targets.Arn")?;
    let field = |name: &str| format!("Targets[{index}].{name}");
    let inputs = [target.input.is_some(), target.input_path.is_some(), target.input_transformer.is_some()];
    if inputs.iter().filter(|given| **given).count() > 1 {
        return Err(EventsApiError::validation(format!(
            "{}: only one of Input, InputPath and InputTransformer may be given",
            field("Input")
        )));
    }
    if let Some(input) = &target.input {
        serde_json::from_str::<Value>(input)
            .map_err(|_| EventsApiError::validation(format!("{}: must be valid JSON text", field("Input"))))?;
    }
    if let Some(path) = &target.input_path {
        check_path(&field("InputPath"), path)?;
    }
    if let Some(transformer) = &target.input_transformer {
        required(transformer.input_template.as_ref(), "InputTransformer.InputTemplate")?;
        let paths = transformer.input_paths_map.clone().unwrap_or_default();
        if paths.len() > 100 {
            return Err(EventsApiError::validation(format!(
                "{}: at most 100 paths",
                field("InputTransformer.InputPathsMap")
            )));
        }
        for (name, path) in &paths {
            if name.starts_with("aws.") {
                return Err(EventsApiError::validation(format!(
                    "{}: {name} is reserved",
                    field("InputTransformer.InputPathsMap")
                )));
            }
            check_path(&field("InputTransformer.InputPathsMap"), path)?;
        }
    }
    let cluster_prefix = format!("arn:aws:ecs:{}:{}:cluster/", api.context().region, api.context().account);
    if !arn.starts_with(&cluster_prefix) {
        return Err(EventsApiError::validation(format!(
            "{}: {arn} is not a target Berth delivers to: Berth runs ECS tasks (an ECS cluster ARN of this account and region, {cluster_prefix}NAME, with EcsParameters)",
            field("Arn")
        )));
    }
    let Some(ecs) = &target.ecs_parameters else {
        return Err(EventsApiError::validation(format!(
            "{}: required for an ECS cluster target",
            field("EcsParameters")
        )));
    };
    required(ecs.task_definition_arn.as_ref(), "EcsParameters.TaskDefinitionArn")?;
    if ecs.task_count.is_some_and(|count| !(1..=10).contains(&count)) {
        return Err(EventsApiError::validation(format!(
            "{}: must be between 1 and 10",
            field("EcsParameters.TaskCount")
        )));
    }
    let body = serde_json::to_value(&target).expect("targets always serialise");
    Ok(TargetRecord { id, arn, body })
}

pub fn wire_target(record: &TargetRecord) -> EventsResult<wire::Target> {
    serde_json::from_value(record.body.clone()).map_err(|error| {
        tracing::error!(target = record.id, %error, "a stored EventBridge target does not decode");
        EventsApiError::internal()
    })
}

fn check_path(field: &str, path: &str) -> EventsResult<()> {
    if path == "$" || path.starts_with("$.") {
        Ok(())
    } else {
        Err(EventsApiError::validation(format!("{field}: '{path}' is not a JSON path (it must begin with $)")))
    }
}

/// The value at a JSON path of the forms EventBridge's input paths use: `$`, `$.a.b`,
/// `$.a[0].b`.
pub fn select<'v>(value: &'v Value, path: &str) -> Option<&'v Value> {
    let rest = path.strip_prefix('$')?;
    let mut current = value;
    for step in rest.split('.').filter(|step| !step.is_empty()) {
        let (name, indexes) = match step.find('[') {
            Some(at) => (&step[..at], &step[at..]),
            None => (step, ""),
        };
        if !name.is_empty() {
            current = current.get(name)?;
        }
        for index in indexes.split('[').filter(|index| !index.is_empty()) {
            current = current.get(index.trim_end_matches(']').parse::<usize>().ok()?)?;
        }
    }
    Some(current)
}

/// What the target receives for `event` (the whole event when it names no input); `None`
/// when its InputPath selects nothing.
pub fn input_for(target: &wire::Target, rule: &str, event: &Value) -> Option<String> {
    if let Some(input) = &target.input {
        return Some(input.clone());
    }
    if let Some(path) = &target.input_path {
        return select(event, path).map(Value::to_string);
    }
    let Some(transformer) = &target.input_transformer else {
        return Some(event.to_string());
    };
    let mut text = transformer.input_template.clone().unwrap_or_default();
    let mut values: Vec<(String, String)> = transformer
        .input_paths_map
        .iter()
        .flatten()
        .map(|(name, path)| {
            let value = match select(event, path) {
                Some(Value::String(text)) => text.clone(),
                Some(other) => other.to_string(),
                None => String::new(),
            };
            (name.clone(), value)
        })
        .collect();
    values.push(("aws.events.rule-name".to_string(), rule.to_string()));
    values.push(("aws.events.event.json".to_string(), event.to_string()));
    values.push(("aws.events.event".to_string(), event.to_string()));
    for (name, value) in values {
        text = text.replace(&format!("<{name}>"), &value);
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_select_nested_members_and_elements() {
        let event = json!({"detail": {"containers": [{"name": "app", "exitCode": 3}]}});
        assert_eq!(select(&event, "$.detail.containers[0].exitCode"), Some(&json!(3)));
        assert_eq!(select(&event, "$"), Some(&event));
        assert_eq!(select(&event, "$.detail.missing"), None);
    }

    #[test]
    fn a_transformer_fills_its_template() {
        let target = wire::Target {
            input_transformer: Some(wire::InputTransformer {
                input_paths_map: Some([("task".to_string(), "$.detail.taskArn".to_string()), ("code".to_string(), "$.detail.containers[0].exitCode".to_string())].into()),
                input_template: Some(r#"{"containerOverrides": [{"name": "cleanup", "command": ["echo", "<task>", "<code>", "<aws.events.rule-name>"]}]}"#.to_string()),
            }),
            ..Default::default()
        };
        let event = json!({"detail": {"taskArn": "arn:t", "containers": [{"exitCode": 3}]}});
        let input = input_for(&target, "on-failure", &event).unwrap();
        let parsed: Value = serde_json::from_str(&input).unwrap();
        assert_eq!(parsed["containerOverrides"][0]["command"], json!(["echo", "arn:t", "3", "on-failure"]));
    }
}
