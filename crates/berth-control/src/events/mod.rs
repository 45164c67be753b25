//! EventBridge on the default event bus: rules (an event pattern, enabled or not) with their
//! targets as records of the main store (`rules`), the events waiting to be matched and
//! delivered (`outbox`), and the events ECS itself emits (`ecs_events`).
//!
//! Events go through a durable outbox: PutEvents and ECS's own events are written in the
//! same batch as what caused them (a task's state change), and `berth-api`'s dispatcher
//! renders each into its AWS shape, matches it against the rules, invokes the targets and only
//! then deletes it. A server killed at any moment loses no accepted event; a target invoked
//! again after a crash runs its tasks once, since RunTask's client token is derived from the
//! event and the target.
//!
//! Invariants: rules change only through [`EventsChange`]s inside `ControlPlane::mutate`; ECS
//! events are kept only while some enabled rule exists (events no rule can match are dropped,
//! as EventBridge drops them).

pub mod ecs_events;
pub mod error;
pub mod outbox;
pub mod records;
pub mod rules;

#[cfg(test)]
mod tests;

pub use error::{EventsError, EventsErrorKind};

use crate::state::{encode, scan};
use berth_store::{Store, StoreError, Table, WriteBatch};
use records::{PendingEvent, RuleRecord};
use std::collections::BTreeMap;

/// The one event bus Berth serves.
pub const DEFAULT_BUS: &str = "default";

/// One durable change to EventBridge's records (the `Change::Events` of a batch).
#[derive(Debug, Clone)]
pub enum EventsChange {
    PutRule(Box<RuleRecord>),
    DeleteRule(String),
    PutPending(Box<PendingEvent>),
    DeletePending(String),
}

/// Rules by name, and the events not yet delivered by id (ids sort by acceptance).
#[derive(Debug, Default)]
pub struct EventsState {
    pub rules: BTreeMap<String, RuleRecord>,
    pub pending: BTreeMap<String, PendingEvent>,
}

impl EventsState {
    pub fn load(store: &dyn Store) -> Result<EventsState, StoreError> {
        let mut state = EventsState::default();
        scan(store, Table::EventRules, |record| state.apply(EventsChange::PutRule(Box::new(record))))?;
        scan(store, Table::PendingEvents, |record| state.apply(EventsChange::PutPending(Box::new(record))))?;
        Ok(state)
    }

    pub fn write(change: &EventsChange, batch: &mut WriteBatch) {
        match change {
            EventsChange::PutRule(record) => batch.put(Table::EventRules, record.name.clone(), encode(record.as_ref())),
            EventsChange::DeleteRule(name) => batch.delete(Table::EventRules, name.clone()),
            EventsChange::PutPending(event) => {
                batch.put(Table::PendingEvents, event.id.clone(), encode(event.as_ref()))
            }
            EventsChange::DeletePending(id) => batch.delete(Table::PendingEvents, id.clone()),
        }
    }

    pub fn apply(&mut self, change: EventsChange) {
        match change {
            EventsChange::PutRule(record) => {
                self.rules.insert(record.name.clone(), *record);
            }
            EventsChange::DeleteRule(name) => {
                self.rules.remove(&name);
            }
            EventsChange::PutPending(event) => {
                self.pending.insert(event.id.clone(), *event);
            }
            EventsChange::DeletePending(id) => {
                self.pending.remove(&id);
            }
        }
    }

    /// Whether an event could reach any target now.
    pub fn any_enabled_rule(&self) -> bool {
        self.rules.values().any(|rule| rule.enabled && !rule.targets.is_empty())
    }
}
