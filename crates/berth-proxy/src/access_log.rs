//! Access logs: one line per request in ALB's field order, appended to the file the document
//! names. Requests hand finished lines to a bounded channel and never wait: a writer thread per
//! file buffers them and flushes at least every second; when the channel is full (the disk
//! cannot keep up) lines are dropped rather than slowing requests.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const QUEUE_LINES: usize = 64 * 1024;
const FLUSH_EVERY: Duration = Duration::from_secs(1);

/// A handle on one access log file; cheap to clone.
#[derive(Clone, Debug)]
pub struct AccessLog {
    sender: SyncSender<String>,
}

impl AccessLog {
    /// Opens (creating it and its directory) the file to append to.
    pub fn open(path: &Path) -> std::io::Result<Self> {
        if let Some(parent) = path.parent().filter(|parent| !parent.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        let file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
        let (sender, receiver) = sync_channel::<String>(QUEUE_LINES);
        let path_for_thread = path.display().to_string();
        std::thread::Builder::new().name("berth-proxy-access-log".into()).spawn(move || {
            let mut writer = std::io::BufWriter::with_capacity(64 * 1024, file);
            let mut last_flush = Instant::now();
            loop {
                let received = receiver.recv_timeout(FLUSH_EVERY);
                let done = matches!(received, Err(RecvTimeoutError::Disconnected));
                if let Ok(line) = received {
                    if let Err(error) = writer.write_all(line.as_bytes()) {
                        tracing::warn!(path = %path_for_thread, %error, "access log write failed");
                    }
                }
                if done || last_flush.elapsed() >= FLUSH_EVERY {
                    if let Err(error) = writer.flush() {
                        tracing::warn!(path = %path_for_thread, %error, "access log flush failed");
                    }
                    last_flush = Instant::now();
                }
                if done {
                    return;
                }
            }
        })?;
        Ok(Self { sender })
    }

    /// Queues one line; never blocks.
    pub fn log(&self, line: String) {
        match self.sender.try_send(line) {
            Ok(()) | Err(TrySendError::Disconnected(_)) => {}
            Err(TrySendError::Full(_)) => tracing::debug!("access log queue full: line dropped"),
        }
    }
}

/// The open access logs by path, kept across documents so a file is not reopened on every one.
pub struct AccessLogs {
    /// Relative paths are resolved here (the control plane names files relative to the proxy's
    /// data directory, which only the proxy knows).
    base: Option<PathBuf>,
    by_path: HashMap<String, AccessLog>,
}

impl AccessLogs {
    pub fn new(base: Option<PathBuf>) -> Self {
        Self { base, by_path: HashMap::new() }
    }

    pub fn get_or_open(&mut self, path: &str) -> Option<AccessLog> {
        if let Some(log) = self.by_path.get(path) {
            return Some(log.clone());
        }
        let resolved = match &self.base {
            Some(base) => base.join(path),
            None => PathBuf::from(path),
        };
        match AccessLog::open(&resolved) {
            Ok(log) => {
                self.by_path.insert(path.to_owned(), log.clone());
                Some(log)
            }
            Err(error) => {
                tracing::warn!(path, %error, "cannot open access log");
                None
            }
        }
    }

    /// Closes the files no listener logs to any more (their writer threads end).
    pub fn retain(&mut self, in_use: &std::collections::HashSet<&str>) {
        self.by_path.retain(|path, _| in_use.contains(path.as_str()));
    }
}

/// One request's record.
pub struct AccessRecord<'a> {
    pub kind: &'static str,
    pub elb: &'a str,
    pub client: std::net::SocketAddr,
    pub target: Option<std::net::SocketAddr>,
    pub request_processing: Duration,
    pub target_processing: Option<Duration>,
    pub elb_status: u16,
    pub target_status: Option<u16>,
    pub received_bytes: u64,
    pub sent_bytes: u64,
    pub request_line: &'a str,
    pub user_agent: &'a str,
    pub target_group_arn: Option<&'a str>,
    pub trace_id: &'a str,
    pub matched_rule_priority: Option<u32>,
    pub received_at: SystemTime,
    pub action: &'static str,
    pub redirect_url: Option<&'a str>,
}

impl AccessRecord<'_> {
    /// ALB's field order: type time elb client:port target:port request_processing_time
    /// target_processing_time response_processing_time elb_status_code target_status_code
    /// received_bytes sent_bytes "request" "user_agent" ssl_cipher ssl_protocol
    /// target_group_arn "trace_id" "domain_name" "chosen_cert_arn" matched_rule_priority
    /// request_creation_time "actions_executed" "redirect_url".
    pub fn line(&self) -> String {
        let mut line = String::with_capacity(320);
        let dash = |value: Option<String>| value.unwrap_or_else(|| "-".to_owned());
        let _ = write!(
            line,
            "{} {} {} {} {} {:.3} {} 0.000 {} {} {} {} \"{}\" \"{}\" - - {} \"{}\" \"-\" \"-\" {} {} \"{}\" \"{}\"",
            self.kind,
            iso8601(SystemTime::now()),
            self.elb,
            self.client,
            dash(self.target.map(|target| target.to_string())),
            self.request_processing.as_secs_f64(),
            self.target_processing.map_or_else(|| "-1".to_owned(), |time| format!("{:.3}", time.as_secs_f64())),
            self.elb_status,
            dash(self.target_status.map(|status| status.to_string())),
            self.received_bytes,
            self.sent_bytes,
            self.request_line.replace('"', "%22"),
            self.user_agent.replace('"', "%22"),
            self.target_group_arn.unwrap_or("-"),
            self.trace_id,
            self.matched_rule_priority.map_or_else(|| "0".to_owned(), |priority| priority.to_string()),
            iso8601(self.received_at),
            self.action,
            self.redirect_url.unwrap_or("-"),
        );
        line.push('\n');
        line
    }
}

/// `2026-12-02T07:46:54.123456Z` (UTC, microseconds), as ALB writes times.
pub fn iso8601(time: SystemTime) -> String {
    let since_epoch = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let seconds = since_epoch.as_secs();
    let (days, second_of_day) = (seconds / 86_400, seconds % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z",
        second_of_day / 3600,
        second_of_day / 60 % 60,
        second_of_day % 60,
        since_epoch.subsec_micros()
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u32;
    let month = if month_index < 10 { month_index + 3 } else { month_index - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `app/NAME/ID` from a load balancer ARN, as ALB names itself in access logs.
pub fn elb_name(load_balancer_arn: &str) -> Arc<str> {
    load_balancer_arn.split_once(":loadbalancer/").map_or(load_balancer_arn, |(_, name)| name).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_iso8601_utc() {
        assert_eq!(iso8601(UNIX_EPOCH), "1970-01-01T00:00:00.000000Z");
        let time = UNIX_EPOCH + Duration::from_micros(1_530_570_180_186_641);
        assert_eq!(iso8601(time), "2018-07-02T22:23:00.186641Z");
        assert_eq!(iso8601(UNIX_EPOCH + Duration::from_secs(951_782_400)), "2000-02-29T00:00:00.000000Z");
    }

    #[test]
    fn elb_names() {
        let arn = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188";
        assert_eq!(&*elb_name(arn), "app/web/50dc6c495c0c9188");
    }
}
