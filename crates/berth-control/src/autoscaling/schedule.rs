//! Scheduled actions' `Schedule` expressions, pure: `at(yyyy-mm-ddThh:mm:ss)` (once),
//! `rate(value unit)` (every so many minutes, hours or days) and
//! `cron(minutes hours day-of-month month day-of-week year)` (AWS's six-field cron: `*`, `?`,
//! lists, ranges, `/` steps, month and weekday names, `L` for the last day of the month or
//! the last given weekday, `#` for the nth weekday; weekdays 1–7 are SUN–SAT; one of the two day
//! fields must be `?`). `at` and `cron` read their times in the action's `Timezone` (UTC
//! unless given), so a daily 09:00 stays 09:00 local across daylight saving changes.

use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::Timestamp;

#[derive(Debug, Clone, PartialEq)]
pub enum Schedule {
    At(DateTime),
    Rate { seconds: i64 },
    Cron(Box<Cron>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Cron {
    minutes: Vec<bool>,
    hours: Vec<bool>,
    day_of_month: DayOfMonth,
    months: Vec<bool>,
    day_of_week: DayOfWeek,
    /// `None`: every year.
    years: Option<Vec<bool>>,
}

#[derive(Debug, Clone, PartialEq)]
enum DayOfMonth {
    /// `?`: the day-of-week field decides.
    Unspecified,
    Days(Vec<bool>),
    Last,
}

#[derive(Debug, Clone, PartialEq)]
enum DayOfWeek {
    Unspecified,
    /// Indexed 1 (Sunday) to 7 (Saturday).
    Days(Vec<bool>),
    /// `6L`: the last Friday of the month.
    Last(i8),
    /// `2#1`: the first Monday of the month.
    Nth(i8, i8),
}

const FIRST_YEAR: i16 = 1970;
const LAST_YEAR: i16 = 2199;
const MONTHS: [&str; 12] = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const WEEKDAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/// The time zone an action's times are read in; `None` is UTC.
pub fn time_zone(name: Option<&str>) -> Result<TimeZone, String> {
    match name {
        None => Ok(TimeZone::UTC),
        Some(name) => TimeZone::get(name).map_err(|_| format!("Timezone {name} is not a valid IANA time zone name.")),
    }
}

impl Schedule {
    pub fn parse(text: &str) -> Result<Schedule, String> {
        let text = text.trim();
        let inner = |prefix: &str| text.strip_prefix(prefix).and_then(|rest| rest.strip_suffix(')'));
        if let Some(at) = inner("at(") {
            let parsed: DateTime =
                at.parse().map_err(|_| format!("at({at}) is not a time of the form at(yyyy-mm-ddThh:mm:ss)."))?;
            return Ok(Schedule::At(parsed));
        }
        if let Some(rate) = inner("rate(") {
            return parse_rate(rate);
        }
        if let Some(cron) = inner("cron(") {
            return Ok(Schedule::Cron(Box::new(parse_cron(cron)?)));
        }
        Err(format!("Schedule {text:?} is not of the form at(...), rate(...) or cron(...)."))
    }

    /// When an action with this schedule runs next after `after_ms` (exclusive). `anchor_ms`
    /// is where a rate counts from (the start time, else the action's creation); nothing runs
    /// before `start_ms` or after `end_ms` (an `at` ignores both).
    pub fn next_run(
        &self,
        zone: &TimeZone,
        after_ms: i64,
        anchor_ms: i64,
        start_ms: Option<i64>,
        end_ms: Option<i64>,
    ) -> Option<i64> {
        let next = match self {
            Schedule::At(at) => {
                let at = zone.to_timestamp(*at).ok()?.as_millisecond();
                return (at > after_ms).then_some(at);
            }
            Schedule::Rate { seconds } => {
                let step = seconds * 1000;
                let mut next = match start_ms {
                    Some(start) => start,
                    None => anchor_ms + step,
                };
                if next <= after_ms {
                    next += ((after_ms - next) / step + 1) * step;
                }
                next
            }
            Schedule::Cron(cron) => {
                let from = match start_ms {
                    Some(start) if start - 1 > after_ms => start - 1,
                    _ => after_ms,
                };
                cron.next_after(zone, from)?
            }
        };
        match end_ms {
            Some(end) if next > end => None,
            _ => Some(next),
        }
    }
}

fn parse_rate(text: &str) -> Result<Schedule, String> {
    let malformed = || format!("rate({text}) is not of the form rate(value unit), unit minute(s), hour(s) or day(s).");
    let mut parts = text.split_whitespace();
    let (Some(value), Some(unit), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(malformed());
    };
    let value: i64 = value.parse().map_err(|_| malformed())?;
    if value < 1 {
        return Err(format!("rate({text}): the value must be a positive integer."));
    }
    let unit_seconds = match unit {
        "minute" | "minutes" => 60,
        "hour" | "hours" => 3600,
        "day" | "days" => 86_400,
        _ => return Err(malformed()),
    };
    Ok(Schedule::Rate { seconds: value * unit_seconds })
}

/// One number or name of a field.
fn value(text: &str, names: &[&str], first_named: i64) -> Option<i64> {
    text.parse().ok().or_else(|| {
        let upper = text.to_ascii_uppercase();
        names.iter().position(|name| *name == upper).map(|index| index as i64 + first_named)
    })
}

/// A field of lists, ranges and steps as the set of values in `low..=high` it allows.
fn set(field: &str, text: &str, low: i64, high: i64, names: &[&str], first_named: i64) -> Result<Vec<bool>, String> {
    let bad = |why: &str| format!("cron field {field} ({text}) {why}.");
    let mut allowed = vec![false; (high + 1) as usize];
    for part in text.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((range, step)) => {
                let step: i64 = step.parse().map_err(|_| bad("has a step that is not a number"))?;
                if step < 1 {
                    return Err(bad("has a step below 1"));
                }
                (range, step)
            }
            None => (part, 1),
        };
        let (from, to) = if range == "*" {
            (low, high)
        } else if let Some((from, to)) = range.split_once('-') {
            let from = value(from, names, first_named).ok_or_else(|| bad("has a value out of range"))?;
            let to = value(to, names, first_named).ok_or_else(|| bad("has a value out of range"))?;
            (from, to)
        } else {
            let single = value(range, names, first_named).ok_or_else(|| bad("has a value out of range"))?;
            // `5/15` runs from 5 to the end in steps of 15.
            (single, if step > 1 { high } else { single })
        };
        if from < low || to > high || from > to {
            return Err(bad(&format!("must lie within {low}-{high}")));
        }
        let mut at = from;
        while at <= to {
            allowed[at as usize] = true;
            at += step;
        }
    }
    Ok(allowed)
}

fn weekday(text: &str) -> Result<i8, String> {
    value(text, &WEEKDAYS, 1)
        .filter(|day| (1..=7).contains(day))
        .map(|day| day as i8)
        .ok_or_else(|| format!("cron field day-of-week ({text}) must be 1-7 or SUN-SAT."))
}

fn parse_cron(text: &str) -> Result<Cron, String> {
    let fields: Vec<&str> = text.split_whitespace().collect();
    let [minutes, hours, day_of_month, months, day_of_week, years] = fields[..] else {
        return Err(format!("cron({text}) must have six fields: minutes hours day-of-month month day-of-week year."));
    };
    let day_of_month = match day_of_month {
        "?" => DayOfMonth::Unspecified,
        "L" => DayOfMonth::Last,
        other if other.contains('W') => {
            return Err(format!("cron field day-of-month ({other}): W (nearest weekday) is not supported by Berth."))
        }
        other => DayOfMonth::Days(set("day-of-month", other, 1, 31, &[], 1)?),
    };
    let day_of_week = match day_of_week {
        "?" => DayOfWeek::Unspecified,
        other if other.ends_with('L') && other.len() > 1 => DayOfWeek::Last(weekday(&other[..other.len() - 1])?),
        "L" => DayOfWeek::Last(7),
        other if other.contains('#') => {
            let (day, nth) = other.split_once('#').unwrap_or_default();
            let nth: i8 = nth
                .parse()
                .ok()
                .filter(|nth| (1..=5).contains(nth))
                .ok_or_else(|| format!("cron field day-of-week ({other}): the number after # must be 1-5."))?;
            DayOfWeek::Nth(weekday(day)?, nth)
        }
        other => {
            let days = set("day-of-week", other, 1, 7, &WEEKDAYS, 1)?;
            DayOfWeek::Days(days)
        }
    };
    if (day_of_month == DayOfMonth::Unspecified) == (day_of_week == DayOfWeek::Unspecified) {
        return Err(format!("cron({text}): exactly one of day-of-month and day-of-week must be ?."));
    }
    Ok(Cron {
        minutes: set("minutes", minutes, 0, 59, &[], 0)?,
        hours: set("hours", hours, 0, 23, &[], 0)?,
        day_of_month,
        months: set("month", months, 1, 12, &MONTHS, 1)?,
        day_of_week,
        years: if years == "*" {
            None
        } else {
            Some(set("year", years, i64::from(FIRST_YEAR), i64::from(LAST_YEAR), &[], 0)?)
        },
    })
}

impl Cron {
    fn day_matches(&self, date: Date) -> bool {
        if let Some(years) = &self.years {
            if !years.get(date.year() as usize).copied().unwrap_or(false) {
                return false;
            }
        }
        if !self.months[date.month() as usize] {
            return false;
        }
        let weekday = date.weekday().to_sunday_one_offset();
        match (&self.day_of_month, &self.day_of_week) {
            (DayOfMonth::Days(days), _) => days[date.day() as usize],
            (DayOfMonth::Last, _) => date.day() == date.days_in_month(),
            (_, DayOfWeek::Days(days)) => days[weekday as usize],
            (_, DayOfWeek::Last(day)) => weekday == *day && date.day() + 7 > date.days_in_month(),
            (_, DayOfWeek::Nth(day, nth)) => weekday == *day && (date.day() - 1) / 7 + 1 == *nth,
            (DayOfMonth::Unspecified, DayOfWeek::Unspecified) => false,
        }
    }

    /// The first minute after `after_ms` that matches, in `zone`; none within five years.
    fn next_after(&self, zone: &TimeZone, after_ms: i64) -> Option<i64> {
        let after = Timestamp::from_millisecond(after_ms).ok()?;
        let local = zone.to_datetime(after);
        let mut date = local.date();
        for _ in 0..(366 * 5) {
            if self.day_matches(date) {
                for hour in (0..24).filter(|hour| self.hours[*hour as usize]) {
                    for minute in (0..60).filter(|minute| self.minutes[*minute as usize]) {
                        let candidate = date.at(hour, minute, 0, 0);
                        let Ok(at) = zone.to_timestamp(candidate) else { continue };
                        if at.as_millisecond() > after_ms {
                            return Some(at.as_millisecond());
                        }
                    }
                }
            }
            date = date.tomorrow().ok()?;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(text: &str) -> i64 {
        text.parse::<Timestamp>().unwrap().as_millisecond()
    }

    fn next(schedule: &str, zone: Option<&str>, after: &str) -> Option<i64> {
        Schedule::parse(schedule).unwrap().next_run(&time_zone(zone).unwrap(), ms(after), ms(after), None, None)
    }

    #[test]
    fn at_runs_once_in_its_time_zone() {
        assert_eq!(next("at(2027-01-15T10:30:00)", None, "2027-01-01T00:00:00Z"), Some(ms("2027-01-15T10:30:00Z")));
        assert_eq!(
            next("at(2027-01-15T10:30:00)", Some("America/New_York"), "2027-01-01T00:00:00Z"),
            Some(ms("2027-01-15T15:30:00Z"))
        );
        assert_eq!(next("at(2027-01-15T10:30:00)", None, "2027-02-01T00:00:00Z"), None, "past times never run");
        assert!(Schedule::parse("at(tomorrow)").unwrap_err().contains("yyyy-mm-dd"));
    }

    #[test]
    fn rate_counts_from_its_anchor_or_start() {
        let rate = Schedule::parse("rate(5 minutes)").unwrap();
        let zone = TimeZone::UTC;
        let created = ms("2027-01-01T00:00:00Z");
        assert_eq!(rate.next_run(&zone, created, created, None, None), Some(created + 300_000));
        assert_eq!(rate.next_run(&zone, created + 301_000, created, None, None), Some(created + 600_000));
        let start = created + 3_600_000;
        assert_eq!(rate.next_run(&zone, created, created, Some(start), None), Some(start));
        assert_eq!(rate.next_run(&zone, created, created, None, Some(created + 100_000)), None, "past the end");
        assert_eq!(Schedule::parse("rate(1 day)").unwrap(), Schedule::Rate { seconds: 86_400 });
        assert!(Schedule::parse("rate(0 minutes)").is_err());
        assert!(Schedule::parse("rate(5 weeks)").is_err());
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
        // Every 15 minutes from 08:00 to 17:59 on weekdays.
        let business = "cron(0/15 8-17 ? * MON-FRI *)";
        // 2027-01-09 is a Saturday.
        assert_eq!(next(business, None, "2027-01-09T12:00:00Z"), Some(ms("2027-01-11T08:00:00Z")));
        assert_eq!(next(business, None, "2027-01-11T08:00:00Z"), Some(ms("2027-01-11T08:15:00Z")));
        assert_eq!(next("cron(30 2 1,15 JAN,JUL ? *)", None, "2027-01-02T00:00:00Z"), Some(ms("2027-01-15T02:30:00Z")));
        assert_eq!(next("cron(0 0 L * ? *)", None, "2027-02-01T00:00:00Z"), Some(ms("2027-02-28T00:00:00Z")));
        assert_eq!(next("cron(0 0 ? * 6L *)", None, "2027-01-01T00:00:00Z"), Some(ms("2027-01-29T00:00:00Z")));
        assert_eq!(next("cron(0 0 ? * 2#1 *)", None, "2027-01-05T00:00:00Z"), Some(ms("2027-02-01T00:00:00Z")));
        assert_eq!(next("cron(0 0 1 1 ? 2030)", None, "2027-01-01T00:00:00Z"), Some(ms("2030-01-01T00:00:00Z")));
    }

    #[test]
    fn malformed_cron_names_what_is_wrong() {
        assert!(Schedule::parse("cron(0 9 * *)").unwrap_err().contains("six fields"));
        assert!(Schedule::parse("cron(0 9 * * * *)").unwrap_err().contains("exactly one"));
        assert!(Schedule::parse("cron(61 9 * * ? *)").unwrap_err().contains("minutes"));
        assert!(Schedule::parse("cron(0 9 ? * FUNDAY *)").unwrap_err().contains("day-of-week"));
        assert!(Schedule::parse("every day").unwrap_err().contains("at(...)"));
        assert!(time_zone(Some("Mars/Olympus")).unwrap_err().contains("Mars/Olympus"));
    }
}
