//! Pure matching of one request against a rule's conditions, with ALB's semantics: the
//! conditions of a rule are ANDed, the values inside one condition ORed; `*` matches any run of
//! characters and `?` exactly one; paths and methods are case-sensitive, hosts, header values and
//! query strings are not. No I/O and no allocation per request here: this is the hot path.

use berth_proxy_protocol::{Condition, QueryStringPair};
use hyper::header::{HeaderMap, HeaderName};
use std::net::IpAddr;
use std::str::FromStr;

/// What the conditions look at, borrowed from the request.
pub struct RequestView<'a> {
    pub method: &'a str,
    /// Without the query string.
    pub path: &'a str,
    /// The Host header (or HTTP/2 authority) without its port.
    pub host: &'a str,
    pub query: Option<&'a str>,
    pub headers: &'a HeaderMap,
    pub peer: IpAddr,
}

/// A condition parsed once per document, so that matching does no parsing.
#[derive(Debug, Clone)]
pub enum CompiledCondition {
    Path(Vec<String>),
    Host(Vec<String>),
    Header { name: HeaderName, values: Vec<String> },
    Method(Vec<String>),
    Query(Vec<QueryStringPair>),
    SourceIp(Vec<Cidr>),
}

impl CompiledCondition {
    /// `None` when the condition cannot be compiled (the control plane validated it, so this only
    /// guards against a malformed document: such a condition never matches).
    pub fn compile(condition: &Condition) -> Option<Self> {
        Some(match condition {
            Condition::PathPattern(values) => Self::Path(values.clone()),
            Condition::HostHeader(values) => Self::Host(values.clone()),
            Condition::HttpHeader { name, values } => {
                Self::Header { name: HeaderName::from_str(name).ok()?, values: values.clone() }
            }
            Condition::HttpRequestMethod(values) => Self::Method(values.clone()),
            Condition::QueryString(pairs) => Self::Query(pairs.clone()),
            Condition::SourceIp(blocks) => {
                Self::SourceIp(blocks.iter().map(|block| Cidr::parse(block)).collect::<Option<Vec<_>>>()?)
            }
        })
    }

    pub fn matches(&self, request: &RequestView<'_>) -> bool {
        match self {
            Self::Path(patterns) => patterns.iter().any(|pattern| wildcard_match(pattern, request.path, false)),
            Self::Host(patterns) => patterns.iter().any(|pattern| wildcard_match(pattern, request.host, true)),
            Self::Header { name, values } => request.headers.get_all(name).iter().any(|value| {
                let Ok(value) = value.to_str() else { return false };
                values.iter().any(|pattern| wildcard_match(pattern, value, true))
            }),
            Self::Method(methods) => methods.iter().any(|method| method == request.method),
            Self::Query(pairs) => {
                let Some(query) = request.query else { return false };
                query_pairs(query).any(|(key, value)| {
                    pairs.iter().any(|pair| {
                        pair.key.as_deref().is_none_or(|pattern| wildcard_match(pattern, key, true))
                            && wildcard_match(&pair.value, value, true)
                    })
                })
            }
            Self::SourceIp(blocks) => blocks.iter().any(|block| block.contains(request.peer)),
        }
    }
}

/// All conditions match (an empty list, the default rule's, always matches).
pub fn all_match(conditions: &[CompiledCondition], request: &RequestView<'_>) -> bool {
    conditions.iter().all(|condition| condition.matches(request))
}

fn query_pairs(query: &str) -> impl Iterator<Item = (&str, &str)> {
    query.split('&').filter(|pair| !pair.is_empty()).map(|pair| pair.split_once('=').unwrap_or((pair, "")))
}

/// ALB's pattern match: `*` any run of characters (also none), `?` exactly one character.
/// ASCII text (nearly every request) is matched on bytes without allocating; other text on
/// chars, so that `?` still means one character.
pub fn wildcard_match(pattern: &str, text: &str, ignore_case: bool) -> bool {
    if pattern.is_ascii() && text.is_ascii() {
        let same = |a: u8, b: u8| if ignore_case { a.eq_ignore_ascii_case(&b) } else { a == b };
        return match_slices(pattern.as_bytes(), text.as_bytes(), same, b'*', b'?');
    }
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    let same = |a: char, b: char| if ignore_case { a.to_lowercase().eq(b.to_lowercase()) } else { a == b };
    match_slices(&pattern, &text, same, '*', '?')
}

/// Greedy match with one backtrack point (the last star), which is enough for `*` and `?`
/// and stays linear in practice.
fn match_slices<T: Copy + PartialEq>(pattern: &[T], text: &[T], same: impl Fn(T, T) -> bool, star: T, one: T) -> bool {
    let (mut p, mut t) = (0usize, 0usize);
    let mut last_star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && pattern[p] != star && (pattern[p] == one || same(pattern[p], text[t])) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == star {
            last_star = Some((p, t));
            p += 1;
        } else if let Some((star_p, star_t)) = last_star {
            p = star_p + 1;
            t = star_t + 1;
            last_star = Some((star_p, star_t + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|c| *c == star)
}

/// The Host header without its port (`[::1]:8080` → `[::1]`, `example.com:80` → `example.com`).
pub fn host_without_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host.find(']').map_or(host, |end| &host[..=end]);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if !name.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

/// An IPv4 or IPv6 CIDR block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix_len: u8,
}

impl Cidr {
    /// `10.0.0.0/8`, `2001:db8::/32`; a bare address is a /32 or /128.
    pub fn parse(text: &str) -> Option<Self> {
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let network = IpAddr::from_str(address.trim()).ok()?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix_len = match prefix {
            Some(prefix) => prefix.trim().parse::<u8>().ok().filter(|len| *len <= max)?,
            None => max,
        };
        Some(Self { network, prefix_len })
    }

    pub fn contains(&self, address: IpAddr) -> bool {
        // An IPv4 client may reach a dual-stack socket as an IPv4-mapped IPv6 address.
        let address = match address {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
            v4 => v4,
        };
        match (self.network, address) {
            (IpAddr::V4(network), IpAddr::V4(address)) => {
                let mask = if self.prefix_len == 0 { 0 } else { u32::MAX << (32 - u32::from(self.prefix_len)) };
                u32::from(network) & mask == u32::from(address) & mask
            }
            (IpAddr::V6(network), IpAddr::V6(address)) => {
                let mask = if self.prefix_len == 0 { 0 } else { u128::MAX << (128 - u32::from(self.prefix_len)) };
                u128::from(network) & mask == u128::from(address) & mask
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view<'a>(headers: &'a HeaderMap, path: &'a str, host: &'a str, query: Option<&'a str>) -> RequestView<'a> {
        RequestView { method: "GET", path, host, query, headers, peer: "10.1.2.3".parse().unwrap() }
    }

    #[test]
    fn wildcards() {
        assert!(wildcard_match("/api/*", "/api/users/1", false));
        assert!(wildcard_match("/api/*", "/api/", false));
        assert!(!wildcard_match("/api/*", "/api", false));
        assert!(wildcard_match("*.example.com", "www.Example.COM", true));
        assert!(!wildcard_match("*.example.com", "example.com", true));
        assert!(wildcard_match("/v?/x", "/v1/x", false));
        assert!(!wildcard_match("/v?/x", "/v10/x", false));
        assert!(wildcard_match("*a*b*c", "xxaxxbxxbcc", false));
        assert!(!wildcard_match("/API", "/api", false));
        assert!(wildcard_match("*", "", false));
        assert!(!wildcard_match("?", "", false));
        assert!(wildcard_match("é?", "éx", false));
    }

    #[test]
    fn host_port_is_ignored() {
        assert_eq!(host_without_port("example.com:8080"), "example.com");
        assert_eq!(host_without_port("example.com"), "example.com");
        assert_eq!(host_without_port("[::1]:80"), "[::1]");
        assert_eq!(host_without_port("::1"), "::1");
    }

    #[test]
    fn cidr_blocks() {
        let block = Cidr::parse("10.0.0.0/8").unwrap();
        assert!(block.contains("10.255.0.1".parse().unwrap()));
        assert!(!block.contains("11.0.0.1".parse().unwrap()));
        assert!(block.contains("::ffff:10.0.0.1".parse().unwrap()));
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains("8.8.8.8".parse().unwrap()));
        let v6 = Cidr::parse("2001:db8::/32").unwrap();
        assert!(v6.contains("2001:db8:1::1".parse().unwrap()));
        assert!(!v6.contains("2001:db9::1".parse().unwrap()));
        assert!(!v6.contains("10.0.0.1".parse().unwrap()));
        assert!(Cidr::parse("10.0.0.0/33").is_none());
        assert!(Cidr::parse("banana/8").is_none());
        assert!(Cidr::parse("127.0.0.1").unwrap().contains("127.0.0.1".parse().unwrap()));
    }

    #[test]
    fn conditions_and_or() {
        let headers = HeaderMap::new();
        let request = view(&headers, "/api/x", "shop.example.com", Some("a=1&Color=Blue"));
        let path = CompiledCondition::compile(&Condition::PathPattern(vec!["/web".into(), "/api/*".into()])).unwrap();
        let host = CompiledCondition::compile(&Condition::HostHeader(vec!["*.EXAMPLE.com".into()])).unwrap();
        let other_host = CompiledCondition::compile(&Condition::HostHeader(vec!["other.com".into()])).unwrap();
        assert!(all_match(&[path.clone(), host.clone()], &request));
        assert!(!all_match(&[path, other_host], &request));
        assert!(all_match(&[], &request));
        let query = CompiledCondition::compile(&Condition::QueryString(vec![QueryStringPair {
            key: Some("color".into()),
            value: "bl*".into(),
        }]))
        .unwrap();
        assert!(query.matches(&request));
        let any_key =
            CompiledCondition::compile(&Condition::QueryString(vec![QueryStringPair { key: None, value: "1".into() }]))
                .unwrap();
        assert!(any_key.matches(&request));
        let method = CompiledCondition::compile(&Condition::HttpRequestMethod(vec!["get".into()])).unwrap();
        assert!(!method.matches(&request), "methods are case-sensitive");
        let source = CompiledCondition::compile(&Condition::SourceIp(vec!["10.1.0.0/16".into()])).unwrap();
        assert!(source.matches(&request));
    }

    #[test]
    fn header_condition() {
        let mut headers = HeaderMap::new();
        headers.insert("user-agent", "Mozilla/5.0 Mobile".parse().unwrap());
        let request = view(&headers, "/", "h", None);
        let condition = CompiledCondition::compile(&Condition::HttpHeader {
            name: "User-Agent".into(),
            values: vec!["*mobile*".into()],
        })
        .unwrap();
        assert!(condition.matches(&request));
    }
}
