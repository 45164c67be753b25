//! AWS's cron: six fields, `minutes hours day-of-month month day-of-week year`.
//!
//! | field | values | wildcards |
//! |---|---|---|
//! | minutes | 0-59 | `, - * /` |
//! | hours | 0-23 | `, - * /` |
//! | day-of-month | 1-31 | `, - * ? / L W` |
//! | month | 1-12 or JAN-DEC | `, - * /` |
//! | day-of-week | 1-7 or SUN-SAT (1 is Sunday) | `, - * ? L #` |
//! | year | 1970-2199 | `, - * /` |
//!
//! One of day-of-month and day-of-week must be `?` (they cannot both be given). `L` alone in
//! day-of-month is the month's last day, `LW` its last weekday, `15W` the weekday nearest the
//! 15th within the month; `6L` in day-of-week is the month's last Friday, `3#2` its second
//! Tuesday, `L` alone Saturday.

use jiff::civil::Date;

const FIRST_YEAR: i16 = 1970;
const LAST_YEAR: i16 = 2199;
const MONTHS: [&str; 12] = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const WEEKDAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/// Which values of a numeric field match, as a bit per value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueSet {
    bits: Vec<bool>,
    first: i32,
}

impl ValueSet {
    pub fn contains(&self, value: i32) -> bool {
        usize::try_from(value - self.first).ok().and_then(|index| self.bits.get(index)).copied().unwrap_or(false)
    }

    pub fn values(&self) -> impl Iterator<Item = i32> + '_ {
        self.bits.iter().enumerate().filter(|(_, on)| **on).map(|(index, _)| self.first + index as i32)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DayOfMonth {
    /// `?`: the day-of-week field decides.
    Unspecified,
    Days(ValueSet),
    /// `L`
    Last,
    /// `LW`
    LastWeekday,
    /// `nW`: the weekday (Monday to Friday) nearest day n, never leaving the month.
    NearestWeekday(i8),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DayOfWeek {
    /// `?`: the day-of-month field decides.
    Unspecified,
    /// Days 1 (Sunday) to 7 (Saturday).
    Days(ValueSet),
    /// `nL`: the last such weekday of the month.
    LastOfMonth(i8),
    /// `n#k`: the k-th such weekday of the month.
    Nth { weekday: i8, nth: i8 },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronExpression {
    pub minutes: ValueSet,
    pub hours: ValueSet,
    pub day_of_month: DayOfMonth,
    pub months: ValueSet,
    pub day_of_week: DayOfWeek,
    pub years: ValueSet,
}

impl CronExpression {
    /// Parses the text between `cron(` and `)`.
    pub fn parse(body: &str) -> Result<CronExpression, String> {
        let fields: Vec<&str> = body.split(' ').filter(|field| !field.is_empty()).collect();
        let [minutes, hours, day_of_month, month, day_of_week, year] = fields[..] else {
            return Err(format!(
                "a cron() expression has six fields (minutes hours day-of-month month day-of-week year), not {}",
                fields.len()
            ));
        };
        let expression = CronExpression {
            minutes: value_set(minutes, "minutes", 0, 59, &[])?,
            hours: value_set(hours, "hours", 0, 23, &[])?,
            day_of_month: parse_day_of_month(day_of_month)?,
            months: value_set(month, "month", 1, 12, &MONTHS)?,
            day_of_week: parse_day_of_week(day_of_week)?,
            years: value_set(year, "year", FIRST_YEAR as i32, LAST_YEAR as i32, &[])?,
        };
        match (&expression.day_of_month, &expression.day_of_week) {
            (DayOfMonth::Unspecified, DayOfWeek::Unspecified) => {
                Err("one of day-of-month and day-of-week must be given; only the other may be ?".into())
            }
            (DayOfMonth::Unspecified, _) | (_, DayOfWeek::Unspecified) => Ok(expression),
            _ => Err("day-of-month and day-of-week cannot both be given: one of them must be ?".into()),
        }
    }

    /// Whether the schedule fires on this day (any hour and minute of it may still not match).
    pub fn matches_date(&self, date: Date) -> bool {
        if !self.years.contains(date.year() as i32) || !self.months.contains(date.month() as i32) {
            return false;
        }
        let day = date.day();
        let last = date.days_in_month();
        let weekday = date.weekday().to_sunday_one_offset();
        let by_month = match &self.day_of_month {
            DayOfMonth::Unspecified => true,
            DayOfMonth::Days(days) => days.contains(day as i32),
            DayOfMonth::Last => day == last,
            DayOfMonth::LastWeekday => day == nearest_weekday(date, last),
            DayOfMonth::NearestWeekday(target) => *target <= last && day == nearest_weekday(date, *target),
        };
        let by_week = match &self.day_of_week {
            DayOfWeek::Unspecified => true,
            DayOfWeek::Days(days) => days.contains(weekday as i32),
            DayOfWeek::LastOfMonth(target) => weekday == *target && day + 7 > last,
            DayOfWeek::Nth { weekday: target, nth } => weekday == *target && (day - 1) / 7 + 1 == *nth,
        };
        by_month && by_week
    }

    /// The last year any date can match, so a search knows when to stop.
    pub fn last_year(&self) -> Option<i16> {
        self.years.values().last().map(|year| year as i16)
    }
}

/// The day of `date`'s month that is the weekday nearest `target` without leaving the month.
fn nearest_weekday(date: Date, target: i8) -> i8 {
    let last = date.days_in_month();
    let Ok(day) = date.with().day(target).build() else { return -1 };
    match day.weekday().to_sunday_one_offset() {
        // Saturday: Friday before, unless that leaves the month (the 1st), then Monday after.
        7 if target == 1 => target + 2,
        7 => target - 1,
        // Sunday: Monday after, unless that leaves the month, then Friday before.
        1 if target == last => target - 2,
        1 => target + 1,
        _ => target,
    }
}

fn parse_day_of_month(field: &str) -> Result<DayOfMonth, String> {
    match field {
        "?" => Ok(DayOfMonth::Unspecified),
        "L" => Ok(DayOfMonth::Last),
        "LW" => Ok(DayOfMonth::LastWeekday),
        _ => match field.strip_suffix('W') {
            Some(day) => match day.parse::<i8>() {
                Ok(day) if (1..=31).contains(&day) => Ok(DayOfMonth::NearestWeekday(day)),
                _ => Err(format!("day-of-month {field}: W follows a day from 1 to 31")),
            },
            None => value_set(field, "day-of-month", 1, 31, &[]).map(DayOfMonth::Days),
        },
    }
}

fn parse_day_of_week(field: &str) -> Result<DayOfWeek, String> {
    let weekday = |text: &str| -> Result<i8, String> {
        single_value(text, 1, 7, &WEEKDAYS)
            .map(|value| value as i8)
            .ok_or_else(|| format!("day-of-week {field}: {text} is not a day from 1 to 7 or SUN to SAT"))
    };
    if field == "?" {
        return Ok(DayOfWeek::Unspecified);
    }
    if field == "L" {
        return Ok(DayOfWeek::LastOfMonth(7));
    }
    if let Some(day) = field.strip_suffix('L') {
        return Ok(DayOfWeek::LastOfMonth(weekday(day)?));
    }
    if let Some((day, nth)) = field.split_once('#') {
        let nth = nth
            .parse::<i8>()
            .ok()
            .filter(|nth| (1..=5).contains(nth))
            .ok_or_else(|| format!("day-of-week {field}: the number after # is from 1 to 5"))?;
        return Ok(DayOfWeek::Nth { weekday: weekday(day)?, nth });
    }
    value_set(field, "day-of-week", 1, 7, &WEEKDAYS).map(DayOfWeek::Days)
}

/// A number, or a name of `names` (whose first is `min`).
fn single_value(text: &str, min: i32, max: i32, names: &[&str]) -> Option<i32> {
    if let Some(index) = names.iter().position(|name| name.eq_ignore_ascii_case(text)) {
        return Some(min + index as i32);
    }
    if text.is_empty() || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    text.parse::<i32>().ok().filter(|value| (min..=max).contains(value))
}

/// A field of lists, ranges, steps and `*`.
fn value_set(field: &str, name: &str, min: i32, max: i32, names: &[&str]) -> Result<ValueSet, String> {
    let mut bits = vec![false; (max - min + 1) as usize];
    let bad = |part: &str, why: &str| format!("{name} {field}: {part} {why} (values {min}-{max})");
    for part in field.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((range, step)) => {
                let step = step
                    .parse::<i32>()
                    .ok()
                    .filter(|step| *step > 0)
                    .ok_or_else(|| bad(part, "has a step that is not a positive number"))?;
                (range, step)
            }
            None => (part, 1),
        };
        let (start, end) = if range == "*" {
            (min, max)
        } else if let Some((low, high)) = range.split_once('-') {
            let low = single_value(low, min, max, names).ok_or_else(|| bad(part, "is out of range"))?;
            let high = single_value(high, min, max, names).ok_or_else(|| bad(part, "is out of range"))?;
            if low > high {
                return Err(bad(part, "is a range whose start is after its end"));
            }
            (low, high)
        } else {
            let value = single_value(range, min, max, names).ok_or_else(|| bad(part, "is not a valid value"))?;
            // `5/15`: from 5 to the end in steps of 15.
            (value, if step > 1 { max } else { value })
        };
        let mut value = start;
        while value <= end {
            bits[(value - min) as usize] = true;
            value += step;
        }
    }
    Ok(ValueSet { bits, first: min })
}
