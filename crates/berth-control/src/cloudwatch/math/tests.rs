use super::parse::parse;
use super::*;

struct Fixed(Vec<(String, Series)>);

impl Scope for Fixed {
    fn value_of(&mut self, id: &str) -> Result<Value, String> {
        self.0
            .iter()
            .find(|(known, _)| known == id)
            .map(|(_, series)| Value::Series(series.clone()))
            .ok_or_else(|| format!("no query {id}"))
    }
    fn metric_ids(&self, filter: Option<&str>) -> Vec<String> {
        self.0.iter().map(|(id, _)| id.clone()).filter(|id| filter.is_none_or(|text| id.contains(text))).collect()
    }
    fn grid(&self) -> Vec<i64> {
        vec![0, 60, 120, 180]
    }
}

fn series(label: &str, points: &[(i64, f64)]) -> Series {
    Series { label: label.into(), points: points.iter().copied().collect() }
}

fn scope() -> Fixed {
    Fixed(vec![
        ("m1".into(), series("a", &[(0, 1.0), (60, 2.0), (180, 4.0)])),
        ("m2".into(), series("b", &[(0, 10.0), (60, 20.0), (120, 30.0)])),
    ])
}

fn eval(source: &str) -> Value {
    evaluate(&parse(source).unwrap(), &mut scope()).unwrap()
}

fn points(value: Value) -> Vec<(i64, f64)> {
    match value {
        Value::Series(series) => series.points.into_iter().collect(),
        other => panic!("not one series: {other:?}"),
    }
}

#[test]
fn arithmetic_keeps_only_points_on_both_sides() {
    assert_eq!(points(eval("m1 + m2")), vec![(0, 11.0), (60, 22.0)]);
    assert_eq!(points(eval("m2 / m1 * 100")), vec![(0, 1000.0), (60, 1000.0)]);
    assert_eq!(points(eval("100 - m1")), vec![(0, 99.0), (60, 98.0), (180, 96.0)]);
    assert_eq!(points(eval("m1 / 0")), vec![], "x/0 is no datapoint");
    assert_eq!(points(eval("-m1 ^ 2")), vec![(0, -1.0), (60, -4.0), (180, -16.0)]);
}

#[test]
fn aggregates_of_an_array_are_per_timestamp_and_of_a_series_a_scalar() {
    assert_eq!(points(eval("SUM(METRICS())")), vec![(0, 11.0), (60, 22.0), (120, 30.0), (180, 4.0)]);
    assert_eq!(points(eval("AVG(METRICS())")), vec![(0, 5.5), (60, 11.0), (120, 30.0), (180, 4.0)]);
    assert_eq!(points(eval("MAX(METRICS(\"2\"))")), vec![(0, 10.0), (60, 20.0), (120, 30.0)]);
    assert_eq!(eval("MAX(m1)"), Value::Scalar(4.0));
    assert_eq!(points(eval("m1 / MAX(m1)")), vec![(0, 0.25), (60, 0.5), (180, 1.0)]);
    assert_eq!(eval("MIN(m2) + AVG(m1)"), Value::Scalar(10.0 + 7.0 / 3.0));
    match eval("METRICS() * 2") {
        Value::Array(array) => assert_eq!(array.len(), 2),
        other => panic!("{other:?}"),
    }
}

#[test]
fn fill_fills_the_grid() {
    assert_eq!(points(eval("FILL(m1, 0)")), vec![(0, 1.0), (60, 2.0), (120, 0.0), (180, 4.0)]);
    assert_eq!(points(eval("FILL(m1, REPEAT)")), vec![(0, 1.0), (60, 2.0), (120, 2.0), (180, 4.0)]);
    assert_eq!(points(eval("FILL(m1, LINEAR)")), vec![(0, 1.0), (60, 2.0), (120, 3.0), (180, 4.0)]);
    assert_eq!(points(eval("FILL(m2, REPEAT)")), vec![(0, 10.0), (60, 20.0), (120, 30.0), (180, 30.0)]);
}

#[test]
fn mistakes_are_refused() {
    let mut scope = scope();
    for (source, why) in [
        ("m9", "no query m9"),
        ("NOPE(m1)", "NOPE"),
        ("SUM(m1, m2)", "1 argument"),
        ("METRICS() + METRICS()", "two arrays"),
        ("FILL(m1, m2)", "second argument"),
    ] {
        let error = evaluate(&parse(source).unwrap(), &mut scope).unwrap_err();
        assert!(error.contains(why), "{source}: {error}");
    }
}
