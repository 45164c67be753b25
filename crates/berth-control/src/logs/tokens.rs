//! Paging tokens. GetLogEvents' are `f/…` (events after a key) and `b/…` (events before a
//! key) followed by digits, as CloudWatch's look; FilterLogEvents' name the last event
//! returned. Clients treat both as opaque.

use super::LogsError;
use berth_log_store::EventKey;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamToken {
    /// Events with a key after this one.
    After(EventKey),
    /// Events with a key before this one.
    Before(EventKey),
}

fn digits(key: EventKey) -> String {
    // Timestamps before 1970 are not accepted by PutLogEvents; shifting keeps them sortable anyway.
    format!("{:020}{:020}", (key.timestamp as u64) ^ (1 << 63), key.sequence)
}

fn key_of(digits: &str) -> Option<EventKey> {
    if digits.len() != 40 || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    let timestamp = (digits[..20].parse::<u64>().ok()? ^ (1 << 63)) as i64;
    Some(EventKey { timestamp, sequence: digits[20..].parse().ok()? })
}

impl StreamToken {
    pub fn render(self) -> String {
        match self {
            StreamToken::After(key) => format!("f/{}", digits(key)),
            StreamToken::Before(key) => format!("b/{}", digits(key)),
        }
    }

    pub fn parse(token: &str) -> Result<StreamToken, LogsError> {
        let invalid = || LogsError::invalid("The specified nextToken is invalid.");
        let (direction, rest) = token.split_once('/').ok_or_else(invalid)?;
        let key = key_of(rest).ok_or_else(invalid)?;
        match direction {
            "f" => Ok(StreamToken::After(key)),
            "b" => Ok(StreamToken::Before(key)),
            _ => Err(invalid()),
        }
    }
}

/// FilterLogEvents' token: the (timestamp, stream number, arrival) of the last event returned.
pub fn render_filter_token(after: (i64, u64, u64)) -> String {
    format!("{}-{}-{}", after.0, after.1, after.2)
}

pub fn parse_filter_token(token: &str) -> Result<(i64, u64, u64), LogsError> {
    let invalid = || LogsError::invalid("The specified nextToken is invalid.");
    let mut parts = token.splitn(3, '-');
    let mut next = || parts.next().ok_or_else(invalid);
    let timestamp = next()?.parse().map_err(|_| invalid())?;
    let stream = next()?.parse().map_err(|_| invalid())?;
    let sequence = next()?.parse().map_err(|_| invalid())?;
    Ok((timestamp, stream, sequence))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_bad_ones_are_refused() {
        for key in [EventKey { timestamp: 1_700_000_000_123, sequence: 42 }, EventKey::MIN, EventKey::MAX] {
            assert_eq!(StreamToken::parse(&StreamToken::After(key).render()).unwrap(), StreamToken::After(key));
            assert_eq!(StreamToken::parse(&StreamToken::Before(key).render()).unwrap(), StreamToken::Before(key));
        }
        assert!(StreamToken::After(EventKey::MIN).render().starts_with("f/"));
        for bad in ["", "f/", "x/0000", "f/12ab", "b"] {
            assert!(StreamToken::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_filter_token(&render_filter_token((5, 6, 7))).unwrap(), (5, 6, 7));
        assert!(parse_filter_token("5-6").is_err());
    }
}
