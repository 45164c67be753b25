//! The events read but not yet handed to the sink, and the cut into batches within CloudWatch
//! Logs' limits (10,000 events, 1 MiB counting 26 bytes per event).
//!
//! Each event gets the `source_ns` it is shipped with here: its Docker timestamp, raised to
//! one nanosecond past the event before it when Docker's clock did not move on (stdout and
//! stderr are timestamped by two readers). The server stores only events after its position,
//! so a strictly increasing `source_ns` is what makes it keep every event of a stream.

use crate::log_shipper::events::Event;
use berth_agent_protocol::logs::LogLine;
use tokio::time::Instant;

pub const MAX_BATCH_EVENTS: usize = 10_000;
pub const MAX_BATCH_BYTES: usize = 1_048_576;
/// What CloudWatch Logs counts for each event on top of its message.
pub const EVENT_OVERHEAD_BYTES: usize = 26;

pub struct PendingEvents {
    lines: Vec<LogLine>,
    bytes: usize,
    /// The `source_ns` of the last event queued (or the stream's position before any).
    last_ns: Option<i64>,
    /// When the oldest event still queued arrived.
    oldest_at: Option<Instant>,
    /// Lines were lost before the queued event at this index (or before the next one pushed,
    /// when it is the queue's length): that event begins a batch that says so.
    gap_at: Option<usize>,
}

/// What the stream says where Docker lost lines before the shipper read them.
pub const GAP_MESSAGE: &str = "[berth] Docker's json-file rotated away lines this container printed before this point before they could be shipped; they are lost";

/// One batch's lines, and whether lines were lost before its first.
pub struct Batch {
    pub lines: Vec<LogLine>,
    pub gap_before: bool,
}

impl PendingEvents {
    /// Starts after `position_ns`, the stream's position on the server.
    pub fn new(position_ns: Option<i64>) -> Self {
        PendingEvents { lines: Vec::new(), bytes: 0, last_ns: position_ns, oldest_at: None, gap_at: None }
    }

    /// Lines were lost between the events queued so far and the next one.
    pub fn mark_gap(&mut self) {
        self.gap_at.get_or_insert(self.lines.len());
    }

    pub fn push(&mut self, event: Event) {
        let source_ns = match self.last_ns {
            Some(last) => event.source_ns.max(last.saturating_add(1)),
            None => event.source_ns,
        };
        self.last_ns = Some(source_ns);
        self.bytes += event.message.len() + EVENT_OVERHEAD_BYTES;
        self.oldest_at.get_or_insert_with(Instant::now);
        self.lines.push(LogLine { source_ns, message: event.message });
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Whether a whole batch is waiting (then reading pauses until it is shipped).
    pub fn is_full(&self) -> bool {
        self.lines.len() >= MAX_BATCH_EVENTS || self.bytes >= MAX_BATCH_BYTES
    }

    /// When the oldest queued event arrived.
    pub fn oldest_at(&self) -> Option<Instant> {
        self.oldest_at
    }

    /// The oldest events, as many as one batch holds (at least one), up to a gap.
    pub fn take_batch(&mut self) -> Batch {
        let gap_before = self.gap_at == Some(0);
        let limit = match self.gap_at {
            Some(at) if at > 0 => at,
            _ => MAX_BATCH_EVENTS,
        };
        let mut count = 0;
        let mut bytes = 0;
        for line in &self.lines {
            let size = line.message.len() + EVENT_OVERHEAD_BYTES;
            if count == limit.min(MAX_BATCH_EVENTS) || (count > 0 && bytes + size > MAX_BATCH_BYTES) {
                break;
            }
            count += 1;
            bytes += size;
        }
        let rest = self.lines.split_off(count);
        let batch = std::mem::replace(&mut self.lines, rest);
        self.bytes -= bytes;
        if self.lines.is_empty() {
            self.oldest_at = None;
        }
        self.gap_at = match self.gap_at {
            Some(0) => None,
            Some(at) => Some(at - count),
            None => None,
        };
        Batch { lines: batch, gap_before }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(source_ns: i64, message: &str) -> Event {
        Event { source_ns, message: message.to_string() }
    }

    #[test]
    fn source_ns_strictly_increases_from_the_position() {
        let mut pending = PendingEvents::new(Some(100));
        for source_ns in [100, 150, 150, 120, 200] {
            pending.push(event(source_ns, "x"));
        }
        let shipped: Vec<i64> = pending.take_batch().lines.iter().map(|line| line.source_ns).collect();
        assert_eq!(shipped, [101, 150, 151, 152, 200]);
    }

    #[test]
    fn batches_stay_within_cloudwatch_limits() {
        let mut pending = PendingEvents::new(None);
        for index in 0..MAX_BATCH_EVENTS + 5 {
            pending.push(event(index as i64, "line"));
        }
        assert!(pending.is_full());
        assert_eq!(pending.take_batch().lines.len(), MAX_BATCH_EVENTS);
        assert!(!pending.is_full());
        assert_eq!(pending.take_batch().lines.len(), 5);
        assert!(pending.is_empty() && pending.oldest_at().is_none());

        let big = "b".repeat(300_000);
        for index in 0..4 {
            pending.push(event(index, &big));
        }
        assert!(pending.is_full());
        assert_eq!(pending.take_batch().lines.len(), 3);
        assert_eq!(pending.take_batch().lines.len(), 1);
    }

    #[test]
    fn a_gap_begins_a_batch_that_says_so() {
        let mut pending = PendingEvents::new(None);
        pending.push(event(1, "before"));
        pending.push(event(2, "before"));
        pending.mark_gap();
        pending.mark_gap();
        pending.push(event(10, "after"));
        pending.push(event(11, "after"));
        let first = pending.take_batch();
        assert_eq!((first.lines.len(), first.gap_before), (2, false));
        let second = pending.take_batch();
        assert_eq!((second.lines.len(), second.gap_before), (2, true));
        assert!(second.lines.iter().all(|line| line.message == "after"));
        pending.push(event(12, "later"));
        assert!(!pending.take_batch().gap_before, "said once");
    }
}
