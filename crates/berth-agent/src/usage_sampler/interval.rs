//! What a container used between two of the sampler's own readings: pure arithmetic, so the
//! interval is the sampler's (not Docker's `precpu_stats`, whose reading time the agent does
//! not control) and every figure covers the same span.

use crate::runtime::ContainerStatsSample;
use std::time::Duration;

/// CPU units in one core's worth of CPU time, as ECS counts them.
pub const CPU_UNITS_PER_CORE: f64 = 1024.0;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IntervalUsage {
    /// Average CPU over the interval, in CPU units.
    pub cpu_units_used: f64,
    pub network_rx_bytes_per_second: f64,
    pub network_tx_bytes_per_second: f64,
}

/// The use between `previous` and `current`, read `interval` apart. `None` when the interval
/// is empty or the container's CPU counter went backwards (it is not the container it was:
/// the current reading then only starts a new interval).
pub fn usage_between(
    previous: &ContainerStatsSample,
    current: &ContainerStatsSample,
    interval: Duration,
) -> Option<IntervalUsage> {
    let seconds = interval.as_secs_f64();
    if seconds <= 0.0 || current.cpu_total_ns < previous.cpu_total_ns {
        return None;
    }
    let cpu_seconds = (current.cpu_total_ns - previous.cpu_total_ns) as f64 / 1e9;
    // A counter that went backwards (an interface that went away) says nothing about the
    // interval: no traffic rather than a nonsense rate.
    let rate = |now: u64, before: u64| now.checked_sub(before).map_or(0.0, |bytes| bytes as f64 / seconds);
    Some(IntervalUsage {
        cpu_units_used: cpu_seconds / seconds * CPU_UNITS_PER_CORE,
        network_rx_bytes_per_second: rate(current.network_rx_bytes, previous.network_rx_bytes),
        network_tx_bytes_per_second: rate(current.network_tx_bytes, previous.network_tx_bytes),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(cpu_total_ns: u64, rx: u64, tx: u64) -> ContainerStatsSample {
        ContainerStatsSample { cpu_total_ns, network_rx_bytes: rx, network_tx_bytes: tx, ..Default::default() }
    }

    #[test]
    fn cpu_units_are_cpu_time_over_wall_time_times_1024() {
        // 5 s apart: 7.5 s of CPU time is one and a half cores busy.
        let usage = usage_between(
            &reading(1_000_000_000, 100, 10),
            &reading(8_500_000_000, 5_100, 510),
            Duration::from_secs(5),
        )
        .unwrap();
        assert_eq!(usage.cpu_units_used, 1536.0);
        assert_eq!(usage.network_rx_bytes_per_second, 1000.0);
        assert_eq!(usage.network_tx_bytes_per_second, 100.0);
        // An idle container uses nothing.
        let idle = usage_between(&reading(5, 0, 0), &reading(5, 0, 0), Duration::from_millis(250)).unwrap();
        assert_eq!(idle.cpu_units_used, 0.0);
    }

    #[test]
    fn resets_and_empty_intervals_give_no_sample() {
        assert_eq!(usage_between(&reading(9, 0, 0), &reading(3, 0, 0), Duration::from_secs(5)), None);
        assert_eq!(usage_between(&reading(3, 0, 0), &reading(9, 0, 0), Duration::ZERO), None);
        let shrunk = usage_between(&reading(0, 500, 500), &reading(1, 100, 900), Duration::from_secs(1)).unwrap();
        assert_eq!((shrunk.network_rx_bytes_per_second, shrunk.network_tx_bytes_per_second), (0.0, 400.0));
    }
}
