//! Events in AWS's envelope (`version`, `id`, `detail-type`, `source`, `account`, `time`,
//! `region`, `resources`, `detail`): PutEvents' entries as they were put, and ECS's "ECS Task
//! State Change", whose detail is the task as DescribeTasks renders it, with ISO 8601 times
//! and `updatedAt`, as ECS writes it.

use crate::{render, Api};
use berth_control::events::records::{PendingEvent, PendingKind};
use berth_types::Timestamp;
use serde_json::{json, Value};

/// The task members that hold times: seconds in DescribeTasks, ISO 8601 text in events.
const TIME_MEMBERS: [&str; 8] = [
    "createdAt",
    "pullStartedAt",
    "pullStoppedAt",
    "startedAt",
    "stoppingAt",
    "stoppedAt",
    "executionStoppedAt",
    "connectivityAt",
];

fn iso_millis(ms: i64) -> String {
    berth_query_wire::Timestamp::from_unix_millis(ms).to_string()
}

/// The envelope's `time`, to the second as EventBridge writes it.
fn iso_seconds(at: Timestamp) -> String {
    let text = iso_millis(at.0.div_euclid(1000) * 1000);
    text.replace(".000Z", "Z")
}

pub fn render_event(api: &Api, pending: &PendingEvent) -> Value {
    let context = api.context();
    let (source, detail_type, resources, detail) = match &pending.kind {
        PendingKind::Custom { source, detail_type, detail, resources } => {
            let detail: Value = serde_json::from_str(detail).unwrap_or_else(|_| json!({}));
            (source.clone(), detail_type.clone(), resources.clone(), detail)
        }
        PendingKind::TaskStateChange(task) => {
            let rendered = render::task(task, context, false);
            let mut detail = serde_json::to_value(&rendered).expect("tasks always serialise");
            for member in TIME_MEMBERS {
                if let Some(seconds) = detail.get(member).and_then(Value::as_f64) {
                    detail[member] = Value::String(iso_millis((seconds * 1000.0).round() as i64));
                }
            }
            detail["updatedAt"] = Value::String(iso_millis(pending.time.0));
            let resources = rendered.task_arn.clone().into_iter().collect();
            ("aws.ecs".to_string(), "ECS Task State Change".to_string(), resources, detail)
        }
    };
    json!({
        "version": "0",
        "id": pending.id,
        "detail-type": detail_type,
        "source": source,
        "account": context.account,
        "time": iso_seconds(pending.time),
        "region": context.region,
        "resources": resources,
        "detail": detail,
    })
}
