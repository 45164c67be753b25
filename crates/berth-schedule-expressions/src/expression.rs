//! Parsing a `ScheduleExpression`: `at(yyyy-mm-ddThh:mm:ss)`, `rate(value unit)` or
//! `cron(minutes hours day-of-month month day-of-week year)`.

use crate::cron::CronExpression;
use jiff::civil::DateTime;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScheduleExpression {
    /// One time, at this civil time in the schedule's time zone.
    At(DateTime),
    /// Every `interval_ms`, counted from the schedule's start.
    Rate {
        interval_ms: i64,
    },
    Cron(Box<CronExpression>),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Invalid Schedule Expression {expression}: {reason}")]
pub struct ExpressionError {
    pub expression: String,
    pub reason: String,
}

impl ExpressionError {
    pub(crate) fn new(expression: &str, reason: impl Into<String>) -> Self {
        ExpressionError { expression: expression.to_string(), reason: reason.into() }
    }
}

impl ScheduleExpression {
    pub fn parse(text: &str) -> Result<ScheduleExpression, ExpressionError> {
        let error = |reason: &str| ExpressionError::new(text, reason);
        let inner = |prefix: &str| text.strip_prefix(prefix).and_then(|rest| rest.strip_suffix(')'));
        if let Some(body) = inner("at(") {
            return parse_at(body)
                .map(ScheduleExpression::At)
                .ok_or_else(|| error("an at() expression is at(yyyy-mm-ddThh:mm:ss), a valid date and time"));
        }
        if let Some(body) = inner("rate(") {
            return parse_rate(body)
                .map(|interval_ms| ScheduleExpression::Rate { interval_ms })
                .map_err(|reason| error(&reason));
        }
        if let Some(body) = inner("cron(") {
            return CronExpression::parse(body)
                .map(|cron| ScheduleExpression::Cron(Box::new(cron)))
                .map_err(|reason| error(&reason));
        }
        Err(error("the expression must be at(...), rate(...) or cron(...)"))
    }

    pub fn is_one_time(&self) -> bool {
        matches!(self, ScheduleExpression::At(_))
    }
}

fn parse_at(body: &str) -> Option<DateTime> {
    // Exactly yyyy-mm-ddThh:mm:ss: no offset, no fraction (the time zone is the schedule's).
    let bytes = body.as_bytes();
    let shape = bytes.len() == 19
        && bytes.iter().enumerate().all(|(index, byte)| match index {
            4 | 7 => *byte == b'-',
            10 => *byte == b'T',
            13 | 16 => *byte == b':',
            _ => byte.is_ascii_digit(),
        });
    if !shape {
        return None;
    }
    let number = |range: std::ops::Range<usize>| body[range].parse::<i16>().ok();
    let date = jiff::civil::Date::new(number(0..4)?, number(5..7)? as i8, number(8..10)? as i8).ok()?;
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    Some(date.at(hour as i8, minute as i8, second as i8, 0))
}

fn parse_rate(body: &str) -> Result<i64, String> {
    let mut words = body.split(' ');
    let (Some(value), Some(unit), None) = (words.next(), words.next(), words.next()) else {
        return Err("a rate() expression is rate(value unit), e.g. rate(5 minutes)".into());
    };
    let value: i64 = value
        .parse()
        .ok()
        .filter(|value| *value > 0)
        .ok_or_else(|| format!("the rate value {value} is not a positive whole number"))?;
    let unit_ms = match unit {
        "minute" | "minutes" => 60_000,
        "hour" | "hours" => 3_600_000,
        "day" | "days" => 86_400_000,
        other => return Err(format!("the rate unit {other} is not minute(s), hour(s) or day(s)")),
    };
    // AWS: a value of 1 takes the singular unit, any other value the plural.
    let plural = unit.ends_with('s');
    if (value == 1) == plural {
        return Err(if value == 1 {
            format!("a rate of 1 takes the singular unit ({})", unit.trim_end_matches('s'))
        } else {
            format!("a rate of {value} takes the plural unit ({unit}s)")
        });
    }
    value
        .checked_mul(unit_ms)
        .filter(|interval| *interval <= 3_650 * 86_400_000)
        .ok_or_else(|| "the rate is too long".into())
}
