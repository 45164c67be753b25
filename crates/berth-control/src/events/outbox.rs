//! The outbox: PutEvents' entries and ECS's own events, kept until the dispatcher in
//! `berth-api` delivered them.

use super::records::{PendingEvent, PendingKind};
use super::EventsChange;
use crate::state::Change;
use crate::{ControlPlane, ControlResult};
use berth_types::Timestamp;

/// PutEvents' most bytes an entry (EventBridge's 256 KB).
pub const MAX_ENTRY_BYTES: usize = 256 * 1024;

/// One PutEvents entry.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub source: Option<String>,
    pub detail_type: Option<String>,
    pub detail: Option<String>,
    pub resources: Vec<String>,
    pub time: Option<Timestamp>,
}

/// What PutEvents answers for one entry: its event id, or EventBridge's error code and
/// message for it.
pub type EntryOutcome = Result<String, (String, String)>;

fn check(entry: &NewEvent) -> Result<(String, String, String), (String, String)> {
    let malformed = |message: &str| ("MalformedDetail".to_string(), message.to_string());
    let (Some(source), Some(detail_type), Some(detail)) = (&entry.source, &entry.detail_type, &entry.detail) else {
        return Err((
            "InvalidArgument".to_string(),
            "Parameters Source, DetailType and Detail are required.".to_string(),
        ));
    };
    if source.starts_with("aws.") {
        return Err((
            "NotAuthorizedForSourceException".to_string(),
            format!("Not authorized for the source {source}."),
        ));
    }
    match serde_json::from_str::<serde_json::Value>(detail) {
        Ok(serde_json::Value::Object(_)) => {}
        Ok(_) => return Err(malformed("Detail is not a JSON object.")),
        Err(_) => return Err(malformed("Detail is malformed.")),
    }
    let size = source.len() + detail_type.len() + detail.len() + entry.resources.iter().map(String::len).sum::<usize>();
    if size > MAX_ENTRY_BYTES {
        return Err(("InvalidArgument".to_string(), "The entry is larger than 256 KB.".to_string()));
    }
    Ok((source.clone(), detail_type.clone(), detail.clone()))
}

impl ControlPlane {
    /// PutEvents: each valid entry gets an id and, when some enabled rule exists, a place in
    /// the outbox, durable before the answer; an invalid entry gets its error and changes
    /// nothing.
    pub async fn put_events(&self, entries: Vec<NewEvent>) -> ControlResult<Vec<EntryOutcome>> {
        let now = Timestamp::now();
        let mut outcomes = Vec::with_capacity(entries.len());
        let mut accepted = Vec::new();
        for entry in &entries {
            match check(entry) {
                Ok((source, detail_type, detail)) => {
                    let id = uuid::Uuid::new_v4().to_string();
                    let kind = PendingKind::Custom { source, detail_type, detail, resources: entry.resources.clone() };
                    accepted.push(PendingEvent::new(id.clone(), entry.time.unwrap_or(now), kind));
                    outcomes.push(Ok(id));
                }
                Err(failure) => outcomes.push(Err(failure)),
            }
        }
        if !accepted.is_empty() {
            self.mutate(move |state| {
                if !state.events.any_enabled_rule() {
                    return Ok((Vec::new(), ()));
                }
                let changes = accepted
                    .into_iter()
                    .map(|event| Change::Events(EventsChange::PutPending(Box::new(event))))
                    .collect();
                Ok((changes, ()))
            })
            .await?;
        }
        Ok(outcomes)
    }

    /// The oldest events due for delivery, at most `limit`.
    pub fn pending_events(&self, limit: usize) -> Vec<PendingEvent> {
        let now = Timestamp::now();
        let state = self.read();
        let mut pending: Vec<PendingEvent> = state
            .events
            .pending
            .values()
            .filter(|event| event.retry_at.is_none_or(|at| at.0 <= now.0))
            .cloned()
            .collect();
        pending.sort_by(|a, b| (a.time.0, &a.id).cmp(&(b.time.0, &b.id)));
        pending.truncate(limit);
        pending
    }

    /// One invocation of event `id` is done (`key`: `rule/target/index`); durable before the
    /// dispatcher goes on, so it is never made again.
    pub async fn record_event_delivered(&self, id: String, key: String) -> ControlResult<()> {
        self.mutate_with(false, move |state| {
            let Some(event) = state.events.pending.get(&id) else {
                return Ok((Vec::new(), ()));
            };
            let mut event = event.clone();
            event.delivered.push(key);
            Ok((vec![Change::Events(EventsChange::PutPending(Box::new(event)))], ()))
        })
        .await
    }

    /// An attempt left invocations undone: the next one, with tokens of its own, comes after
    /// `delay`.
    pub async fn retry_event_later(&self, id: String, delay_ms: i64) -> ControlResult<()> {
        self.mutate_with(false, move |state| {
            let Some(event) = state.events.pending.get(&id) else {
                return Ok((Vec::new(), ()));
            };
            let mut event = event.clone();
            event.attempts += 1;
            event.retry_at = Some(Timestamp(Timestamp::now().0 + delay_ms));
            Ok((vec![Change::Events(EventsChange::PutPending(Box::new(event)))], ()))
        })
        .await
    }

    /// The dispatcher delivered `id` to every target it matched (or gave up on it).
    pub async fn finish_event(&self, id: String) -> ControlResult<()> {
        self.mutate_with(false, move |state| {
            if !state.events.pending.contains_key(&id) {
                return Ok((Vec::new(), ()));
            }
            Ok((vec![Change::Events(EventsChange::DeletePending(id))], ()))
        })
        .await
    }
}
