//! Wall-clock instants as ECS reports them (the wire carries epoch seconds with a fraction).

use serde::{Deserialize, Serialize};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn now() -> Self {
        let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
        Timestamp(since_epoch.as_millis() as i64)
    }

    /// Epoch seconds, the form AWS JSON 1.1 uses for timestamps.
    pub fn as_epoch_seconds(self) -> f64 {
        self.0 as f64 / 1000.0
    }

    pub fn from_epoch_seconds(seconds: f64) -> Self {
        Timestamp((seconds * 1000.0).round() as i64)
    }

    pub fn plus(self, duration: Duration) -> Self {
        Timestamp(self.0 + duration.as_millis() as i64)
    }

    /// Time elapsed from `earlier` to `self`, zero if `earlier` is later.
    pub fn since(self, earlier: Timestamp) -> Duration {
        Duration::from_millis((self.0 - earlier.0).max(0) as u64)
    }
}
