//! EventBridge Scheduler: schedule groups and schedules as records of the control plane's
//! store (`records`), the operations on them (`actions`, `groups`), and the firing loop
//! (`firing`, [`firing::run_schedule_firing`]) that runs each schedule's ECS tasks through
//! RunTask, exactly once per fire time.
//!
//! Invariants:
//! - Schedules, groups and firing records change only through [`ScheduleChange`]s inside
//!   `ControlPlane::mutate`; [`SchedulesState::apply`] alone keeps the due index (each enabled
//!   schedule's next fire time) in step, so the firing loop reads the earliest due schedule
//!   without scanning them all.
//! - A firing's RunTask carries a client token made of the schedule's `id` and the nominal
//!   fire time, so a firing repeated after a crash (RunTask done, firing record not yet
//!   written) gets back the tasks it already started; the firing record moves on only after
//!   RunTask answered.
//! - The `default` group always exists; it is never stored.
//!
//! Not here: the wire shapes and turning a target into a RunTask request (`berth-api`), the
//! expression grammar and fire-time arithmetic (`berth-schedule-expressions`).

pub mod actions;
pub mod error;
pub mod firing;
pub mod groups;
pub mod records;

#[cfg(test)]
mod tests;

use crate::state::{encode, scan};
use berth_schedule_expressions::{flexible_offset_ms, parse_timezone, ScheduleExpression, Timing};
use berth_store::{Store, StoreError, Table, WriteBatch};
use records::{FiringRecord, ScheduleConfig, ScheduleGroupRecord, ScheduleRecord, ScheduleState};
use std::collections::{BTreeMap, BTreeSet, HashMap};

pub use error::{SchedulerError, SchedulerErrorKind};

/// The group every account has, which cannot be deleted.
pub const DEFAULT_GROUP: &str = "default";

/// One durable change to schedules (the `Change::Schedule` of a batch).
#[derive(Debug, Clone)]
pub enum ScheduleChange {
    PutSchedule(Box<ScheduleRecord>),
    /// By schedule key; its firing record goes with it.
    DeleteSchedule(String),
    PutGroup(Box<ScheduleGroupRecord>),
    DeleteGroup(String),
    PutFiring(Box<FiringRecord>),
}

/// The next firing of an enabled schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DueFiring {
    /// The fire time the expression gives.
    pub nominal_ms: i64,
    /// When it is carried out: the nominal time plus the flexible window's offset.
    pub due_ms: i64,
}

#[derive(Debug, Default)]
pub struct SchedulesState {
    /// By [`ScheduleRecord::key`].
    pub schedules: BTreeMap<String, ScheduleRecord>,
    /// Groups other than `default`, by name.
    pub groups: BTreeMap<String, ScheduleGroupRecord>,
    pub firings: HashMap<String, FiringRecord>,
    /// Every enabled schedule's next firing, ordered by when it is due.
    due: BTreeSet<(i64, String)>,
    due_by_key: HashMap<String, DueFiring>,
}

/// The timing of a stored configuration (already validated when it was stored).
pub fn timing_of(config: &ScheduleConfig, anchor_ms: i64) -> Option<Timing> {
    Some(Timing {
        expression: ScheduleExpression::parse(&config.expression).ok()?,
        timezone: parse_timezone(&config.timezone).ok()?,
        start_ms: config.start_ms,
        end_ms: config.end_ms,
        anchor_ms,
    })
}

/// The next firing of `schedule` after its last one (`last_fire_ms`), if it fires again.
pub fn next_firing(schedule: &ScheduleRecord, last_fire_ms: Option<i64>) -> Option<DueFiring> {
    if schedule.config.state != ScheduleState::Enabled {
        return None;
    }
    let timing = timing_of(&schedule.config, schedule.modified_ms)?;
    // Nothing before the schedule's last change counts: an update starts it afresh (a rate
    // counts from the update), and a firing already dealt with never comes back.
    let after = last_fire_ms.unwrap_or(i64::MIN).max(if timing.expression.is_one_time() {
        i64::MIN
    } else {
        schedule.modified_ms - 1
    });
    let nominal_ms = timing.next_after(after)?;
    let offset = match schedule.config.flexible_window_minutes {
        Some(minutes) => flexible_offset_ms(seed(&schedule.id, nominal_ms), minutes),
        None => 0,
    };
    Some(DueFiring { nominal_ms, due_ms: nominal_ms + offset })
}

fn seed(id: &str, nominal_ms: i64) -> u64 {
    // FNV-1a over the schedule's id and the fire time: stable across restarts and builds.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in id.bytes().chain(nominal_ms.to_le_bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

impl SchedulesState {
    pub fn load(store: &dyn Store) -> Result<SchedulesState, StoreError> {
        let mut state = SchedulesState::default();
        scan(store, Table::ScheduleGroups, |record| state.apply(ScheduleChange::PutGroup(Box::new(record))))?;
        scan(store, Table::ScheduleFirings, |record| state.apply(ScheduleChange::PutFiring(Box::new(record))))?;
        scan(store, Table::Schedules, |record| state.apply(ScheduleChange::PutSchedule(Box::new(record))))?;
        Ok(state)
    }

    pub fn write(change: &ScheduleChange, batch: &mut WriteBatch) {
        match change {
            ScheduleChange::PutSchedule(record) => {
                batch.put(Table::Schedules, ScheduleRecord::key(&record.group, &record.name), encode(record.as_ref()))
            }
            ScheduleChange::DeleteSchedule(key) => {
                batch.delete(Table::Schedules, key.clone());
                batch.delete(Table::ScheduleFirings, key.clone());
            }
            ScheduleChange::PutGroup(record) => {
                batch.put(Table::ScheduleGroups, record.name.clone(), encode(record.as_ref()))
            }
            ScheduleChange::DeleteGroup(name) => batch.delete(Table::ScheduleGroups, name.clone()),
            ScheduleChange::PutFiring(record) => {
                batch.put(Table::ScheduleFirings, record.key.clone(), encode(record.as_ref()))
            }
        }
    }

    pub fn apply(&mut self, change: ScheduleChange) {
        let key = match change {
            ScheduleChange::PutSchedule(record) => {
                let key = ScheduleRecord::key(&record.group, &record.name);
                self.schedules.insert(key.clone(), *record);
                key
            }
            ScheduleChange::DeleteSchedule(key) => {
                self.schedules.remove(&key);
                self.firings.remove(&key);
                key
            }
            ScheduleChange::PutGroup(record) => {
                self.groups.insert(record.name.clone(), *record);
                return;
            }
            ScheduleChange::DeleteGroup(name) => {
                self.groups.remove(&name);
                return;
            }
            ScheduleChange::PutFiring(record) => {
                let key = record.key.clone();
                self.firings.insert(key.clone(), *record);
                key
            }
        };
        self.reindex(&key);
    }

    /// The last nominal fire time dealt with for this schedule (its own, not a predecessor's).
    pub fn last_fire_ms(&self, schedule: &ScheduleRecord) -> Option<i64> {
        let key = ScheduleRecord::key(&schedule.group, &schedule.name);
        self.firings.get(&key).filter(|firing| firing.schedule_id == schedule.id).map(|firing| firing.last_fire_ms)
    }

    fn reindex(&mut self, key: &str) {
        if let Some(previous) = self.due_by_key.remove(key) {
            self.due.remove(&(previous.due_ms, key.to_string()));
        }
        let Some(schedule) = self.schedules.get(key) else { return };
        if let Some(next) = next_firing(schedule, self.last_fire_ms(schedule)) {
            self.due.insert((next.due_ms, key.to_string()));
            self.due_by_key.insert(key.to_string(), next);
        }
    }

    /// The schedules due at or before `now_ms`, earliest first, less those `busy` (their
    /// firing is under way), and when the first one not yet due is due.
    // TODO-scalability: firings under way stay at the front of the index until recorded, so
    // a burst of thousands due at once is walked again on every wake-up; `berth bench
    // schedules` (10,000 at rate(1 minute)) shows it is cheap so far.
    pub fn due_now(&self, now_ms: i64, busy: impl Fn(&str) -> bool) -> (Vec<(String, DueFiring)>, Option<i64>) {
        let mut due = Vec::new();
        for (due_ms, key) in &self.due {
            if *due_ms > now_ms {
                return (due, Some(*due_ms));
            }
            if !busy(key) {
                due.push((key.clone(), self.due_by_key[key]));
            }
        }
        (due, None)
    }

    /// The next firing of the schedule with this key, if it fires again.
    pub fn due_of(&self, key: &str) -> Option<DueFiring> {
        self.due_by_key.get(key).copied()
    }

    pub fn group_exists(&self, name: &str) -> bool {
        name == DEFAULT_GROUP || self.groups.contains_key(name)
    }
}
