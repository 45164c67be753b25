use crate::{flexible_offset_ms, parse_timezone, ScheduleExpression, Timing};
use jiff::Timestamp;

fn ms(text: &str) -> i64 {
    text.parse::<Timestamp>().unwrap().as_millisecond()
}

fn iso(millis: i64) -> String {
    Timestamp::from_millisecond(millis).unwrap().to_string()
}

fn timing(expression: &str, timezone: &str) -> Timing {
    Timing {
        expression: ScheduleExpression::parse(expression).unwrap(),
        timezone: parse_timezone(timezone).unwrap(),
        start_ms: None,
        end_ms: None,
        anchor_ms: ms("2026-01-01T00:00:00Z"),
    }
}

/// The next `count` fire times after `after`, as UTC text.
fn firings(timing: &Timing, after: &str, count: usize) -> Vec<String> {
    let mut at = ms(after);
    let mut out = Vec::new();
    while out.len() < count {
        let Some(next) = timing.next_after(at) else { break };
        out.push(iso(next));
        at = next;
    }
    out
}

#[test]
fn rate_counts_from_the_anchor_or_start_and_stops_at_the_end() {
    let mut every_five = timing("rate(5 minutes)", "UTC");
    // No start date: the first firing is at once (the anchor), then every five minutes.
    assert_eq!(
        firings(&every_five, "2025-12-31T23:00:00Z", 3),
        ["2026-01-01T00:00:00Z", "2026-01-01T00:05:00Z", "2026-01-01T00:10:00Z"]
    );
    assert_eq!(firings(&every_five, "2026-01-01T00:05:00Z", 1), ["2026-01-01T00:10:00Z"]);
    every_five.start_ms = Some(ms("2026-03-01T12:02:00Z"));
    every_five.end_ms = Some(ms("2026-03-01T12:12:00Z"));
    assert_eq!(
        firings(&every_five, "2026-01-01T00:00:00Z", 5),
        ["2026-03-01T12:02:00Z", "2026-03-01T12:07:00Z"],
        "the end date is exclusive"
    );
}

#[test]
fn rate_days_are_24_hours_across_a_dst_change() {
    let mut daily = timing("rate(1 day)", "America/New_York");
    daily.start_ms = Some(ms("2026-03-07T12:00:00Z"));
    assert_eq!(firings(&daily, "2026-03-07T00:00:00Z", 2), ["2026-03-07T12:00:00Z", "2026-03-08T12:00:00Z"]);
}

#[test]
fn rate_units_must_agree_with_the_value() {
    assert!(ScheduleExpression::parse("rate(1 minute)").is_ok());
    assert!(ScheduleExpression::parse("rate(2 hours)").is_ok());
    for bad in ["rate(1 minutes)", "rate(2 hour)", "rate(0 minutes)", "rate(5 weeks)", "rate(5)", "rate(-1 days)"] {
        assert!(ScheduleExpression::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn at_fires_once_in_its_time_zone_and_ignores_start_and_end() {
    let mut once = timing("at(2026-07-04T09:30:00)", "Europe/Paris");
    once.start_ms = Some(ms("2027-01-01T00:00:00Z"));
    once.end_ms = Some(ms("2020-01-01T00:00:00Z"));
    assert_eq!(firings(&once, "2026-01-01T00:00:00Z", 3), ["2026-07-04T07:30:00Z"]);
    assert_eq!(once.next_after(ms("2026-07-04T07:30:00Z")), None);
    for bad in
        ["at(2026-02-30T00:00:00)", "at(2026-01-01 00:00:00)", "at(2026-01-01T24:00:00)", "at(2026-01-01T00:00:00Z)"]
    {
        assert!(ScheduleExpression::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn cron_lists_ranges_steps_and_names() {
    let weekdays = timing("cron(0/20 9-10 ? JAN-MAR MON-FRI 2026)", "UTC");
    assert_eq!(
        firings(&weekdays, "2026-01-02T10:30:00Z", 4),
        ["2026-01-02T10:40:00Z", "2026-01-05T09:00:00Z", "2026-01-05T09:20:00Z", "2026-01-05T09:40:00Z"]
    );
    let year_end = timing("cron(59 23 31 12 ? 2026)", "UTC");
    assert_eq!(firings(&year_end, "2026-06-01T00:00:00Z", 2), ["2026-12-31T23:59:00Z"]);
    let lists = timing("cron(5,35 8 1,15 * ? *)", "UTC");
    assert_eq!(
        firings(&lists, "2026-02-01T08:10:00Z", 3),
        ["2026-02-01T08:35:00Z", "2026-02-15T08:05:00Z", "2026-02-15T08:35:00Z"]
    );
}

#[test]
fn cron_last_nearest_weekday_and_nth() {
    // L: the last day of each month (February 2026 has 28 days).
    let last = timing("cron(0 12 L * ? *)", "UTC");
    assert_eq!(firings(&last, "2026-01-31T13:00:00Z", 2), ["2026-02-28T12:00:00Z", "2026-03-31T12:00:00Z"]);
    // 15W: 2026-02-15 is a Sunday, so Monday the 16th; 2026-08-15 is a Saturday, so Friday the 14th.
    let nearest = timing("cron(0 0 15W * ? *)", "UTC");
    let days = firings(&nearest, "2026-02-01T00:00:00Z", 7);
    assert_eq!(days[0], "2026-02-16T00:00:00Z");
    assert!(days.contains(&"2026-08-14T00:00:00Z".to_string()), "{days:?}");
    // 1W when the 1st is a Saturday (2026-08-01): Monday the 3rd, never the previous month.
    let first = timing("cron(0 0 1W 8 ? 2026)", "UTC");
    assert_eq!(firings(&first, "2026-07-01T00:00:00Z", 1), ["2026-08-03T00:00:00Z"]);
    // LW: the last weekday (2026-05-31 is a Sunday, so Friday the 29th).
    let last_weekday = timing("cron(0 0 LW 5 ? 2026)", "UTC");
    assert_eq!(firings(&last_weekday, "2026-05-01T00:00:00Z", 1), ["2026-05-29T00:00:00Z"]);
    // 6L: the last Friday; 3#2: the second Tuesday.
    let last_friday = timing("cron(0 18 ? * 6L *)", "UTC");
    assert_eq!(firings(&last_friday, "2026-01-01T00:00:00Z", 2), ["2026-01-30T18:00:00Z", "2026-02-27T18:00:00Z"]);
    let second_tuesday = timing("cron(0 9 ? * 3#2 *)", "UTC");
    assert_eq!(firings(&second_tuesday, "2026-01-01T00:00:00Z", 2), ["2026-01-13T09:00:00Z", "2026-02-10T09:00:00Z"]);
}

#[test]
fn cron_refuses_what_aws_refuses() {
    for bad in [
        "cron(0 12 * * * *)",   // both day fields given
        "cron(0 12 ? * ? *)",   // neither
        "cron(0 12 * *)",       // four fields
        "cron(60 12 * * ? *)",  // minute out of range
        "cron(0 24 * * ? *)",   // hour out of range
        "cron(0 0 32 * ? *)",   // day out of range
        "cron(0 0 ? * 8 *)",    // weekday out of range
        "cron(0 0 ? * 2#6 *)",  // no sixth Monday
        "cron(0 0 ? FOO * *)",  // not a month
        "cron(0 0 * * ? 1969)", // year out of range
        "cron(0 0 5-1 * ? *)",  // backwards range
        "cron(0/0 0 * * ? *)",  // zero step
        "every day",
    ] {
        let error = ScheduleExpression::parse(bad).unwrap_err();
        assert!(error.to_string().starts_with("Invalid Schedule Expression"), "{bad}: {error}");
    }
}

#[test]
fn cron_in_a_time_zone_follows_its_dst_changes() {
    // New York: clocks go from 02:00 to 03:00 on 2026-03-08 and from 02:00 back to 01:00 on
    // 2026-11-01.
    let half_past_two = timing("cron(30 2 * * ? *)", "America/New_York");
    assert_eq!(
        firings(&half_past_two, "2026-03-07T00:00:00Z", 2),
        ["2026-03-07T07:30:00Z", "2026-03-09T06:30:00Z"],
        "02:30 does not exist on 2026-03-08: that firing is skipped"
    );
    let half_past_one = timing("cron(30 1 * * ? *)", "America/New_York");
    assert_eq!(
        firings(&half_past_one, "2026-10-31T00:00:00Z", 3),
        ["2026-10-31T05:30:00Z", "2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"],
        "01:30 happens twice on 2026-11-01 and fires once, the first time"
    );
    let paris_morning = timing("cron(0 8 ? * MON *)", "Europe/Paris");
    assert_eq!(firings(&paris_morning, "2026-03-23T00:00:00Z", 2), ["2026-03-23T07:00:00Z", "2026-03-30T06:00:00Z"]);
}

#[test]
fn cron_respects_start_and_end_dates() {
    let mut hourly = timing("cron(0 * * * ? *)", "UTC");
    hourly.start_ms = Some(ms("2026-05-01T10:30:00Z"));
    hourly.end_ms = Some(ms("2026-05-01T13:00:00Z"));
    assert_eq!(firings(&hourly, "2026-01-01T00:00:00Z", 10), ["2026-05-01T11:00:00Z", "2026-05-01T12:00:00Z"]);
}

#[test]
fn time_zones_are_iana_names() {
    assert!(parse_timezone("America/Los_Angeles").is_ok());
    assert!(parse_timezone("UTC").is_ok());
    assert!(parse_timezone("Mars/Olympus_Mons").is_err());
}

#[test]
fn flexible_offsets_stay_inside_the_window_and_repeat_for_a_seed() {
    for seed in 0..1000u64 {
        let offset = flexible_offset_ms(seed, 15);
        assert!((0..15 * 60_000).contains(&offset));
        assert_eq!(offset, flexible_offset_ms(seed, 15));
    }
    assert_eq!(flexible_offset_ms(7, 0), 0);
    let spread: std::collections::BTreeSet<i64> = (0..100).map(|seed| flexible_offset_ms(seed, 10) / 60_000).collect();
    assert!(spread.len() >= 8, "offsets spread over the window: {spread:?}");
}

#[test]
fn an_impossible_cron_never_fires() {
    let never = timing("cron(0 0 30 2 ? *)", "UTC");
    assert_eq!(never.next_after(ms("2026-01-01T00:00:00Z")), None);
}
