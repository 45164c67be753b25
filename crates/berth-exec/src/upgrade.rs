//! The client side of a session stream's HTTP/1.1 upgrade, over a plain TCP connection: send
//! `GET path` with `Upgrade: berth-exec` and the token, expect `101 Switching Protocols`, and
//! hand back the connection, which from then on carries frames.
//!
//! Invariant: the returned stream starts exactly after the response's header block; bytes the
//! server sent after it are kept in the buffer, never dropped.

use crate::{TOKEN_HEADER, UPGRADE_PROTOCOL};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// A connection whose upgrade succeeded.
pub type SessionStream = BufReader<TcpStream>;

#[derive(Debug, thiserror::Error)]
pub enum DialError {
    #[error("the stream URL {0:?} is not an http:// URL")]
    BadUrl(String),
    #[error("cannot connect to {address}: {source}")]
    Connect {
        address: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the server refused the session stream ({status}): {message}")]
    Refused { status: u16, message: String },
    #[error("the session stream broke during the upgrade: {0}")]
    Io(#[from] std::io::Error),
}

/// `http://host:port/path` → (`host:port`, `/path`).
pub fn split_url(url: &str) -> Result<(String, String), DialError> {
    let rest = url.strip_prefix("http://").ok_or_else(|| DialError::BadUrl(url.to_string()))?;
    let (authority, path) = match rest.find('/') {
        Some(index) => (&rest[..index], &rest[index..]),
        None => (rest, "/"),
    };
    if authority.is_empty() {
        return Err(DialError::BadUrl(url.to_string()));
    }
    let address = if authority.contains(':') { authority.to_string() } else { format!("{authority}:80") };
    Ok((address, path.to_string()))
}

/// Opens the session stream at `url`, presenting `token`.
pub async fn dial(url: &str, token: &str) -> Result<SessionStream, DialError> {
    let (address, path) = split_url(url)?;
    let connection =
        TcpStream::connect(&address).await.map_err(|source| DialError::Connect { address: address.clone(), source })?;
    // Keystrokes are tiny writes; Nagle would hold each one back for an acknowledgement.
    connection.set_nodelay(true)?;
    let mut stream = BufReader::new(connection);
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: Upgrade\r\nUpgrade: {UPGRADE_PROTOCOL}\r\n{TOKEN_HEADER}: {token}\r\n\r\n"
    );
    stream.get_mut().write_all(request.as_bytes()).await?;
    let mut status_line = String::new();
    stream.read_line(&mut status_line).await?;
    let status: u16 = status_line.split_whitespace().nth(1).and_then(|code| code.parse().ok()).unwrap_or(0);
    let mut content_length = 0usize;
    loop {
        let mut line = String::new();
        if stream.read_line(&mut line).await? == 0 {
            return Err(DialError::Io(std::io::ErrorKind::UnexpectedEof.into()));
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.trim().eq_ignore_ascii_case("content-length") {
                content_length = value.trim().parse().unwrap_or(0);
            }
        }
    }
    if status != 101 {
        let mut body = vec![0u8; content_length.min(64 * 1024)];
        let _ = stream.read_exact(&mut body).await;
        return Err(DialError::Refused { status, message: String::from_utf8_lossy(&body).trim().to_string() });
    }
    Ok(stream)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_into_address_and_path() {
        let (address, path) = split_url("http://127.0.0.1:8080/exec/v1/sessions/abc").unwrap();
        assert_eq!((address.as_str(), path.as_str()), ("127.0.0.1:8080", "/exec/v1/sessions/abc"));
        assert_eq!(split_url("http://example/").unwrap().0, "example:80");
        assert!(split_url("wss://example/").is_err());
        assert!(split_url("http:///path").is_err());
    }
}
