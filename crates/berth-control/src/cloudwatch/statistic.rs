//! The five statistics CloudWatch computes from a statistic set, and how a period's start and
//! length are checked and rounded (the same rules for GetMetricStatistics, GetMetricData and
//! alarms).

use super::error::{MetricsError, MetricsResult};
use berth_metric_store::StatisticSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Statistic {
    SampleCount,
    Average,
    Sum,
    Minimum,
    Maximum,
}

impl Statistic {
    pub const ALL: [Statistic; 5] =
        [Statistic::SampleCount, Statistic::Average, Statistic::Sum, Statistic::Minimum, Statistic::Maximum];

    /// A statistic by its name. Percentiles and the trimmed statistics (`p99`, `TM90`, `IQM`,
    /// …) need the distribution of the values, which the store does not keep: they are
    /// refused by name rather than answered wrongly.
    pub fn parse(name: &str, field: &str) -> MetricsResult<Statistic> {
        Self::ALL.into_iter().find(|statistic| statistic.as_str() == name).ok_or_else(|| {
            let known = "SampleCount, Average, Sum, Minimum or Maximum";
            if is_extended(name) {
                MetricsError::invalid(
                    field,
                    format!(
                        "asks for {name}: Berth computes {known}; percentiles and trimmed statistics are not kept."
                    ),
                )
            } else {
                MetricsError::invalid(field, format!("must be one of {known}, not {name:?}."))
            }
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Statistic::SampleCount => "SampleCount",
            Statistic::Average => "Average",
            Statistic::Sum => "Sum",
            Statistic::Minimum => "Minimum",
            Statistic::Maximum => "Maximum",
        }
    }

    pub fn of(self, set: &StatisticSet) -> f64 {
        match self {
            Statistic::SampleCount => set.sample_count,
            Statistic::Average => set.average(),
            Statistic::Sum => set.sum,
            Statistic::Minimum => set.minimum,
            Statistic::Maximum => set.maximum,
        }
    }
}

/// `p99`, `p99.9`, `TM(10%:90%)`, `IQM`, `WM90`, `PR(:300)`, `TC90`, `TS90`.
fn is_extended(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    upper == "IQM" || ["P", "TM", "WM", "PR", "TC", "TS"].iter().any(|prefix| upper.starts_with(prefix))
}

/// A period in seconds as CloudWatch allows it: 1, 5, 10 or 30 (high-resolution metrics) or
/// any multiple of 60.
pub fn check_period(period: i32, field: &str) -> MetricsResult<u32> {
    let valid = matches!(period, 1 | 5 | 10 | 30) || (period >= 60 && period % 60 == 0);
    if !valid {
        return Err(MetricsError::invalid(field, format!("must be 1, 5, 10, 30 or a multiple of 60, not {period}.")));
    }
    Ok(period as u32)
}

const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 24 * 60 * MINUTE_MS;

/// Where the first period begins: `start` rounded down as CloudWatch rounds it by its age (to
/// the minute under 15 days, to 5 minutes under 63 days, to the hour beyond), or to the
/// period itself for a high-resolution period.
pub fn round_start(start_ms: i64, now_ms: i64, period_s: u32) -> i64 {
    let age = now_ms - start_ms;
    let step = if period_s < 60 {
        i64::from(period_s) * 1000
    } else if age < 15 * DAY_MS {
        MINUTE_MS
    } else if age < 63 * DAY_MS {
        5 * MINUTE_MS
    } else {
        60 * MINUTE_MS
    };
    start_ms.div_euclid(step) * step
}

/// How many periods `[start, end)` holds.
pub fn period_count(start_ms: i64, end_ms: i64, period_s: u32) -> i64 {
    let period_ms = i64::from(period_s) * 1000;
    (end_ms - start_ms + period_ms - 1).div_euclid(period_ms).max(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_follow_cloudwatch_rules() {
        for valid in [1, 5, 10, 30, 60, 120, 300, 86_400] {
            assert_eq!(check_period(valid, "Period").unwrap(), valid as u32);
        }
        for invalid in [0, -60, 2, 45, 61, 90] {
            let error = check_period(invalid, "Period").unwrap_err();
            assert!(error.message.contains("Period"), "{error}");
        }
    }

    #[test]
    fn the_start_rounds_down_by_age() {
        let now = 100 * DAY_MS;
        let minute_start = now - 60 * MINUTE_MS;
        assert_eq!(round_start(minute_start + 34_000, now, 60), minute_start, "12:32:34 becomes 12:32:00");
        let month = now - 20 * DAY_MS - 7 * MINUTE_MS;
        assert_eq!(round_start(month, now, 300) % (5 * MINUTE_MS), 0);
        let old = now - 70 * DAY_MS - 17 * MINUTE_MS;
        assert_eq!(round_start(old, now, 3600) % (60 * MINUTE_MS), 0);
        assert_eq!(round_start(12_345, now, 10), 10_000);
    }

    #[test]
    fn extended_statistics_are_refused_by_name() {
        let error = Statistic::parse("p99", "Stat").unwrap_err();
        assert!(error.message.contains("p99") && error.message.contains("percentiles"), "{error}");
        assert!(Statistic::parse("Mean", "Statistics.member.1").unwrap_err().message.contains("Mean"));
        assert_eq!(Statistic::parse("Maximum", "Stat").unwrap(), Statistic::Maximum);
    }
}
