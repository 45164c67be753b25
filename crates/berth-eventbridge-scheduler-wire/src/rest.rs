//! REST-JSON's request side: which route a method and path name, the labels the path carries,
//! the query string, and the decoding of a whole request into its input shape.

use crate::{CheckRequired, DecodeError};
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;

/// One operation's HTTP binding (the model's `http` trait).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub operation: &'static str,
    pub method: &'static str,
    /// The URI template, e.g. `/schedules/{Name}`.
    pub uri: &'static str,
    /// The status of a successful answer.
    pub status: u16,
}

/// Where a located member is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Label,
    Query,
    Header,
}

/// What a request carries outside its body.
#[derive(Debug, Clone, Default)]
pub struct HttpParts {
    /// Path labels, percent-decoded.
    pub labels: BTreeMap<String, String>,
    /// Query parameters, decoded, each with every value it was given (in order).
    pub query: BTreeMap<String, Vec<String>>,
    /// Header values by lower-case name.
    pub headers: BTreeMap<String, String>,
}

/// Fills an input shape's members that travel outside the body (generated per input).
pub trait BindHttp {
    fn bind_http(&mut self, request: &HttpParts) -> Result<(), DecodeError>;
}

impl HttpParts {
    fn value(&self, source: Source, key: &str) -> Option<&str> {
        match source {
            Source::Label => self.labels.get(key).map(String::as_str),
            Source::Query => self.query.get(key).and_then(|values| values.first()).map(String::as_str),
            Source::Header => self.headers.get(&key.to_ascii_lowercase()).map(String::as_str),
        }
    }

    pub fn text(&self, source: Source, key: &str) -> Option<String> {
        self.value(source, key).map(str::to_string)
    }

    pub fn query_list(&self, key: &str) -> Option<Vec<String>> {
        self.query.get(key).cloned()
    }

    pub fn integer<T: TryFrom<i64>>(
        &self,
        source: Source,
        key: &str,
        min: Option<i64>,
        max: Option<i64>,
    ) -> Result<Option<T>, DecodeError> {
        let Some(text) = self.value(source, key) else { return Ok(None) };
        let value: i64 = text.parse().map_err(|_| DecodeError::invalid(key, format!("'{text}' is not an integer")))?;
        if min.is_some_and(|min| value < min) || max.is_some_and(|max| value > max) {
            let range = match (min, max) {
                (Some(min), Some(max)) => format!("between {min} and {max}"),
                (Some(min), None) => format!("at least {min}"),
                (None, Some(max)) => format!("at most {max}"),
                (None, None) => unreachable!("a range has a bound"),
            };
            return Err(DecodeError::invalid(key, format!("{value} must be {range}")));
        }
        T::try_from(value).map(Some).map_err(|_| DecodeError::invalid(key, format!("{value} is out of range")))
    }

    pub fn boolean(&self, source: Source, key: &str) -> Result<Option<bool>, DecodeError> {
        match self.value(source, key) {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(other) => Err(DecodeError::invalid(key, format!("'{other}' is not true or false"))),
        }
    }

    pub fn enumeration<T>(
        &self,
        source: Source,
        key: &str,
        parse: fn(&str) -> Option<T>,
        allowed: &[&str],
    ) -> Result<Option<T>, DecodeError> {
        let Some(text) = self.value(source, key) else { return Ok(None) };
        parse(text)
            .map(Some)
            .ok_or_else(|| DecodeError::invalid(key, format!("'{text}' is not one of [{}]", allowed.join(", "))))
    }
}

/// Percent-decodes one path segment or query component (`+` is a space only in queries).
pub fn percent_decode(text: &str, plus_is_space: bool) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'%' => {
                let hex = std::str::from_utf8(bytes.get(index + 1..index + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                index += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                index += 1;
            }
            byte => {
                out.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// The query string's parameters, decoded; `None` when one is not valid percent-encoding.
pub fn parse_query(query: &str) -> Option<BTreeMap<String, Vec<String>>> {
    let mut parameters: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        parameters.entry(percent_decode(key, true)?).or_default().push(percent_decode(value, true)?);
    }
    Some(parameters)
}

/// The route of `routes` that `method` and the raw (still percent-encoded) `path` name, with
/// its labels decoded. A label is one whole segment, so an encoded `/` (`%2F`, as in an ARN)
/// stays inside it.
pub fn match_route(
    routes: &'static [Route],
    method: &str,
    path: &str,
) -> Option<(&'static Route, BTreeMap<String, String>)> {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
    routes.iter().filter(|route| route.method == method).find_map(|route| {
        let template: Vec<&str> = route.uri.split('/').skip(1).collect();
        if template.len() != segments.len() {
            return None;
        }
        let mut labels = BTreeMap::new();
        for (pattern, segment) in template.iter().zip(&segments) {
            match pattern.strip_prefix('{').and_then(|rest| rest.strip_suffix('}')) {
                Some(label) => {
                    let value = percent_decode(segment, false)?;
                    if value.is_empty() {
                        return None;
                    }
                    labels.insert(label.to_string(), value);
                }
                None if pattern == segment => {}
                None => return None,
            }
        }
        Some((route, labels))
    })
}

/// Decodes a REST-JSON request: the body (empty means `{}`) as JSON, then the members bound to
/// the path, query string and headers, then the model's required members.
pub fn decode_rest_request<T: DeserializeOwned + CheckRequired + BindHttp + Default>(
    parts: &HttpParts,
    body: &[u8],
) -> Result<T, DecodeError> {
    let mut value: T = berth_ecs_wire::decode_request_unchecked(body)?;
    value.bind_http(parts)?;
    berth_ecs_wire::check_required(value)
}
