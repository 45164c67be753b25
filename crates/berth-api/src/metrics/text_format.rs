//! A strict reader of the Prometheus text format (version 0.0.4), for tests: every line is a
//! `# HELP`, a `# TYPE` or a sample; names and label names are valid; label values are quoted
//! with only `\\`, `\"` and `\n` escaped; values are floats (`+Inf`, `-Inf`, `NaN`); a family's
//! TYPE comes once, before its samples, and its samples are contiguous and carry its name
//! (with `_bucket`/`_sum`/`_count` for histograms); histogram buckets are cumulative, end
//! with `le="+Inf"` and agree with `_count`. Shared by `berth-agent`'s tests (by `#[path]`).

use std::collections::{BTreeMap, HashSet};

/// One sample line: its metric name, labels and value.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// A parsed exposition: families by name with their type, and every sample in order.
#[derive(Debug, Default)]
pub struct Exposition {
    pub types: BTreeMap<String, String>,
    pub samples: Vec<Sample>,
}

impl Exposition {
    /// The value of the one sample named `name` whose labels include `labels`.
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let matching: Vec<&Sample> = self
            .samples
            .iter()
            .filter(|sample| sample.name == name)
            .filter(|sample| {
                labels.iter().all(|(key, value)| sample.labels.get(*key).map(String::as_str) == Some(*value))
            })
            .collect();
        assert!(matching.len() <= 1, "{name} {labels:?} matches {} samples", matching.len());
        matching.first().map(|sample| sample.value)
    }
}

fn is_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|first| first.is_ascii_alphabetic() || first == '_' || first == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn is_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn parse_value(text: &str) -> Result<f64, String> {
    match text {
        "+Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        "NaN" => Ok(f64::NAN),
        other => other.parse::<f64>().map_err(|_| format!("{other:?} is not a sample value")),
    }
}

/// `{a="1",b="x\"y"}` (without the braces) into labels.
fn parse_labels(mut text: &str) -> Result<BTreeMap<String, String>, String> {
    let mut labels = BTreeMap::new();
    while !text.is_empty() {
        let (name, rest) = text.split_once("=\"").ok_or_else(|| format!("no =\" in labels {text:?}"))?;
        if !is_label_name(name) {
            return Err(format!("{name:?} is not a label name"));
        }
        let mut value = String::new();
        let mut chars = rest.char_indices();
        let end = loop {
            match chars.next() {
                Some((_, '\\')) => match chars.next() {
                    Some((_, '\\')) => value.push('\\'),
                    Some((_, '"')) => value.push('"'),
                    Some((_, 'n')) => value.push('\n'),
                    other => return Err(format!("bad escape {other:?} in a label value")),
                },
                Some((index, '"')) => break index,
                Some((_, '\n')) => return Err("a raw newline in a label value".into()),
                Some((_, c)) => value.push(c),
                None => return Err("an unterminated label value".into()),
            }
        };
        if labels.insert(name.to_string(), value).is_some() {
            return Err(format!("label {name} given twice"));
        }
        text = &rest[end + 1..];
        text = match text.strip_prefix(',') {
            Some(more) => more,
            None if text.is_empty() => text,
            None => return Err(format!("expected , or }} after a label, found {text:?}")),
        };
    }
    Ok(labels)
}

fn parse_sample(line: &str) -> Result<Sample, String> {
    let (name, labels, rest) = match line.find(['{', ' ']) {
        Some(index) if line.as_bytes()[index] == b'{' => {
            let close = line.rfind('}').ok_or("no closing }")?;
            (&line[..index], parse_labels(&line[index + 1..close])?, &line[close + 1..])
        }
        Some(index) => (&line[..index], BTreeMap::new(), &line[index..]),
        None => return Err("a sample without a value".into()),
    };
    if !is_metric_name(name) {
        return Err(format!("{name:?} is not a metric name"));
    }
    let mut fields = rest.strip_prefix(' ').ok_or("no space before the value")?.split(' ');
    let value = parse_value(fields.next().unwrap_or_default())?;
    if let Some(timestamp) = fields.next() {
        timestamp.parse::<i64>().map_err(|_| format!("{timestamp:?} is not a timestamp"))?;
    }
    if fields.next().is_some() {
        return Err("trailing fields after the timestamp".into());
    }
    Ok(Sample { name: name.to_string(), labels, value })
}

/// The family a sample belongs to, given the families declared so far.
fn family_of<'a>(name: &'a str, types: &BTreeMap<String, String>) -> Option<&'a str> {
    if types.contains_key(name) {
        return Some(name);
    }
    ["_bucket", "_sum", "_count"].iter().find_map(|suffix| {
        let base = name.strip_suffix(suffix)?;
        (types.get(base).map(String::as_str) == Some("histogram")).then_some(base)
    })
}

/// Parses `text` strictly; the error names the line at fault.
pub fn parse(text: &str) -> Result<Exposition, String> {
    let mut exposition = Exposition::default();
    let mut finished: HashSet<String> = HashSet::new();
    let mut current: Option<String> = None;
    if !text.is_empty() && !text.ends_with('\n') {
        return Err("the exposition does not end with a newline".into());
    }
    for (number, line) in text.lines().enumerate() {
        let fail = |message: String| format!("line {}: {message}: {line:?}", number + 1);
        if let Some(comment) = line.strip_prefix("# ") {
            let mut words = comment.splitn(3, ' ');
            match (words.next(), words.next(), words.next()) {
                (Some("HELP"), Some(name), Some(_)) if is_metric_name(name) => {}
                (Some("TYPE"), Some(name), Some(kind)) if is_metric_name(name) => {
                    if !["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind) {
                        return Err(fail(format!("unknown type {kind}")));
                    }
                    if exposition.types.insert(name.to_string(), kind.to_string()).is_some() {
                        return Err(fail("a second TYPE for one family".into()));
                    }
                    if let Some(previous) = current.replace(name.to_string()) {
                        finished.insert(previous);
                    }
                }
                _ => return Err(fail("a comment that is neither HELP nor TYPE".into())),
            }
            continue;
        }
        let sample = parse_sample(line).map_err(fail)?;
        let family =
            family_of(&sample.name, &exposition.types).ok_or_else(|| fail("a sample of no declared family".into()))?;
        if finished.contains(family) || current.as_deref() != Some(family) {
            return Err(fail("a family's samples are not contiguous".into()));
        }
        exposition.samples.push(sample);
    }
    check_histograms(&exposition)?;
    Ok(exposition)
}

/// One histogram series: its buckets (bound, cumulative count) and its `_count`.
type Series = (Vec<(f64, f64)>, Option<f64>);

fn check_histograms(exposition: &Exposition) -> Result<(), String> {
    for (family, _) in exposition.types.iter().filter(|(_, kind)| *kind == "histogram") {
        let mut series: BTreeMap<BTreeMap<String, String>, Series> = BTreeMap::new();
        for sample in &exposition.samples {
            let mut labels = sample.labels.clone();
            if sample.name == format!("{family}_bucket") {
                let le = labels.remove("le").ok_or_else(|| format!("a bucket of {family} without le"))?;
                series.entry(labels).or_default().0.push((parse_value(&le)?, sample.value));
            } else if sample.name == format!("{family}_count") {
                series.entry(labels).or_default().1 = Some(sample.value);
            }
        }
        for (labels, (buckets, count)) in series {
            let ascending = buckets.windows(2).all(|pair| pair[0].0 < pair[1].0 && pair[0].1 <= pair[1].1);
            let last = buckets.last().copied();
            if !ascending || last.map(|(le, _)| le) != Some(f64::INFINITY) || last.map(|(_, n)| n) != count {
                return Err(format!(
                    "{family}{labels:?}: buckets {buckets:?} do not end at +Inf with _count {count:?}"
                ));
            }
        }
    }
    Ok(())
}

#[test]
fn the_reader_refuses_what_the_format_does_not_allow() {
    let good = "# HELP a_total A.\n# TYPE a_total counter\na_total{x=\"q\\\"\\\\\\n\"} 1\n";
    assert_eq!(parse(good).unwrap().value("a_total", &[("x", "q\"\\\n")]), Some(1.0));
    for bad in [
        "a_total 1\n",                                                                    // no TYPE
        "# TYPE a counter\na{1x=\"v\"} 1\n",                                              // bad label name
        "# TYPE a counter\na{x=\"v\\t\"} 1\n",                                            // bad escape
        "# TYPE a counter\na 1 2 3\n",                                                    // trailing field
        "# TYPE a counter\na one\n",                                                      // bad value
        "# TYPE a counter\n# TYPE b counter\na 1\n",                                      // not contiguous
        "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n", // not cumulative
        "# TYPE a counter\na 1",                                                          // no final newline
        "# EOF\n",                                                                        // OpenMetrics, not 0.0.4
    ] {
        assert!(parse(bad).is_err(), "{bad:?} was accepted");
    }
}
