//! From a pattern's JSON text to its [`Node`]s, refusing what EventBridge refuses.

use crate::condition::{AnythingBut, Comparison, Condition, Literal, Text};
use crate::{Field, Node, Pattern, PatternError};
use serde_json::{Map, Value};

fn refuse<T>(reason: impl Into<String>) -> Result<T, PatternError> {
    Err(PatternError(reason.into()))
}

pub(crate) fn pattern(text: &str) -> Result<Pattern, PatternError> {
    let value: Value =
        serde_json::from_str(text).map_err(|error| PatternError(format!("Filter is not valid JSON: {error}")))?;
    let Value::Object(object) = value else {
        return refuse("Filter is not an object");
    };
    if object.is_empty() {
        return refuse("Empty objects are not allowed");
    }
    Ok(Pattern { root: node(&object)? })
}

fn node(object: &Map<String, Value>) -> Result<Node, PatternError> {
    let mut node = Node::default();
    for (name, value) in object {
        if name == "$or" {
            node.any_of.push(alternatives(value)?);
            continue;
        }
        let field = match value {
            Value::Object(inner) if inner.is_empty() => {
                return refuse(format!("Empty objects are not allowed (\"{name}\")"))
            }
            Value::Object(inner) => Field::Nested(self::node(inner)?),
            Value::Array(items) if items.is_empty() => {
                return refuse(format!("Empty arrays are not allowed (\"{name}\")"))
            }
            Value::Array(items) => {
                Field::Conditions(items.iter().map(|item| condition(name, item)).collect::<Result<_, _>>()?)
            }
            _ => {
                return refuse(format!(
                "Match value must be String, number, true, false, or null (\"{name}\" is not an array or an object)"
            ))
            }
        };
        node.fields.push((name.clone(), field));
    }
    Ok(node)
}

fn alternatives(value: &Value) -> Result<Vec<Node>, PatternError> {
    let Value::Array(items) = value else {
        return refuse("\"$or\" must be an array of objects");
    };
    if items.len() < 2 {
        return refuse("\"$or\" needs at least two alternatives");
    }
    items
        .iter()
        .map(|item| match item {
            Value::Object(object) if !object.is_empty() => node(object),
            _ => refuse("\"$or\" must be an array of non-empty objects"),
        })
        .collect()
}

fn literal(value: &Value) -> Option<Literal> {
    Some(match value {
        Value::String(text) => Literal::Text(text.clone()),
        Value::Number(number) => Literal::Number(number.as_f64()?),
        Value::Bool(flag) => Literal::Bool(*flag),
        Value::Null => Literal::Null,
        _ => return None,
    })
}

fn condition(field: &str, value: &Value) -> Result<Condition, PatternError> {
    if let Some(literal) = literal(value) {
        return Ok(Condition::Exact(literal));
    }
    let Value::Object(object) = value else {
        return refuse(format!("Match value must be String, number, true, false, or null (in \"{field}\")"));
    };
    let mut entries = object.iter();
    let (Some((kind, argument)), None) = (entries.next(), entries.next()) else {
        return refuse(format!("A match object in \"{field}\" must have exactly one key"));
    };
    match kind.as_str() {
        "prefix" => Ok(Condition::Prefix(text(kind, argument)?)),
        "suffix" => Ok(Condition::Suffix(text(kind, argument)?)),
        "equals-ignore-case" => Ok(Condition::EqualsIgnoreCase(string(kind, argument)?.to_lowercase())),
        "wildcard" => Ok(Condition::Wildcard(wildcard(argument)?)),
        "anything-but" => Ok(Condition::AnythingBut(anything_but(argument)?)),
        "numeric" => numeric(argument),
        "exists" => match argument {
            Value::Bool(wanted) => Ok(Condition::Exists(*wanted)),
            _ => refuse("exists match pattern must be either true or false."),
        },
        "cidr" => cidr(argument),
        other => refuse(format!("Unrecognized match type {other}")),
    }
}

fn string<'v>(kind: &str, value: &'v Value) -> Result<&'v str, PatternError> {
    value.as_str().ok_or_else(|| PatternError(format!("{kind} match pattern must be a string")))
}

/// A `prefix` or `suffix` argument: a string, or `{"equals-ignore-case": string}`.
fn text(kind: &str, value: &Value) -> Result<Text, PatternError> {
    if let Value::Object(object) = value {
        if let (1, Some(inner)) = (object.len(), object.get("equals-ignore-case")) {
            return Ok(Text { value: string(kind, inner)?.to_lowercase(), ignore_case: true });
        }
        return refuse(format!("Unsupported {kind} pattern"));
    }
    Ok(Text { value: string(kind, value)?.to_string(), ignore_case: false })
}

fn wildcard(value: &Value) -> Result<String, PatternError> {
    let glob = string("wildcard", value)?;
    if glob.contains("**") {
        return refuse("Consecutive wildcard characters at pos are not allowed");
    }
    Ok(glob.to_string())
}

fn anything_but(value: &Value) -> Result<AnythingBut, PatternError> {
    match value {
        Value::Array(items) => {
            let literals: Option<Vec<Literal>> = items
                .iter()
                .map(|item| literal(item).filter(|literal| matches!(literal, Literal::Text(_) | Literal::Number(_))))
                .collect();
            match literals {
                Some(literals) if !literals.is_empty() => Ok(AnythingBut::Literals(literals)),
                _ => refuse("Inside anything but list, start|null|boolean is not supported."),
            }
        }
        Value::Object(object) => {
            let mut entries = object.iter();
            let (Some((kind, argument)), None) = (entries.next(), entries.next()) else {
                return refuse("Unsupported anything-but pattern");
            };
            let strings = |argument: &Value| -> Result<Vec<String>, PatternError> {
                match argument {
                    Value::String(text) => Ok(vec![text.clone()]),
                    Value::Array(items) if !items.is_empty() => items
                        .iter()
                        .map(|item| {
                            item.as_str()
                                .map(str::to_string)
                                .ok_or_else(|| PatternError(format!("{kind} list must hold strings")))
                        })
                        .collect(),
                    _ => refuse(format!("{kind} inside anything-but must be a string or a list of strings")),
                }
            };
            match kind.as_str() {
                "prefix" => Ok(AnythingBut::Prefix(string(kind, argument)?.to_string())),
                "suffix" => Ok(AnythingBut::Suffix(string(kind, argument)?.to_string())),
                "equals-ignore-case" => Ok(AnythingBut::EqualsIgnoreCase(
                    strings(argument)?.iter().map(|text| text.to_lowercase()).collect(),
                )),
                "wildcard" => Ok(AnythingBut::Wildcard(strings(argument)?)),
                other => refuse(format!("Unsupported anything-but pattern: {other}")),
            }
        }
        other => match literal(other) {
            Some(literal @ (Literal::Text(_) | Literal::Number(_))) => Ok(AnythingBut::Literals(vec![literal])),
            _ => refuse("Inside anything but list, start|null|boolean is not supported."),
        },
    }
}

fn numeric(value: &Value) -> Result<Condition, PatternError> {
    let Value::Array(items) = value else {
        return refuse("Value of numeric must be an array.");
    };
    if items.is_empty() || items.len() % 2 != 0 || items.len() > 4 {
        return refuse("Value of numeric must be an array of one or two comparisons.");
    }
    let mut comparisons = Vec::new();
    for pair in items.chunks(2) {
        let comparison = match pair[0].as_str() {
            Some("<") => Comparison::Less,
            Some("<=") => Comparison::LessOrEqual,
            Some("=") => Comparison::Equal,
            Some(">=") => Comparison::GreaterOrEqual,
            Some(">") => Comparison::Greater,
            _ => return refuse(format!("Unrecognized numeric range operator: {}", pair[0])),
        };
        let Some(bound) = pair[1].as_f64() else {
            return refuse(format!("Value of {} must be numeric", pair[0]));
        };
        comparisons.push((comparison, bound));
    }
    if comparisons.len() == 2 && comparisons.iter().any(|(comparison, _)| *comparison == Comparison::Equal) {
        return refuse("\"=\" cannot be combined with another comparison");
    }
    Ok(Condition::Numeric(comparisons))
}

fn cidr(value: &Value) -> Result<Condition, PatternError> {
    let text = string("cidr", value)?;
    let invalid = || PatternError(format!("Malformed CIDR, one '/' required: {text}"));
    let (address, bits) = text.split_once('/').ok_or_else(invalid)?;
    let address: std::net::Ipv4Addr = address.parse().map_err(|_| invalid())?;
    let bits: u32 = bits.parse().ok().filter(|bits| *bits <= 32).ok_or_else(invalid)?;
    let mask = if bits == 0 { 0 } else { u32::MAX << (32 - bits) };
    Ok(Condition::Cidr { network: u32::from(address) & mask, mask })
}
