//! Scheduled actions' `Schedule` expressions — `at(…)`, `rate(…)` and AWS's six-field
//! `cron(…)` — parsed and timed by `berth-schedule-expressions`, the same expressions
//! EventBridge Scheduler takes. `at` and `cron` read their times in the action's `Timezone`
//! (UTC unless given), so a daily 09:00 stays 09:00 local across daylight saving changes.
//!
//! One difference from a Scheduler schedule: a scheduled action's `rate()` without a start
//! time first runs one interval after the action was created, not at once.

use berth_schedule_expressions::{parse_timezone, ScheduleExpression, Timing};
use jiff::tz::TimeZone;

pub type Schedule = ScheduleExpression;

pub fn parse(text: &str) -> Result<Schedule, String> {
    ScheduleExpression::parse(text.trim()).map_err(|error| error.to_string())
}

/// The time zone an action's times are read in; `None` is UTC.
pub fn time_zone(name: Option<&str>) -> Result<TimeZone, String> {
    match name {
        None => Ok(TimeZone::UTC),
        Some(name) => parse_timezone(name).map_err(|_| format!("Timezone {name} is not a valid IANA time zone name.")),
    }
}

/// When an action with `schedule` runs next after `after_ms` (exclusive). `created_ms` is
/// where a rate counts from when there is no start time; nothing runs before `start_ms` or
/// from `end_ms` on (an `at` ignores both).
pub fn next_run(
    schedule: &Schedule,
    timezone: &TimeZone,
    after_ms: i64,
    created_ms: i64,
    start_ms: Option<i64>,
    end_ms: Option<i64>,
) -> Option<i64> {
    let anchor_ms = match schedule {
        ScheduleExpression::Rate { interval_ms } => created_ms + interval_ms,
        _ => created_ms,
    };
    Timing { expression: schedule.clone(), timezone: timezone.clone(), start_ms, end_ms, anchor_ms }
        .next_after(after_ms)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::Timestamp;

    fn ms(text: &str) -> i64 {
        text.parse::<Timestamp>().unwrap().as_millisecond()
    }

    fn next(schedule: &str, zone: Option<&str>, after: &str) -> Option<i64> {
        next_run(&parse(schedule).unwrap(), &time_zone(zone).unwrap(), ms(after), ms(after), None, None)
    }

    #[test]
    fn at_runs_once_in_its_time_zone() {
        assert_eq!(next("at(2027-01-15T10:30:00)", None, "2027-01-01T00:00:00Z"), Some(ms("2027-01-15T10:30:00Z")));
        assert_eq!(
            next("at(2027-01-15T10:30:00)", Some("America/New_York"), "2027-01-01T00:00:00Z"),
            Some(ms("2027-01-15T15:30:00Z"))
        );
        assert_eq!(next("at(2027-01-15T10:30:00)", None, "2027-02-01T00:00:00Z"), None, "past times never run");
        assert!(parse("at(tomorrow)").is_err());
    }

    #[test]
    fn rate_counts_from_one_interval_after_creation_or_from_the_start() {
        let rate = parse("rate(5 minutes)").unwrap();
        let zone = TimeZone::UTC;
        let created = ms("2027-01-01T00:00:00Z");
        assert_eq!(next_run(&rate, &zone, created, created, None, None), Some(created + 300_000));
        assert_eq!(next_run(&rate, &zone, created + 301_000, created, None, None), Some(created + 600_000));
        let start = created + 3_600_000;
        assert_eq!(next_run(&rate, &zone, created, created, Some(start), None), Some(start));
        assert_eq!(next_run(&rate, &zone, created, created, None, Some(created + 100_000)), None, "past the end");
        assert!(parse("rate(0 minutes)").is_err());
        assert!(parse("rate(5 weeks)").is_err());
    }

    #[test]
    fn cron_follows_local_time_across_daylight_saving() {
        // 09:00 every day in New York: 14:00 UTC in winter, 13:00 UTC in summer.
        let daily = "cron(0 9 * * ? *)";
        assert_eq!(next(daily, Some("America/New_York"), "2027-01-10T20:00:00Z"), Some(ms("2027-01-11T14:00:00Z")));
        assert_eq!(next(daily, Some("America/New_York"), "2027-07-10T20:00:00Z"), Some(ms("2027-07-11T13:00:00Z")));
        assert_eq!(next(daily, None, "2027-07-10T09:00:00Z"), Some(ms("2027-07-11T09:00:00Z")), "strictly after");
    }

    #[test]
    fn cron_fields_lists_ranges_steps_and_names() {
        // Every 15 minutes from 08:00 to 17:59 on weekdays; 2027-01-09 is a Saturday.
        let business = "cron(0/15 8-17 ? * MON-FRI *)";
        assert_eq!(next(business, None, "2027-01-09T12:00:00Z"), Some(ms("2027-01-11T08:00:00Z")));
        assert_eq!(next(business, None, "2027-01-11T08:00:00Z"), Some(ms("2027-01-11T08:15:00Z")));
        assert_eq!(next("cron(30 2 1,15 JAN,JUL ? *)", None, "2027-01-02T00:00:00Z"), Some(ms("2027-01-15T02:30:00Z")));
        assert_eq!(next("cron(0 0 L * ? *)", None, "2027-02-01T00:00:00Z"), Some(ms("2027-02-28T00:00:00Z")));
        assert_eq!(next("cron(0 0 ? * 6L *)", None, "2027-01-01T00:00:00Z"), Some(ms("2027-01-29T00:00:00Z")));
        assert_eq!(next("cron(0 0 ? * 2#1 *)", None, "2027-01-05T00:00:00Z"), Some(ms("2027-02-01T00:00:00Z")));
        assert_eq!(next("cron(0 0 1 1 ? 2030)", None, "2027-01-01T00:00:00Z"), Some(ms("2030-01-01T00:00:00Z")));
    }

    #[test]
    fn malformed_expressions_and_zones_are_refused() {
        for bad in ["cron(0 9 * *)", "cron(0 9 * * * *)", "cron(61 9 * * ? *)", "cron(0 9 ? * FUNDAY *)", "every day"] {
            assert!(parse(bad).unwrap_err().starts_with("Invalid Schedule Expression"), "{bad}");
        }
        assert!(time_zone(Some("Mars/Olympus")).unwrap_err().contains("Mars/Olympus"));
    }
}
