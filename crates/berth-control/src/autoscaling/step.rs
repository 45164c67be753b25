//! Step scaling, pure: which step of a policy's table the alarm's metric falls in, and the
//! capacity that step asks for.
//!
//! The bounds of a step are relative to the alarm's threshold: a step applies when
//! `threshold + lower <= value < threshold + upper` (a missing lower bound is minus infinity,
//! a missing upper one plus infinity), as Application Auto Scaling documents it.

use super::records::{AdjustmentType, Aggregation, StepAdjustment, StepConfig};

/// The policy's view of the alarm's datapoints (AWS: `MetricAggregationType`, Average when
/// unset).
pub fn aggregate(values: &[f64], aggregation: Option<Aggregation>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    Some(match aggregation.unwrap_or(Aggregation::Average) {
        Aggregation::Average => values.iter().sum::<f64>() / values.len() as f64,
        Aggregation::Minimum => values.iter().copied().fold(f64::INFINITY, f64::min),
        Aggregation::Maximum => values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    })
}

/// The step `value` falls in, given the alarm's `threshold`.
pub fn select(steps: &[StepAdjustment], value: f64, threshold: f64) -> Option<&StepAdjustment> {
    let difference = value - threshold;
    steps.iter().find(|step| {
        step.lower_bound.is_none_or(|lower| difference >= lower)
            && step.upper_bound.is_none_or(|upper| difference < upper)
    })
}

/// The capacity `adjustment` asks for from `current`, before the target's bounds.
pub fn new_capacity(config: &StepConfig, adjustment: i32, current: u32) -> i64 {
    let current = i64::from(current);
    let adjustment = i64::from(adjustment);
    match config.adjustment_type {
        AdjustmentType::ExactCapacity => adjustment,
        AdjustmentType::ChangeInCapacity => current + adjustment,
        AdjustmentType::PercentChangeInCapacity => {
            // AWS rounds a fractional change towards zero when it is at least 1 in size, and
            // away from zero below that (so -0.5 removes 1); MinAdjustmentMagnitude then makes
            // the change at least that large.
            let exact = current as f64 * adjustment as f64 / 100.0;
            let mut change = if exact.abs() >= 1.0 { exact.trunc() as i64 } else { exact.signum() as i64 };
            if let Some(minimum) = config.min_adjustment_magnitude {
                let minimum = i64::from(minimum);
                if change != 0 && change.abs() < minimum {
                    change = change.signum() * minimum;
                }
            }
            current + change
        }
    }
}

/// Checks a step table by the rules Application Auto Scaling documents for StepAdjustment:
/// no overlaps or gaps; at most one null lower bound, and one if any lower bound is negative;
/// at most one null upper bound, and one if any upper bound is positive; never both null in one
/// step. Returns the message naming what is wrong.
pub fn check_steps(steps: &[StepAdjustment]) -> Result<(), String> {
    if steps.is_empty() {
        return Err("StepAdjustments must have at least one step adjustment.".into());
    }
    for step in steps {
        match (step.lower_bound, step.upper_bound) {
            (None, None) => {
                return Err(
                    "MetricIntervalLowerBound and MetricIntervalUpperBound cannot both be null in the same step adjustment."
                        .into(),
                )
            }
            (Some(lower), Some(upper)) if lower >= upper => {
                return Err(format!(
                    "MetricIntervalLowerBound ({lower}) must be less than MetricIntervalUpperBound ({upper})."
                ))
            }
            _ => {}
        }
    }
    let null_lower = steps.iter().filter(|step| step.lower_bound.is_none()).count();
    let null_upper = steps.iter().filter(|step| step.upper_bound.is_none()).count();
    if null_lower > 1 {
        return Err("At most one step adjustment may have a null MetricIntervalLowerBound.".into());
    }
    if null_upper > 1 {
        return Err("At most one step adjustment may have a null MetricIntervalUpperBound.".into());
    }
    if null_lower == 0 && steps.iter().any(|step| step.lower_bound.is_some_and(|lower| lower < 0.0)) {
        return Err("A step adjustment has a negative MetricIntervalLowerBound, so one must have a null MetricIntervalLowerBound.".into());
    }
    if null_upper == 0 && steps.iter().any(|step| step.upper_bound.is_some_and(|upper| upper > 0.0)) {
        return Err("A step adjustment has a positive MetricIntervalUpperBound, so one must have a null MetricIntervalUpperBound.".into());
    }
    let mut sorted: Vec<&StepAdjustment> = steps.iter().collect();
    sorted.sort_by(|a, b| {
        let key = |step: &StepAdjustment| step.lower_bound.unwrap_or(f64::NEG_INFINITY);
        key(a).total_cmp(&key(b))
    });
    for pair in sorted.windows(2) {
        match (pair[0].upper_bound, pair[1].lower_bound) {
            (Some(upper), Some(lower)) if upper == lower => {}
            (Some(upper), Some(lower)) if upper < lower => {
                return Err(format!(
                    "The step adjustments have a gap between {upper} and {lower}; their intervals must be contiguous."
                ))
            }
            _ => return Err("The step adjustments overlap; their intervals must not.".into()),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(lower: Option<f64>, upper: Option<f64>, adjustment: i32) -> StepAdjustment {
        StepAdjustment { lower_bound: lower, upper_bound: upper, adjustment }
    }

    fn config(adjustment_type: AdjustmentType, min_magnitude: Option<i32>) -> StepConfig {
        StepConfig {
            adjustment_type,
            steps: vec![],
            min_adjustment_magnitude: min_magnitude,
            cooldown_seconds: None,
            aggregation: None,
        }
    }

    #[test]
    fn a_value_falls_in_the_step_of_its_distance_from_the_threshold() {
        // Threshold 50: [50, 60) adds 1, [60, 80) adds 2, [80, ∞) adds 4.
        let steps = [step(Some(0.0), Some(10.0), 1), step(Some(10.0), Some(30.0), 2), step(Some(30.0), None, 4)];
        assert_eq!(select(&steps, 55.0, 50.0).unwrap().adjustment, 1);
        assert_eq!(select(&steps, 60.0, 50.0).unwrap().adjustment, 2, "a lower bound is inclusive");
        assert_eq!(select(&steps, 79.9, 50.0).unwrap().adjustment, 2);
        assert_eq!(select(&steps, 500.0, 50.0).unwrap().adjustment, 4);
        assert!(select(&steps, 49.0, 50.0).is_none());
        // A scale-in table below the threshold.
        let down = [step(None, Some(-10.0), -2), step(Some(-10.0), Some(0.0), -1)];
        assert_eq!(select(&down, 45.0, 50.0).unwrap().adjustment, -1);
        assert_eq!(select(&down, 10.0, 50.0).unwrap().adjustment, -2);
    }

    #[test]
    fn adjustment_types_compute_the_new_capacity() {
        assert_eq!(new_capacity(&config(AdjustmentType::ChangeInCapacity, None), 2, 3), 5);
        assert_eq!(new_capacity(&config(AdjustmentType::ChangeInCapacity, None), -5, 3), -2);
        assert_eq!(new_capacity(&config(AdjustmentType::ExactCapacity, None), 7, 3), 7);
        let percent = config(AdjustmentType::PercentChangeInCapacity, None);
        assert_eq!(new_capacity(&percent, 50, 10), 15);
        assert_eq!(new_capacity(&percent, 25, 10), 12, "2.5 is truncated to 2");
        assert_eq!(new_capacity(&percent, 10, 4), 5, "0.4 rounds away from zero to 1");
        assert_eq!(new_capacity(&percent, -10, 4), 3);
        assert_eq!(new_capacity(&percent, 200, 1), 3);
        let at_least_two = config(AdjustmentType::PercentChangeInCapacity, Some(2));
        assert_eq!(new_capacity(&at_least_two, 10, 4), 6);
        assert_eq!(new_capacity(&at_least_two, -10, 4), 2);
    }

    #[test]
    fn aggregation_defaults_to_the_average() {
        assert_eq!(aggregate(&[1.0, 2.0, 6.0], None), Some(3.0));
        assert_eq!(aggregate(&[1.0, 2.0, 6.0], Some(Aggregation::Maximum)), Some(6.0));
        assert_eq!(aggregate(&[1.0, 2.0, 6.0], Some(Aggregation::Minimum)), Some(1.0));
        assert_eq!(aggregate(&[], None), None);
    }

    #[test]
    fn step_tables_follow_the_documented_rules() {
        assert!(check_steps(&[step(Some(0.0), None, 1)]).is_ok());
        assert!(check_steps(&[step(Some(0.0), Some(10.0), 1), step(Some(10.0), None, 2)]).is_ok());
        assert!(check_steps(&[step(None, Some(0.0), -1)]).is_ok());
        assert!(check_steps(&[]).unwrap_err().contains("at least one"));
        assert!(check_steps(&[step(Some(0.0), Some(10.0), 1), step(Some(20.0), None, 2)]).unwrap_err().contains("gap"));
        assert!(check_steps(&[step(None, Some(-10.0), -2), step(Some(-10.0), Some(0.0), -1)]).is_ok());
        assert!(check_steps(&[step(Some(0.0), Some(10.0), 1), step(Some(5.0), None, 2)])
            .unwrap_err()
            .contains("overlap"));
        assert!(check_steps(&[step(Some(0.0), None, 1), step(Some(10.0), None, 2)]).is_err());
        assert!(check_steps(&[step(Some(5.0), Some(5.0), 1)]).unwrap_err().contains("less than"));
        assert!(check_steps(&[step(None, None, 1)]).unwrap_err().contains("both be null"));
        assert!(check_steps(&[step(Some(-5.0), Some(0.0), 1)]).unwrap_err().contains("negative"));
        assert!(check_steps(&[step(Some(0.0), Some(5.0), 1)]).unwrap_err().contains("positive"));
    }
}
