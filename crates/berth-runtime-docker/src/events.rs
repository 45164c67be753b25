//! Docker's event stream, narrowed to the container events the agent acts on and to the
//! containers of one instance (by label).

use crate::error::map_error;
use berth_agent::runtime::{RuntimeError, RuntimeEvent, RuntimeEventKind, RuntimeEventStream};
use bollard::models::{EventMessage, EventMessageTypeEnum};
use bollard::query_parameters::EventsOptionsBuilder;
use bollard::Docker;
use futures_util::StreamExt;
use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub async fn subscribe(docker: &Docker, label: &str, value: &str) -> Result<RuntimeEventStream, RuntimeError> {
    let filters = HashMap::from([
        ("type", vec!["container".to_string()]),
        ("label", vec![format!("{label}={value}")]),
        ("event", ["start", "die", "oom", "destroy", "health_status"].map(String::from).to_vec()),
    ]);
    // Fail now, not on first poll, when the daemon is away.
    docker.ping().await.map_err(|error| map_error("events", error))?;
    // The request goes out when the stream is first polled; asking for events since a moment
    // ago closes that gap (a duplicate event only costs the agent an inspect).
    let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().saturating_sub(Duration::from_secs(1));
    let since = format!("{}.{:09}", since.as_secs(), since.subsec_nanos());
    let options = EventsOptionsBuilder::new().since(&since).filters(&filters).build();
    let mapped = docker.events(Some(options)).filter_map(|item| async move {
        match item {
            Ok(message) => to_event(message).map(Ok),
            Err(error) => Some(Err(map_error("events", error))),
        }
    });
    Ok(mapped.boxed())
}

fn to_event(message: EventMessage) -> Option<RuntimeEvent> {
    if message.typ != Some(EventMessageTypeEnum::CONTAINER) {
        return None;
    }
    let action = message.action.unwrap_or_default();
    let kind = match action.split(':').next().unwrap_or_default().trim() {
        "start" => RuntimeEventKind::Started,
        "die" | "oom" => RuntimeEventKind::Died,
        "destroy" => RuntimeEventKind::Destroyed,
        "health_status" => RuntimeEventKind::HealthChanged,
        _ => return None,
    };
    let actor = message.actor?;
    Some(RuntimeEvent {
        container_id: actor.id?,
        labels: actor.attributes.unwrap_or_default().into_iter().collect(),
        kind,
    })
}
