//! A minimal ELBv2 client (the AWS Query protocol: a form POSTed to `/`, XML answers), unsigned
//! as Berth accepts it: what the proxy benchmark needs and nothing more.

use anyhow::{bail, Context};

/// ELBv2's API version, which names the service of an unsigned Query request.
const API_VERSION: &str = "2015-12-01";

#[derive(Clone)]
pub struct ElbClient {
    http: reqwest::Client,
    endpoint: String,
}

impl ElbClient {
    pub fn new(endpoint: &str) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder().no_proxy().tcp_nodelay(true).build()?;
        Ok(ElbClient { http, endpoint: format!("{}/", endpoint.trim_end_matches('/')) })
    }

    /// Calls `action` with `parameters` (wire keys such as `Targets.member.1.Id`) and returns
    /// the XML answer; an AWS error becomes an `Err`.
    pub async fn call(&self, action: &str, parameters: &[(&str, String)]) -> anyhow::Result<String> {
        let mut body = format!("Action={action}&Version={API_VERSION}");
        for (key, value) in parameters {
            body.push('&');
            body.push_str(&form_encode(key));
            body.push('=');
            body.push_str(&form_encode(value));
        }
        let response = self
            .http
            .post(&self.endpoint)
            .header("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
            .body(body)
            .send()
            .await
            .with_context(|| format!("{action}: no answer from {}", self.endpoint))?;
        let status = response.status();
        let text = response.text().await?;
        if !status.is_success() {
            bail!("{action} failed ({status}): {}", element(&text, "Message").unwrap_or(&text));
        }
        Ok(text)
    }
}

/// `application/x-www-form-urlencoded`: unreserved characters as they are, the rest as %XX.
fn form_encode(value: &str) -> String {
    let mut encoded = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// The text of the first `<name>…</name>` element (the answers Berth writes have no
/// attributes on these elements and escape nothing the benchmark reads).
pub fn element<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    let open = format!("<{name}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{name}>"))? + start;
    Some(&xml[start..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_and_reads() {
        assert_eq!(form_encode("arn:aws:x/y z"), "arn%3Aaws%3Ax%2Fy%20z");
        let xml = "<R><TargetHealth><State>healthy</State></TargetHealth><Message>m</Message></R>";
        assert_eq!(element(xml, "TargetHealth").and_then(|health| element(health, "State")), Some("healthy"));
        assert_eq!(element(xml, "Missing"), None);
    }
}
