//! ALB's redirect action: each part of the target URL may use `#{protocol}`, `#{host}`,
//! `#{port}`, `#{path}` and `#{query}`, which stand for the request's own parts; empty parts
//! keep the request's (the defaults). `#{path}` is the request path without its leading slash
//! (ALB's default path is `/#{path}`), `#{query}` the query string without `?`.

/// The request's parts that substitutions refer to.
pub struct RedirectSource<'a> {
    /// "HTTP" or "HTTPS" (ALB's spelling).
    pub protocol: &'a str,
    pub host: &'a str,
    pub port: u16,
    pub path: &'a str,
    pub query: Option<&'a str>,
}

/// The redirect as configured.
pub struct RedirectTemplate<'a> {
    pub protocol: &'a str,
    pub port: &'a str,
    pub host: &'a str,
    pub path: &'a str,
    pub query: &'a str,
}

/// The `Location` of the redirect.
pub fn redirect_location(template: &RedirectTemplate<'_>, source: &RedirectSource<'_>) -> String {
    let port_text = source.port.to_string();
    let path_text = source.path.strip_prefix('/').unwrap_or(source.path);
    let query_text = source.query.unwrap_or("");
    let substitute = |part: &str, default: &str| -> String {
        let part = if part.is_empty() { default } else { part };
        part.replace("#{protocol}", source.protocol)
            .replace("#{host}", source.host)
            .replace("#{port}", &port_text)
            .replace("#{path}", path_text)
            .replace("#{query}", query_text)
    };
    let scheme = substitute(template.protocol, "#{protocol}").to_ascii_lowercase();
    let host = substitute(template.host, "#{host}");
    let port = substitute(template.port, "#{port}");
    let mut path = substitute(template.path, "/#{path}");
    if !path.starts_with('/') {
        path.insert(0, '/');
    }
    let query = substitute(template.query, "#{query}");
    let default_port = match scheme.as_str() {
        "https" => "443",
        _ => "80",
    };
    let mut location = format!("{scheme}://{host}");
    if port != default_port {
        location.push(':');
        location.push_str(&port);
    }
    location.push_str(&path);
    if !query.is_empty() {
        location.push('?');
        location.push_str(&query);
    }
    location
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source() -> RedirectSource<'static> {
        RedirectSource { protocol: "HTTP", host: "example.com", port: 80, path: "/a/b", query: Some("x=1") }
    }

    #[test]
    fn http_to_https_keeps_the_rest() {
        let template =
            RedirectTemplate { protocol: "HTTPS", port: "443", host: "#{host}", path: "/#{path}", query: "#{query}" };
        assert_eq!(redirect_location(&template, &source()), "https://example.com/a/b?x=1");
    }

    #[test]
    fn empty_parts_are_the_defaults() {
        let template = RedirectTemplate { protocol: "", port: "", host: "", path: "", query: "" };
        assert_eq!(redirect_location(&template, &source()), "http://example.com/a/b?x=1");
    }

    #[test]
    fn substitutions_inside_parts() {
        let template = RedirectTemplate {
            protocol: "#{protocol}",
            port: "8443",
            host: "new.#{host}",
            path: "/v2/#{path}/end",
            query: "from=#{port}&#{query}",
        };
        assert_eq!(redirect_location(&template, &source()), "http://new.example.com:8443/v2/a/b/end?from=80&x=1");
    }

    #[test]
    fn no_query_leaves_no_question_mark() {
        let mut from = source();
        from.query = None;
        let template = RedirectTemplate { protocol: "", port: "", host: "", path: "/fixed", query: "" };
        assert_eq!(redirect_location(&template, &from), "http://example.com/fixed");
    }
}
