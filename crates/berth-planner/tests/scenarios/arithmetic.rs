use berth_planner::{
    circuit_breaker_threshold, throttle_delay, Bounds, DeploymentConfiguration, FailureThreshold, SchedulingStrategy,
};
use std::time::Duration;

fn configuration(minimum_healthy_percent: u32, maximum_percent: u32) -> DeploymentConfiguration {
    DeploymentConfiguration {
        minimum_healthy_percent,
        maximum_percent,
        ..DeploymentConfiguration::defaults_for(SchedulingStrategy::Replica)
    }
}

#[test]
fn bounds_round_the_floor_up_and_the_ceiling_down() {
    // (desired, min%, max%) → (minimum healthy, maximum running + pending)
    let table = [
        ((3, 50, 125), (2, 3)),
        ((4, 50, 200), (2, 8)),
        ((2, 75, 200), (2, 4)),
        ((3, 100, 200), (3, 6)),
        ((3, 0, 100), (0, 3)),
        ((0, 100, 200), (0, 0)),
        ((7, 33, 150), (3, 10)),
        ((5000, 100, 200), (5000, 10000)),
    ];
    for ((desired, minimum, maximum), (floor, ceiling)) in table {
        let bounds = Bounds::new(desired, &configuration(minimum, maximum));
        assert_eq!(
            (bounds.minimum_running, bounds.maximum_occupying),
            (floor, ceiling),
            "desired {desired}, min {minimum}%, max {maximum}%"
        );
    }
}

#[test]
fn defaults_differ_by_strategy() {
    let replica = DeploymentConfiguration::defaults_for(SchedulingStrategy::Replica);
    let daemon = DeploymentConfiguration::defaults_for(SchedulingStrategy::Daemon);
    assert_eq!((replica.minimum_healthy_percent, replica.maximum_percent), (100, 200));
    assert_eq!((daemon.minimum_healthy_percent, daemon.maximum_percent), (0, 100));
}

#[test]
fn circuit_breaker_thresholds() {
    let bounded = FailureThreshold::BoundedPercent(50);
    let table = [
        (bounded, 1, 3),
        (bounded, 0, 3),
        (bounded, 6, 3),
        (bounded, 7, 4),
        (bounded, 25, 13),
        (bounded, 400, 200),
        (bounded, 5000, 200),
        (FailureThreshold::Count(5), 400, 5),
        (FailureThreshold::Count(0), 4, 1),
        (FailureThreshold::UnboundedPercent(50), 1000, 500),
        (FailureThreshold::UnboundedPercent(50), 1, 1),
        (FailureThreshold::UnboundedPercent(10), 0, 1),
    ];
    for (threshold, desired, expected) in table {
        assert_eq!(circuit_breaker_threshold(threshold, desired), expected, "{threshold:?} of {desired}");
    }
}

#[test]
fn throttle_delay_doubles_up_to_27_minutes() {
    let initial = Duration::from_secs(10);
    let max = Duration::from_secs(27 * 60);
    let delays: Vec<u64> = (0..=10).map(|failures| throttle_delay(failures, initial, max).as_secs()).collect();
    assert_eq!(delays, [0, 10, 20, 40, 80, 160, 320, 640, 1280, 1620, 1620]);
    assert_eq!(throttle_delay(u32::MAX, initial, max), max);
}
