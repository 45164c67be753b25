//! When a schedule fires: its expression read in its time zone, bounded by its start and end.

use crate::cron::CronExpression;
use crate::expression::ScheduleExpression;
use jiff::civil::{Date, DateTime};
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::Timestamp;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Invalid ScheduleExpressionTimezone {name}: not an IANA time zone name")]
pub struct TimezoneError {
    pub name: String,
}

/// An IANA time zone by name (`Europe/Paris`, `UTC`).
pub fn parse_timezone(name: &str) -> Result<TimeZone, TimezoneError> {
    TimeZone::get(name).map_err(|_| TimezoneError { name: name.to_string() })
}

/// A schedule's timing. Instants are milliseconds since the epoch.
#[derive(Debug, Clone)]
pub struct Timing {
    pub expression: ScheduleExpression,
    pub timezone: TimeZone,
    /// Recurring schedules fire at or after it; one-time schedules ignore it, as AWS does.
    pub start_ms: Option<i64>,
    /// Recurring schedules fire only before it; one-time schedules ignore it.
    pub end_ms: Option<i64>,
    /// Where `rate()` counts from when there is no start date: when the schedule was created
    /// or last updated (AWS starts invoking at once).
    pub anchor_ms: i64,
}

impl Timing {
    /// The first fire time strictly after `after_ms`, if the schedule fires again at all.
    pub fn next_after(&self, after_ms: i64) -> Option<i64> {
        match &self.expression {
            ScheduleExpression::At(civil) => instant_of(&self.timezone, *civil, true).filter(|at| *at > after_ms),
            ScheduleExpression::Rate { interval_ms } => {
                let base = self.start_ms.unwrap_or(self.anchor_ms);
                let next = if after_ms < base {
                    base
                } else {
                    base.checked_add(((after_ms - base) / interval_ms + 1).checked_mul(*interval_ms)?)?
                };
                self.before_end(next)
            }
            ScheduleExpression::Cron(cron) => {
                let from = (after_ms + 1).max(self.start_ms.unwrap_or(i64::MIN));
                self.before_end(next_cron(cron, &self.timezone, from)?)
            }
        }
    }

    fn before_end(&self, at_ms: i64) -> Option<i64> {
        match self.end_ms {
            Some(end) if at_ms >= end => None,
            _ => Some(at_ms),
        }
    }
}

/// The instant of a civil time in `timezone`: a time that happens twice (clocks moved back)
/// is its first occurrence; one that never happens (clocks moved forward) is none, or — for a
/// one-time schedule, which must still fire — the same time after the jump.
fn instant_of(timezone: &TimeZone, civil: DateTime, shift_gaps: bool) -> Option<i64> {
    let ambiguous = timezone.to_ambiguous_timestamp(civil);
    let timestamp = match ambiguous.offset() {
        AmbiguousOffset::Unambiguous { .. } => ambiguous.compatible(),
        AmbiguousOffset::Fold { .. } => ambiguous.earlier(),
        AmbiguousOffset::Gap { .. } if shift_gaps => ambiguous.compatible(),
        AmbiguousOffset::Gap { .. } => return None,
    };
    timestamp.ok().map(Timestamp::as_millisecond)
}

/// The first minute matching `cron` at or after `from_ms`.
fn next_cron(cron: &CronExpression, timezone: &TimeZone, from_ms: i64) -> Option<i64> {
    let from = Timestamp::from_millisecond(from_ms).ok()?;
    // A day early: around a fold the local date of `from` may be a day ahead of a time that is
    // still to come in absolute terms.
    let mut date = timezone.to_datetime(from).date().yesterday().ok()?;
    let last_year = cron.last_year()?;
    while date.year() <= last_year {
        if !cron.months.contains(date.month() as i32) || !cron.years.contains(date.year() as i32) {
            date = first_of_next_month(date)?;
            continue;
        }
        if cron.matches_date(date) {
            for hour in cron.hours.values() {
                for minute in cron.minutes.values() {
                    let Some(at) = instant_of(timezone, date.at(hour as i8, minute as i8, 0, 0), false) else {
                        continue;
                    };
                    if at >= from_ms {
                        return Some(at);
                    }
                }
            }
        }
        date = date.tomorrow().ok()?;
    }
    None
}

fn first_of_next_month(date: Date) -> Option<Date> {
    date.last_of_month().tomorrow().ok()
}

/// Where in a flexible time window of `window_minutes` a firing lands: a fixed offset for the
/// same `seed` (a schedule and its fire time), spread evenly over the window, so that a
/// restarted server picks the same moment.
pub fn flexible_offset_ms(seed: u64, window_minutes: u32) -> i64 {
    let window_ms = i64::from(window_minutes) * 60_000;
    if window_ms == 0 {
        return 0;
    }
    // splitmix64: a cheap, well-mixed hash of the seed.
    let mut mixed = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    mixed = (mixed ^ (mixed >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    mixed = (mixed ^ (mixed >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    mixed ^= mixed >> 31;
    (mixed % window_ms as u64) as i64
}
