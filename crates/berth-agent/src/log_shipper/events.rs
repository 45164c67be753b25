//! Lines into events. Without a start pattern every non-empty line is one event; with one, a
//! line matching it begins a new event and the lines after it are appended to that event with
//! `"\n"` (Docker's awslogs grouping). No event exceeds CloudWatch Logs' size limit: a longer
//! line is split, and a continuation that would overflow its event begins the next one.
//!
//! An event carries the Docker timestamp of its *last* line: the server's position is that of
//! the last stored event, so an agent resuming from it re-reads no line of a stored event.

use regex::Regex;

/// CloudWatch Logs' largest event: 256 KiB including its 26 bytes of overhead.
pub const MAX_EVENT_BYTES: usize = 262_144 - 26;

/// One event ready to batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The Docker timestamp of the event's last line.
    pub source_ns: i64,
    pub message: String,
}

pub struct EventAssembler {
    start: Option<Regex>,
    pending: Option<Event>,
}

impl EventAssembler {
    pub fn new(start: Option<Regex>) -> Self {
        EventAssembler { start, pending: None }
    }

    /// Whether an event is held back waiting for continuation lines.
    pub fn has_pending(&self) -> bool {
        self.pending.is_some()
    }

    /// Takes one line (without its newline); hands every event it completes to `emit`.
    pub fn push(&mut self, source_ns: i64, line: Vec<u8>, emit: &mut impl FnMut(Event)) {
        let line = into_text(line);
        let Some(start) = &self.start else {
            split_into_events(source_ns, line, emit);
            return;
        };
        let begins = start.is_match(&line);
        match &mut self.pending {
            Some(pending) if !begins && pending.message.len() + 1 + line.len() <= MAX_EVENT_BYTES => {
                pending.message.push('\n');
                pending.message.push_str(&line);
                pending.source_ns = source_ns;
            }
            _ => {
                self.flush(emit);
                if line.len() > MAX_EVENT_BYTES {
                    split_into_events(source_ns, line, emit);
                } else {
                    self.pending = Some(Event { source_ns, message: line });
                }
            }
        }
    }

    /// Hands the held-back event, if any, to `emit`.
    pub fn flush(&mut self, emit: &mut impl FnMut(Event)) {
        if let Some(event) = self.pending.take() {
            if !event.message.is_empty() {
                emit(event);
            }
        }
    }
}

/// The line as text: UTF-8 as it is (no copy), anything else with replacement characters.
fn into_text(line: Vec<u8>) -> String {
    String::from_utf8(line).unwrap_or_else(|error| String::from_utf8_lossy(error.as_bytes()).into_owned())
}

/// One event per `MAX_EVENT_BYTES` of `line`, cut at character boundaries; none for an empty
/// line (CloudWatch Logs takes no empty events, and Docker's driver sends none).
fn split_into_events(source_ns: i64, line: String, emit: &mut impl FnMut(Event)) {
    if line.len() <= MAX_EVENT_BYTES {
        if !line.is_empty() {
            emit(Event { source_ns, message: line });
        }
        return;
    }
    let mut rest = line.as_str();
    while !rest.is_empty() {
        let mut cut = rest.len().min(MAX_EVENT_BYTES);
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        emit(Event { source_ns, message: rest[..cut].to_string() });
        rest = &rest[cut..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(start: Option<&str>, lines: &[&str]) -> Vec<(i64, String)> {
        let mut assembler = EventAssembler::new(start.map(|pattern| Regex::new(pattern).unwrap()));
        let mut events = Vec::new();
        let mut emit = |event: Event| events.push((event.source_ns, event.message));
        for (index, line) in lines.iter().enumerate() {
            assembler.push(index as i64 + 1, line.as_bytes().to_vec(), &mut emit);
        }
        assembler.flush(&mut emit);
        events
    }

    #[test]
    fn without_a_pattern_every_non_empty_line_is_an_event() {
        assert_eq!(run(None, &["a", "", "b"]), [(1, "a".to_string()), (3, "b".to_string())]);
    }

    #[test]
    fn a_start_pattern_groups_continuations_under_the_last_line_timestamp() {
        let events =
            run(Some("^ERROR|^INFO"), &["  leading", "INFO one", "ERROR two", "  at a", "", "  at b", "INFO three"]);
        assert_eq!(
            events,
            [
                (1, "  leading".to_string()),
                (2, "INFO one".to_string()),
                (6, "ERROR two\n  at a\n\n  at b".to_string()),
                (7, "INFO three".to_string()),
            ]
        );
    }

    #[test]
    fn long_lines_are_split_at_character_boundaries() {
        let long = "é".repeat(MAX_EVENT_BYTES); // two bytes each
        let events = run(None, &[&long]);
        assert_eq!(events.len(), 2);
        assert!(events.iter().all(|(_, message)| message.len() <= MAX_EVENT_BYTES));
        assert_eq!(events.iter().map(|(_, message)| message.as_str()).collect::<String>(), long);
        // A continuation that would overflow its event begins the next one.
        let half = "x".repeat(MAX_EVENT_BYTES / 2 + 1);
        let events = run(Some("^START"), &["START", &half, &half]);
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].1, format!("START\n{half}"));
    }

    #[test]
    fn invalid_utf8_is_replaced() {
        let mut assembler = EventAssembler::new(None);
        let mut events = Vec::new();
        assembler.push(1, vec![b'a', 0xff, b'b'], &mut |event| events.push(event.message));
        assert_eq!(events, ["a\u{fffd}b"]);
    }
}
