//! A container's output through Docker's logs API (`follow`, stdout and stderr, timestamps),
//! as the agent's [`ContainerLogLine`]s: Docker's RFC 3339 timestamp prefix parsed into
//! nanoseconds, the trailing newline stripped, and the pieces of a line Docker split (it
//! stores a line longer than 16 KiB as partial messages) joined again.
//!
//! Docker ends a follow when the container stops, at times before the container's last output
//! (what it printed without a newline, flushed when its pipes close) reached json-file, and
//! always without the lines a slow reader had not reached yet. So when a follow ends and the
//! container has stopped, the rest is read once more without following, after the last line
//! handed out; only then does the stream end. That re-read can still miss the rest when Docker
//! ends the follow before the container shows as stopped, so callers that need every line read
//! again until a read brings nothing new (the log shipper does).

use crate::error::map_error_as;
use berth_agent::runtime::{ContainerLogLine, LogLineStream, OutputStream, RuntimeError};
use bollard::container::LogOutput;
use bollard::query_parameters::LogsOptionsBuilder;
use bollard::Docker;
use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use std::collections::VecDeque;

/// A line still unfinished at this size is handed on in pieces.
const MAX_JOINED_LINE_BYTES: usize = 1 << 20;
const NANOS_PER_SECOND: i64 = 1_000_000_000;

/// Follows the output of container `id` after `since_ns`. Docker's `since` is whole seconds,
/// so the lines of that second up to `since_ns` are dropped here.
pub async fn follow(docker: &Docker, id: &str, since_ns: Option<i64>) -> Result<LogLineStream, RuntimeError> {
    // Fail now, not on the first line, for a container that is gone.
    let inspect = docker
        .inspect_container(id, None::<bollard::query_parameters::InspectContainerOptions>)
        .await
        .map_err(|error| map_error_as("logs", "container", error))?;
    if let Some(tail) = crate::json_file::open(&inspect, since_ns).await {
        return Ok(tail.into_stream(docker.clone(), id.to_string()));
    }
    let reader = Reader {
        output: output(docker, id, since_ns, true),
        lines: LineJoiner::new(since_ns),
        last_ns: 0,
        ended: false,
        rest: Some((docker.clone(), id.to_string())),
    };
    let stream = futures_util::stream::unfold(reader, |mut reader| async move {
        let item = reader.next().await?;
        Some((item, reader))
    });
    Ok(stream.boxed())
}

fn output(
    docker: &Docker,
    id: &str,
    since_ns: Option<i64>,
    follow: bool,
) -> BoxStream<'static, Result<LogOutput, bollard::errors::Error>> {
    let since_seconds = since_ns.map_or(0, |since| since.div_euclid(NANOS_PER_SECOND));
    let options = LogsOptionsBuilder::new()
        .follow(follow)
        .stdout(true)
        .stderr(true)
        .timestamps(true)
        .since(i32::try_from(since_seconds).unwrap_or(i32::MAX))
        .build();
    docker.logs(id, Some(options)).boxed()
}

struct Reader {
    output: BoxStream<'static, Result<LogOutput, bollard::errors::Error>>,
    lines: LineJoiner,
    /// The last timestamp read, for a message whose prefix does not parse.
    last_ns: i64,
    ended: bool,
    /// Until the follow ended: the client and container, to read the rest after it.
    rest: Option<(Docker, String)>,
}

/// Docker's messages (a line, or a piece of one) into whole lines after `since_ns`.
pub(crate) struct LineJoiner {
    since_ns: Option<i64>,
    /// The unfinished line of stdout and of stderr, with the timestamp of its last piece.
    partial: [Option<(i64, Vec<u8>)>; 2],
    pub(crate) ready: VecDeque<ContainerLogLine>,
    /// The newest timestamp handed out.
    newest_ns: Option<i64>,
    /// Set when lines were lost before the next one handed out.
    lost_before: bool,
}

impl LineJoiner {
    pub(crate) fn new(since_ns: Option<i64>) -> Self {
        LineJoiner { since_ns, partial: [None, None], ready: VecDeque::new(), newest_ns: None, lost_before: false }
    }

    /// One message of `stream` stamped `source_ns`: a whole line when it ends in a newline.
    pub(crate) fn push(&mut self, source_ns: i64, stream: OutputStream, text: &[u8]) {
        let (text, complete) = match text.strip_suffix(b"\n") {
            Some(text) => (text, true),
            None => (text, false),
        };
        let index = stream as usize;
        let line = match self.partial[index].take() {
            Some((_, mut head)) => {
                head.extend_from_slice(text);
                head
            }
            None => text.to_vec(),
        };
        if complete || line.len() >= MAX_JOINED_LINE_BYTES {
            self.emit(source_ns, stream, line);
        } else {
            self.partial[index] = Some((source_ns, line));
        }
    }

    /// The output is over: unfinished lines go out as they are.
    pub(crate) fn finish(&mut self) {
        for (index, stream) in [OutputStream::Stdout, OutputStream::Stderr].into_iter().enumerate() {
            if let Some((source_ns, line)) = self.partial[index].take() {
                self.emit(source_ns, stream, line);
            }
        }
    }

    /// Reading starts again after the newest line handed out; unfinished lines come again.
    fn restart(&mut self) -> Option<i64> {
        self.partial = [None, None];
        self.since_ns = self.since_ns.max(self.newest_ns);
        self.since_ns
    }

    /// Lines were lost here: the next line handed out says so.
    pub(crate) fn mark_lost(&mut self) {
        self.lost_before = true;
    }

    fn emit(&mut self, source_ns: i64, stream: OutputStream, line: Vec<u8>) {
        if self.since_ns.is_some_and(|since| source_ns <= since) {
            return;
        }
        self.newest_ns = Some(self.newest_ns.map_or(source_ns, |newest| newest.max(source_ns)));
        let lines_lost_before = std::mem::take(&mut self.lost_before);
        self.ready.push_back(ContainerLogLine { source_ns, stream, line, lines_lost_before });
    }
}

impl Reader {
    async fn next(&mut self) -> Option<Result<ContainerLogLine, RuntimeError>> {
        loop {
            if let Some(line) = self.lines.ready.pop_front() {
                return Some(Ok(line));
            }
            if self.ended {
                return None;
            }
            match self.output.next().await {
                Some(Ok(output)) => self.take(output),
                Some(Err(error)) => {
                    // What is unfinished is read again by the caller's next stream.
                    self.ended = true;
                    return Some(Err(map_error_as("logs", "container", error)));
                }
                None => {
                    if let Some((docker, id)) = self.rest.take() {
                        if self.read_the_rest(&docker, &id).await {
                            continue;
                        }
                    }
                    self.ended = true;
                    self.lines.finish();
                }
            }
        }
    }

    /// After the follow ended: when the container has stopped, reads what it printed after the
    /// last line handed out. False when there is nothing more to read.
    async fn read_the_rest(&mut self, docker: &Docker, id: &str) -> bool {
        let inspect = docker.inspect_container(id, None::<bollard::query_parameters::InspectContainerOptions>).await;
        let stopped = inspect.is_ok_and(|info| !info.state.and_then(|state| state.running).unwrap_or(false));
        if !stopped {
            // Gone, unreachable or running again: the caller decides what comes next.
            return false;
        }
        // Unfinished lines come again whole.
        let since_ns = self.lines.restart();
        self.output = output(docker, id, since_ns, false);
        true
    }

    fn take(&mut self, output: LogOutput) {
        let (stream, message) = match output {
            LogOutput::StdOut { message } | LogOutput::Console { message } => (OutputStream::Stdout, message),
            LogOutput::StdErr { message } => (OutputStream::Stderr, message),
            LogOutput::StdIn { .. } => return,
        };
        let (source_ns, text) = match split_timestamp(&message) {
            Some((source_ns, text)) => (source_ns, text),
            None => (self.last_ns, &message[..]),
        };
        self.last_ns = source_ns;
        self.lines.push(source_ns, stream, text);
    }
}

/// Docker's `2024-01-02T03:04:05.123456789Z ` prefix: the timestamp and the rest.
fn split_timestamp(message: &[u8]) -> Option<(i64, &[u8])> {
    let space = message.iter().position(|byte| *byte == b' ')?;
    let source_ns = parse_rfc3339_ns(std::str::from_utf8(&message[..space]).ok()?)?;
    Some((source_ns, &message[space + 1..]))
}

/// Nanoseconds since the Unix epoch of an RFC 3339 timestamp (`Z` or a `±hh:mm` offset, up
/// to nine fractional digits).
pub fn parse_rfc3339_ns(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        let digits = bytes.get(range)?;
        digits.iter().all(u8::is_ascii_digit).then(|| digits.iter().fold(0, |sum, d| sum * 10 + i64::from(d - b'0')))
    };
    if bytes.len() < 20 || bytes[4] != b'-' || bytes[7] != b'-' || !matches!(bytes[10], b'T' | b't' | b' ') {
        return None;
    }
    if bytes[13] != b':' || bytes[16] != b':' {
        return None;
    }
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut position = 19;
    let mut nanos = 0;
    if bytes[position] == b'.' {
        position += 1;
        let start = position;
        while position < bytes.len() && bytes[position].is_ascii_digit() {
            position += 1;
        }
        let digits = &bytes[start..position];
        if digits.is_empty() || digits.len() > 9 {
            return None;
        }
        nanos = number(start..position)? * 10_i64.pow(9 - digits.len() as u32);
    }
    let offset_seconds = match &bytes[position..] {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let digit = |byte: &u8| byte.is_ascii_digit().then(|| i64::from(byte - b'0'));
            let hours = digit(h1)? * 10 + digit(h2)?;
            let minutes = digit(m1)? * 10 + digit(m2)?;
            let offset = hours * 3600 + minutes * 60;
            if *sign == b'+' {
                offset
            } else {
                -offset
            }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_seconds;
    seconds.checked_mul(NANOS_PER_SECOND)?.checked_add(nanos)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_timestamps_parse_to_nanoseconds() {
        assert_eq!(parse_rfc3339_ns("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339_ns("2023-11-14T22:13:20.000000001Z"), Some(1_700_000_000_000_000_001));
        assert_eq!(parse_rfc3339_ns("2023-11-14T22:13:20.5Z"), Some(1_700_000_000_500_000_000));
        assert_eq!(parse_rfc3339_ns("2023-11-14T23:13:20.5+01:00"), Some(1_700_000_000_500_000_000));
        assert_eq!(parse_rfc3339_ns("2024-02-29T00:00:00Z"), Some(1_709_164_800 * NANOS_PER_SECOND));
        assert_eq!(parse_rfc3339_ns("2024-02-29T00:00:00"), None);
        assert_eq!(parse_rfc3339_ns("2024-13-01T00:00:00Z"), None);
        assert_eq!(parse_rfc3339_ns("2024-01-01T00:00:00.1234567890Z"), None);
        assert_eq!(parse_rfc3339_ns("not a timestamp at all"), None);
    }

    #[test]
    fn messages_lose_their_prefix_and_newline_and_partials_are_joined() {
        let mut reader = Reader {
            output: futures_util::stream::empty().boxed(),
            lines: LineJoiner::new(Some(1_700_000_000_000_000_001)),
            last_ns: 0,
            ended: false,
            rest: None,
        };
        let frame = |text: &str| bytes::Bytes::from(text.to_string());
        reader.take(LogOutput::StdOut { message: frame("2023-11-14T22:13:20.000000001Z skipped\n") });
        reader.take(LogOutput::StdOut { message: frame("2023-11-14T22:13:20.000000002Z hel") });
        reader.take(LogOutput::StdErr { message: frame("2023-11-14T22:13:20.000000003Z oops\n") });
        reader.take(LogOutput::StdOut { message: frame("2023-11-14T22:13:20.000000004Z lo\n") });
        let lines: Vec<(i64, OutputStream, Vec<u8>)> =
            reader.lines.ready.drain(..).map(|line| (line.source_ns % 10, line.stream, line.line)).collect();
        assert_eq!(lines, [(3, OutputStream::Stderr, b"oops".to_vec()), (4, OutputStream::Stdout, b"hello".to_vec())]);
    }
}
