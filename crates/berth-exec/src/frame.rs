//! The frames of a session stream: one kind byte, a big-endian `u32` payload length, the
//! payload. Both directions use the same framing; which kinds flow which way is fixed:
//! client → agent `Start`, `Stdin`, `StdinClosed`, `Resize`; agent → client `Stdout`,
//! `Stderr`, `Exit`, `Error`.
//!
//! Invariant: a reader never allocates more than [`MAX_PAYLOAD`] for one frame, and an unknown
//! kind or a truncated frame is an error, never a guess.

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The largest payload a frame may carry (output is chunked well below it).
pub const MAX_PAYLOAD: usize = 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// The client is attached: start the command with this terminal size (rows, columns;
    /// 0 when there is no terminal).
    Start {
        rows: u16,
        columns: u16,
    },
    Stdin(Vec<u8>),
    /// The client's standard input reached its end.
    StdinClosed,
    Resize {
        rows: u16,
        columns: u16,
    },
    Stdout(Vec<u8>),
    Stderr(Vec<u8>),
    /// The command ended with this exit code; the last frame of a session.
    Exit(i64),
    /// The session failed before or while running the command; the last frame.
    Error(String),
}

const START: u8 = 1;
const STDIN: u8 = 2;
const STDIN_CLOSED: u8 = 3;
const RESIZE: u8 = 4;
const STDOUT: u8 = 5;
const STDERR: u8 = 6;
const EXIT: u8 = 7;
const ERROR: u8 = 8;

impl Frame {
    pub fn encode(&self) -> Vec<u8> {
        let (kind, payload): (u8, Vec<u8>) = match self {
            Frame::Start { rows, columns } => (START, size_payload(*rows, *columns)),
            Frame::Stdin(bytes) => (STDIN, bytes.clone()),
            Frame::StdinClosed => (STDIN_CLOSED, vec![]),
            Frame::Resize { rows, columns } => (RESIZE, size_payload(*rows, *columns)),
            Frame::Stdout(bytes) => (STDOUT, bytes.clone()),
            Frame::Stderr(bytes) => (STDERR, bytes.clone()),
            Frame::Exit(code) => (EXIT, code.to_be_bytes().to_vec()),
            Frame::Error(message) => (ERROR, message.as_bytes().to_vec()),
        };
        let mut encoded = Vec::with_capacity(5 + payload.len());
        encoded.push(kind);
        encoded.extend_from_slice(&(payload.len() as u32).to_be_bytes());
        encoded.extend_from_slice(&payload);
        encoded
    }

    fn decode(kind: u8, payload: Vec<u8>) -> std::io::Result<Frame> {
        let size = |payload: &[u8]| -> std::io::Result<(u16, u16)> {
            match payload {
                [r0, r1, c0, c1] => Ok((u16::from_be_bytes([*r0, *r1]), u16::from_be_bytes([*c0, *c1]))),
                _ => Err(invalid("a size frame carries 4 bytes")),
            }
        };
        Ok(match kind {
            START => {
                let (rows, columns) = size(&payload)?;
                Frame::Start { rows, columns }
            }
            STDIN => Frame::Stdin(payload),
            STDIN_CLOSED => Frame::StdinClosed,
            RESIZE => {
                let (rows, columns) = size(&payload)?;
                Frame::Resize { rows, columns }
            }
            STDOUT => Frame::Stdout(payload),
            STDERR => Frame::Stderr(payload),
            EXIT => {
                let bytes: [u8; 8] = payload.try_into().map_err(|_| invalid("an exit frame carries 8 bytes"))?;
                Frame::Exit(i64::from_be_bytes(bytes))
            }
            ERROR => Frame::Error(String::from_utf8_lossy(&payload).into_owned()),
            other => return Err(invalid(&format!("unknown frame kind {other}"))),
        })
    }
}

fn size_payload(rows: u16, columns: u16) -> Vec<u8> {
    let mut payload = rows.to_be_bytes().to_vec();
    payload.extend_from_slice(&columns.to_be_bytes());
    payload
}

fn invalid(message: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, message.to_string())
}

/// Reads one frame; `None` when the stream ended cleanly between frames.
pub async fn read_frame<R: AsyncRead + Unpin>(reader: &mut R) -> std::io::Result<Option<Frame>> {
    let mut header = [0u8; 5];
    match reader.read_exact(&mut header[..1]).await {
        Ok(_) => {}
        Err(error) if error.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(error) => return Err(error),
    }
    reader.read_exact(&mut header[1..]).await?;
    let length = u32::from_be_bytes([header[1], header[2], header[3], header[4]]) as usize;
    if length > MAX_PAYLOAD {
        return Err(invalid(&format!("frame of {length} bytes exceeds the limit of {MAX_PAYLOAD}")));
    }
    let mut payload = vec![0u8; length];
    reader.read_exact(&mut payload).await?;
    Frame::decode(header[0], payload).map(Some)
}

/// Writes one frame and flushes it, so that interactive keystrokes are never held back.
pub async fn write_frame<W: AsyncWrite + Unpin>(writer: &mut W, frame: &Frame) -> std::io::Result<()> {
    writer.write_all(&frame.encode()).await?;
    writer.flush().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_kind_round_trips_and_a_clean_end_is_none() {
        let frames = vec![
            Frame::Start { rows: 24, columns: 80 },
            Frame::Stdin(b"ls\n".to_vec()),
            Frame::StdinClosed,
            Frame::Resize { rows: 50, columns: 132 },
            Frame::Stdout(b"hi\n".to_vec()),
            Frame::Stderr(vec![]),
            Frame::Exit(-3),
            Frame::Error("agent went away".to_string()),
        ];
        let bytes: Vec<u8> = frames.iter().flat_map(Frame::encode).collect();
        let mut reader = bytes.as_slice();
        for expected in &frames {
            assert_eq!(read_frame(&mut reader).await.unwrap().as_ref(), Some(expected));
        }
        assert_eq!(read_frame(&mut reader).await.unwrap(), None);
    }

    #[tokio::test]
    async fn unknown_kinds_truncation_and_huge_lengths_are_errors() {
        assert!(read_frame(&mut [99u8, 0, 0, 0, 0].as_slice()).await.is_err());
        assert!(read_frame(&mut [STDOUT, 0, 0, 0, 9, b'x'].as_slice()).await.is_err());
        assert!(read_frame(&mut [STDOUT, 0xff, 0xff, 0xff, 0xff].as_slice()).await.is_err());
        assert!(read_frame(&mut [EXIT, 0, 0, 0, 1, 0].as_slice()).await.is_err());
    }
}
