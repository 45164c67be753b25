//! Metric math (GetMetricData's `Expression`): parsed by `parse`, evaluated here over the
//! time series the request's metric queries read. A value is a scalar, one time series or an
//! array of them (`METRICS()`); operators apply point by point, and a point missing on either
//! side of an operator is missing in the result, as in CloudWatch.
//!
//! Functions: `SUM`, `AVG`, `MIN`, `MAX` (of an array: one series, point by point; of one
//! series: a scalar over all its points), `METRICS()` / `METRICS("text")`, `FILL(x, value |
//! REPEAT | LINEAR)`, `ABS`, `CEIL`, `FLOOR`.

pub mod parse;

use parse::{Expr, Operator};
use std::collections::BTreeMap;

/// Points by timestamp (ms).
pub type Points = BTreeMap<i64, f64>;

#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub label: String,
    pub points: Points,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Scalar(f64),
    Series(Series),
    Array(Vec<Series>),
}

/// What an expression can refer to.
pub trait Scope {
    /// The value of the query `id`, or why there is none.
    fn value_of(&mut self, id: &str) -> Result<Value, String>;
    /// The metric queries' ids whose id contains `filter` (all with `None`), in request order.
    fn metric_ids(&self, filter: Option<&str>) -> Vec<String>;
    /// Every period start of the request, for FILL.
    fn grid(&self) -> Vec<i64>;
}

pub fn evaluate(expr: &Expr, scope: &mut dyn Scope) -> Result<Value, String> {
    match expr {
        Expr::Number(number) => Ok(Value::Scalar(*number)),
        Expr::Text(text) => Err(format!("the string {text:?} is only an argument of METRICS")),
        Expr::Name(id) => scope.value_of(id),
        Expr::Negate(inner) => Ok(map(evaluate(inner, scope)?, |value| -value)),
        Expr::Binary(operator, left, right) => {
            let left = evaluate(left, scope)?;
            let right = evaluate(right, scope)?;
            combine(*operator, left, right)
        }
        Expr::Call(function, arguments) => call(function, arguments, scope),
    }
}

fn call(function: &str, arguments: &[Expr], scope: &mut dyn Scope) -> Result<Value, String> {
    let arity = |count: usize| {
        if arguments.len() == count {
            Ok(())
        } else {
            Err(format!("{function} takes {count} argument(s), not {}", arguments.len()))
        }
    };
    match function {
        "METRICS" => {
            let filter = match arguments {
                [] => None,
                [Expr::Text(text)] => Some(text.as_str()),
                _ => return Err("METRICS takes nothing or one string".into()),
            };
            let mut array = Vec::new();
            for id in scope.metric_ids(filter) {
                match scope.value_of(&id)? {
                    Value::Series(series) => array.push(series),
                    Value::Array(more) => array.extend(more),
                    Value::Scalar(_) => {}
                }
            }
            Ok(Value::Array(array))
        }
        "SUM" | "AVG" | "MIN" | "MAX" => {
            arity(1)?;
            Ok(aggregate(function, evaluate(&arguments[0], scope)?))
        }
        "ABS" | "CEIL" | "FLOOR" => {
            arity(1)?;
            let apply: fn(f64) -> f64 = match function {
                "ABS" => f64::abs,
                "CEIL" => f64::ceil,
                _ => f64::floor,
            };
            Ok(map(evaluate(&arguments[0], scope)?, apply))
        }
        "FILL" => {
            arity(2)?;
            let target = evaluate(&arguments[0], scope)?;
            let grid = scope.grid();
            let how = match &arguments[1] {
                Expr::Name(keyword) if keyword.eq_ignore_ascii_case("REPEAT") => Fill::Repeat,
                Expr::Name(keyword) if keyword.eq_ignore_ascii_case("LINEAR") => Fill::Linear,
                other => match evaluate(other, scope)? {
                    Value::Scalar(value) => Fill::Value(value),
                    _ => return Err("FILL's second argument must be a number, REPEAT or LINEAR".into()),
                },
            };
            Ok(each_series(target, |series| fill(series, &grid, how)))
        }
        other => Err(format!("{other} is not a function Berth's metric math knows")),
    }
}

fn map(value: Value, apply: impl Fn(f64) -> f64 + Copy) -> Value {
    match value {
        Value::Scalar(number) => Value::Scalar(apply(number)),
        other => each_series(other, |mut series| {
            series.points.values_mut().for_each(|point| *point = apply(*point));
            series
        }),
    }
}

fn each_series(value: Value, apply: impl Fn(Series) -> Series) -> Value {
    match value {
        Value::Series(series) => Value::Series(apply(series)),
        Value::Array(array) => Value::Array(array.into_iter().map(apply).collect()),
        scalar => scalar,
    }
}

fn reduce(function: &str, values: impl Iterator<Item = f64>) -> Option<f64> {
    let values: Vec<f64> = values.collect();
    if values.is_empty() {
        return None;
    }
    let sum: f64 = values.iter().sum();
    Some(match function {
        "SUM" => sum,
        "AVG" => sum / values.len() as f64,
        "MIN" => values.iter().copied().fold(f64::INFINITY, f64::min),
        _ => values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    })
}

fn aggregate(function: &str, value: Value) -> Value {
    match value {
        Value::Scalar(number) => Value::Scalar(number),
        Value::Series(series) => Value::Scalar(reduce(function, series.points.values().copied()).unwrap_or(f64::NAN)),
        Value::Array(array) => {
            let mut by_time: BTreeMap<i64, Vec<f64>> = BTreeMap::new();
            for series in &array {
                for (time, point) in &series.points {
                    by_time.entry(*time).or_default().push(*point);
                }
            }
            let points = by_time
                .into_iter()
                .filter_map(|(time, points)| reduce(function, points.into_iter()).map(|point| (time, point)))
                .collect();
            Value::Series(Series { label: String::new(), points })
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Fill {
    Value(f64),
    Repeat,
    Linear,
}

fn fill(mut series: Series, grid: &[i64], how: Fill) -> Series {
    let known = series.points.clone();
    for &time in grid {
        if known.contains_key(&time) {
            continue;
        }
        let before = known.range(..time).next_back();
        let after = known.range(time..).next();
        let filled = match how {
            Fill::Value(value) => Some(value),
            Fill::Repeat => before.or(after).map(|(_, value)| *value),
            Fill::Linear => match (before, after) {
                (Some((t0, v0)), Some((t1, v1))) => Some(v0 + (v1 - v0) * (time - t0) as f64 / (t1 - t0) as f64),
                _ => before.or(after).map(|(_, value)| *value),
            },
        };
        if let Some(filled) = filled {
            series.points.insert(time, filled);
        }
    }
    series
}

fn apply(operator: Operator, left: f64, right: f64) -> f64 {
    match operator {
        Operator::Add => left + right,
        Operator::Subtract => left - right,
        Operator::Multiply => left * right,
        Operator::Divide => left / right,
        Operator::Power => left.powf(right),
    }
}

/// Points present on both sides; a result that is not a number (x/0) is left out.
fn pointwise(operator: Operator, left: &Series, right: &Series) -> Series {
    let points = left
        .points
        .iter()
        .filter_map(|(time, l)| right.points.get(time).map(|r| (*time, apply(operator, *l, *r))))
        .filter(|(_, point)| point.is_finite())
        .collect();
    Series { label: left.label.clone(), points }
}

fn with_scalar(operator: Operator, series: Series, scalar: f64, scalar_on_left: bool) -> Series {
    let points = series
        .points
        .iter()
        .map(|(time, point)| {
            let value = if scalar_on_left { apply(operator, scalar, *point) } else { apply(operator, *point, scalar) };
            (*time, value)
        })
        .filter(|(_, point)| point.is_finite())
        .collect();
    Series { label: series.label, points }
}

fn combine(operator: Operator, left: Value, right: Value) -> Result<Value, String> {
    Ok(match (left, right) {
        (Value::Scalar(l), Value::Scalar(r)) => Value::Scalar(apply(operator, l, r)),
        (Value::Series(series), Value::Scalar(scalar)) => Value::Series(with_scalar(operator, series, scalar, false)),
        (Value::Scalar(scalar), Value::Series(series)) => Value::Series(with_scalar(operator, series, scalar, true)),
        (Value::Series(l), Value::Series(r)) => Value::Series(pointwise(operator, &l, &r)),
        (Value::Array(array), Value::Scalar(scalar)) => {
            Value::Array(array.into_iter().map(|series| with_scalar(operator, series, scalar, false)).collect())
        }
        (Value::Scalar(scalar), Value::Array(array)) => {
            Value::Array(array.into_iter().map(|series| with_scalar(operator, series, scalar, true)).collect())
        }
        (Value::Array(array), Value::Series(r)) => {
            Value::Array(array.iter().map(|series| pointwise(operator, series, &r)).collect())
        }
        (Value::Series(l), Value::Array(array)) => Value::Array(
            array
                .iter()
                .map(|series| Series { label: series.label.clone(), ..pointwise(operator, &l, series) })
                .collect(),
        ),
        (Value::Array(_), Value::Array(_)) => return Err("an operator cannot combine two arrays of time series".into()),
    })
}

#[cfg(test)]
mod tests;
