//! Target tracking, pure: the capacity that brings the tracked metric back to its target.
//!
//! The metric is assumed to move in inverse proportion to capacity (doubling the tasks halves
//! the average CPU), so the capacity for the target is `current × metric / target`, rounded up.
//! Rounding up is what makes scale-in conservative, as AWS describes it: capacity is removed
//! only when the remaining tasks would still keep the metric at or below the target.

/// A little slack for floating point: 3 × 50 / 50 is 3, not 3.0000000001 rounded up to 4.
const EPSILON: f64 = 1e-9;

/// The capacity target tracking asks for, given the metric's value now.
pub fn capacity_for_target(current: u32, metric: f64, target: f64) -> i64 {
    if !(metric.is_finite() && target.is_finite()) || target <= 0.0 {
        return i64::from(current);
    }
    // From zero tasks a proportional rule moves nothing; AWS starts from one.
    let base = if current == 0 && metric > target { 1 } else { current };
    let exact = f64::from(base) * metric / target;
    (exact - EPSILON).ceil().max(0.0) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_out_is_proportional_and_rounds_up() {
        assert_eq!(capacity_for_target(1, 100.0, 50.0), 2);
        assert_eq!(capacity_for_target(2, 90.0, 50.0), 4, "3.6 rounds up");
        assert_eq!(capacity_for_target(10, 50.5, 50.0), 11);
        assert_eq!(capacity_for_target(0, 80.0, 50.0), 2, "from zero, as from one");
    }

    #[test]
    fn scale_in_keeps_the_metric_at_or_below_the_target() {
        assert_eq!(capacity_for_target(3, 40.0, 50.0), 3, "two tasks would run at 60: no scale-in");
        assert_eq!(capacity_for_target(4, 20.0, 50.0), 2, "1.6 rounds up to 2");
        assert_eq!(capacity_for_target(3, 0.0, 50.0), 0, "the target's minimum bounds it");
        assert_eq!(capacity_for_target(3, 50.0, 50.0), 3, "exactly on target: no change");
    }

    #[test]
    fn nonsense_values_change_nothing() {
        assert_eq!(capacity_for_target(3, f64::NAN, 50.0), 3);
        assert_eq!(capacity_for_target(3, 10.0, 0.0), 3);
    }
}
