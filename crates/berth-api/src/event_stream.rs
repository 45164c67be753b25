//! AWS's event stream framing (`application/vnd.amazon.eventstream`), for operations whose
//! answer is a stream of events: each message is a prelude (total and header lengths and
//! their CRC32), string headers, a payload and the CRC32 of all of it.

/// The header value type of a UTF-8 string.
const STRING_VALUE: u8 = 7;
/// Total length, header length and prelude CRC; the message CRC.
const FRAME_OVERHEAD: usize = 16;

/// One message with `headers` (name, string value) and `payload`.
pub fn message(headers: &[(&str, &str)], payload: &[u8]) -> Vec<u8> {
    let mut encoded_headers = Vec::new();
    for (name, value) in headers {
        encoded_headers.push(u8::try_from(name.len()).expect("header names are short"));
        encoded_headers.extend_from_slice(name.as_bytes());
        encoded_headers.push(STRING_VALUE);
        encoded_headers.extend_from_slice(&u16::try_from(value.len()).expect("header values are short").to_be_bytes());
        encoded_headers.extend_from_slice(value.as_bytes());
    }
    let total = FRAME_OVERHEAD + encoded_headers.len() + payload.len();
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&u32::try_from(total).expect("messages stay under 4 GiB").to_be_bytes());
    out.extend_from_slice(&(encoded_headers.len() as u32).to_be_bytes());
    out.extend_from_slice(&crc32fast::hash(&out).to_be_bytes());
    out.extend_from_slice(&encoded_headers);
    out.extend_from_slice(payload);
    out.extend_from_slice(&crc32fast::hash(&out).to_be_bytes());
    out
}

/// An event of type `event_type` whose payload is JSON.
pub fn json_event(event_type: &str, payload: &[u8]) -> Vec<u8> {
    message(&[(":message-type", "event"), (":event-type", event_type), (":content-type", "application/json")], payload)
}

/// A modelled exception of the stream, ending it.
pub fn json_exception(exception_type: &str, payload: &[u8]) -> Vec<u8> {
    message(
        &[(":message-type", "exception"), (":exception-type", exception_type), (":content-type", "application/json")],
        payload,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The layout AWS documents: lengths, CRCs over the prelude and over the whole message.
    #[test]
    fn a_message_frames_its_headers_and_payload() {
        let encoded = message(&[(":event-type", "x")], b"{}");
        let total = u32::from_be_bytes(encoded[0..4].try_into().unwrap()) as usize;
        let headers = u32::from_be_bytes(encoded[4..8].try_into().unwrap()) as usize;
        assert_eq!(total, encoded.len());
        assert_eq!(headers, 1 + 11 + 1 + 2 + 1);
        assert_eq!(u32::from_be_bytes(encoded[8..12].try_into().unwrap()), crc32fast::hash(&encoded[..8]));
        assert_eq!(&encoded[12 + headers..total - 4], b"{}");
        assert_eq!(
            u32::from_be_bytes(encoded[total - 4..].try_into().unwrap()),
            crc32fast::hash(&encoded[..total - 4])
        );
    }
}
