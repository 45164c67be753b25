//! How values in the query language are read and ordered: plain decimal numbers, the
//! `registeredAt` date formats ECS documents, and dotted agent versions.
//!
//! Invariant: comparison is numeric only when both sides are plain decimal numbers (so
//! `"inf"` or `"1e5"` stay strings), otherwise by Unicode code points. No time zone database:
//! only `Z` and `±HH:MM` offsets are understood.

use std::cmp::Ordering;

use super::syntax::DateLiteral;

pub(crate) const MILLISECONDS_PER_DAY: i64 = 86_400_000;

/// The number a plain decimal (`-12`, `3.5`) stands for; `None` for anything else.
pub(crate) fn plain_number(text: &str) -> Option<f64> {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    let mut seen_digit = false;
    let mut seen_point = false;
    for character in digits.chars() {
        match character {
            '0'..='9' => seen_digit = true,
            '.' if !seen_point => seen_point = true,
            _ => return None,
        }
    }
    if !seen_digit {
        return None;
    }
    text.parse().ok()
}

/// Orders two values: numerically when both are plain numbers, else as strings.
pub(crate) fn compare_values(left: &str, left_number: Option<f64>, right: &str, right_number: Option<f64>) -> Ordering {
    match (left_number, right_number) {
        (Some(left), Some(right)) => left.partial_cmp(&right).unwrap_or(Ordering::Equal),
        _ => left.cmp(right),
    }
}

/// Orders agent versions segment by segment (`1.10.0 > 1.9.2`) when both are dotted numbers
/// (an optional leading `v` is ignored); otherwise as [`compare_values`] does.
pub(crate) fn compare_versions(left: &str, right: &str) -> Ordering {
    match (dotted_version(left), dotted_version(right)) {
        (Some(left), Some(right)) => left.cmp(&right),
        _ => compare_values(left, plain_number(left), right, plain_number(right)),
    }
}

fn dotted_version(text: &str) -> Option<Vec<u64>> {
    let text = text.strip_prefix('v').unwrap_or(text);
    text.split('.').map(|part| part.parse().ok()).collect()
}

/// Reads the date formats ECS documents for `registeredAt`: `2018-06-18T22:28:28+00:00`,
/// `2018-06-18T22:28:28Z`, `2018-06-18T22:28:28` (taken as UTC) and `2018-06-18`; fractional
/// seconds are accepted too.
pub(crate) fn parse_date(text: &str) -> Option<DateLiteral> {
    let bytes = text.as_bytes();
    let number = |from: usize, length: usize| -> Option<i64> {
        let slice = text.get(from..from + length)?;
        if slice.bytes().all(|byte| byte.is_ascii_digit()) {
            slice.parse().ok()
        } else {
            None
        }
    };
    let year = number(0, 4)?;
    if bytes.get(4) != Some(&b'-') || bytes.get(7) != Some(&b'-') {
        return None;
    }
    let month = number(5, 2)?;
    let day = number(8, 2)?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let midnight = days_from_civil(year, month, day) * MILLISECONDS_PER_DAY;
    if bytes.len() == 10 {
        return Some(DateLiteral { epoch_ms: midnight, day_only: true });
    }
    if !matches!(bytes.get(10), Some(b'T') | Some(b't') | Some(b' ')) {
        return None;
    }
    if bytes.get(13) != Some(&b':') || bytes.get(16) != Some(&b':') {
        return None;
    }
    let (hour, minute, second) = (number(11, 2)?, number(14, 2)?, number(17, 2)?);
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut position = 19;
    let mut millis = 0;
    if bytes.get(position) == Some(&b'.') {
        let fraction_start = position + 1;
        position = fraction_start;
        while bytes.get(position).is_some_and(u8::is_ascii_digit) {
            position += 1;
        }
        if position == fraction_start {
            return None;
        }
        let fraction = &text[fraction_start..position];
        let padded: String = fraction.chars().chain("000".chars()).take(3).collect();
        millis = padded.parse().ok()?;
    }
    let offset_ms = match &text[position..] {
        "" | "Z" | "z" => 0,
        zone => {
            let sign = match zone.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let zone = &zone[1..];
            if zone.len() != 5 || zone.as_bytes()[2] != b':' {
                return None;
            }
            let hours: i64 = zone[0..2].parse().ok()?;
            let minutes: i64 = zone[3..5].parse().ok()?;
            sign * (hours * 60 + minutes) * 60_000
        }
    };
    Some(DateLiteral {
        epoch_ms: midnight + ((hour * 60 + minute) * 60 + second) * 1000 + millis - offset_ms,
        day_only: false,
    })
}

fn is_leap_year(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 in the proleptic Gregorian calendar, counted in 400-year eras
/// (each exactly 146,097 days) with years starting in March so leap days fall last.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_numbers_only() {
        assert_eq!(plain_number("42"), Some(42.0));
        assert_eq!(plain_number("-1.5"), Some(-1.5));
        assert_eq!(plain_number("inf"), None);
        assert_eq!(plain_number("1e5"), None);
        assert_eq!(plain_number("."), None);
        assert_eq!(plain_number("t2.micro"), None);
    }

    #[test]
    fn dates_in_every_documented_format() {
        let expected = 1_529_360_908_000;
        for text in
            ["2018-06-18T22:28:28+00:00", "2018-06-18T22:28:28Z", "2018-06-18T22:28:28", "2018-06-19T00:28:28+02:00"]
        {
            assert_eq!(parse_date(text).map(|date| date.epoch_ms), Some(expected), "{text}");
        }
        let day = parse_date("2018-06-18").unwrap();
        assert!(day.day_only);
        assert_eq!(day.epoch_ms, 1_529_280_000_000);
        assert_eq!(parse_date("1970-01-01").unwrap().epoch_ms, 0);
        assert_eq!(parse_date("2018-06-18T22:28:28.5Z").unwrap().epoch_ms, expected + 500);
        for bad in ["2018-02-30", "2018-6-18", "yesterday", "2018-06-18T25:00:00", "2018-06-18Tx"] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn versions_compare_by_segment() {
        assert_eq!(compare_versions("1.10.0", "1.9.2"), Ordering::Greater);
        assert_eq!(compare_versions("v1.2", "1.2"), Ordering::Equal);
        assert_eq!(compare_versions("1.2.beta", "1.2.alpha"), Ordering::Greater);
    }
}
