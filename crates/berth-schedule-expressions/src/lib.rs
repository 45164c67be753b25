//! EventBridge Scheduler's schedule expressions as a pure library: parsing `at(…)`, `rate(…)`
//! and AWS's six-field `cron(…)` (with `?`, `L`, `W`, `#`, ranges, lists and steps), and
//! computing when a schedule fires next in its IANA time zone, within its start and end dates.
//!
//! - [`expression`]: [`ScheduleExpression::parse`], whose errors say what is wrong in AWS's
//!   terms.
//! - [`cron`]: the cron fields and which civil minutes they match.
//! - [`timing`]: [`Timing`] — an expression, a time zone, start and end — and
//!   [`Timing::next_after`], the first fire time strictly after an instant; the flexible
//!   window's offset ([`flexible_offset_ms`]).
//!
//! Daylight saving time follows AWS: a cron time that does not exist on the day clocks move
//! forward is skipped, one that happens twice when they move back fires once (the first
//! time); `rate()` counts absolute durations (a day is 24 hours).
//!
//! Invariant: no I/O, no clock, no randomness; instants are milliseconds since the epoch.
//! Not here: storing schedules or firing them (`berth-control::schedules`).

pub mod cron;
pub mod expression;
pub mod timing;

pub use expression::{ExpressionError, ScheduleExpression};
pub use timing::{flexible_offset_ms, parse_timezone, TimezoneError, Timing};

#[cfg(test)]
mod tests;
