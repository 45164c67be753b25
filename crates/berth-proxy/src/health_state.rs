//! The pure half of active health checking: ALB's HttpCode matcher, the outcome of one check
//! and the per-target state machine (consecutive successes and failures against the healthy and
//! unhealthy thresholds, Initial → Healthy/Unhealthy) with ALB's reason codes. The I/O half —
//! timers and requests — is in `health`.

use berth_proxy_protocol::HealthState;

/// ALB's matcher: "200", "200,202", "200-299" (and mixes such as "200,300-399").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matcher {
    ranges: Vec<(u16, u16)>,
}

impl Matcher {
    pub fn parse(text: &str) -> Option<Self> {
        let ranges = text
            .split(',')
            .map(|part| {
                let part = part.trim();
                match part.split_once('-') {
                    Some((low, high)) => {
                        let (low, high) = (low.trim().parse().ok()?, high.trim().parse().ok()?);
                        (low <= high).then_some((low, high))
                    }
                    None => part.parse().ok().map(|code| (code, code)),
                }
            })
            .collect::<Option<Vec<_>>>()?;
        (!ranges.is_empty()).then_some(Self { ranges })
    }

    pub fn matches(&self, status: u16) -> bool {
        self.ranges.iter().any(|(low, high)| (*low..=*high).contains(&status))
    }
}

impl Default for Matcher {
    /// ALB's default matcher for HTTP health checks.
    fn default() -> Self {
        Self { ranges: vec![(200, 200)] }
    }
}

/// What one health check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckOutcome {
    Success,
    /// The target answered with a status the matcher does not accept.
    CodeMismatch(u16),
    Timeout,
    /// Connection refused or reset, a TLS failure, or a malformed answer.
    ConnectionFailed,
}

/// One target's health as the checks have seen it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthMachine {
    pub state: HealthState,
    consecutive_successes: u32,
    consecutive_failures: u32,
    last_failure: Option<CheckOutcome>,
    /// Whether any check has finished yet (a complete report lists only targets that have one).
    pub has_result: bool,
}

impl Default for HealthMachine {
    fn default() -> Self {
        Self {
            state: HealthState::Initial,
            consecutive_successes: 0,
            consecutive_failures: 0,
            last_failure: None,
            has_result: false,
        }
    }
}

impl HealthMachine {
    /// Counts one outcome; returns whether what a report shows (state, reason) changed.
    pub fn record(&mut self, outcome: CheckOutcome, healthy_threshold: u32, unhealthy_threshold: u32) -> bool {
        let before = (self.state, self.reason_code(), self.description());
        let first = !self.has_result;
        self.has_result = true;
        if outcome == CheckOutcome::Success {
            self.consecutive_successes = self.consecutive_successes.saturating_add(1);
            self.consecutive_failures = 0;
            if self.state != HealthState::Healthy && self.consecutive_successes >= healthy_threshold.max(1) {
                self.state = HealthState::Healthy;
                self.last_failure = None;
            }
        } else {
            self.consecutive_failures = self.consecutive_failures.saturating_add(1);
            self.consecutive_successes = 0;
            self.last_failure = Some(outcome);
            if self.state != HealthState::Unhealthy && self.consecutive_failures >= unhealthy_threshold.max(1) {
                self.state = HealthState::Unhealthy;
            }
        }
        first || before != (self.state, self.reason_code(), self.description())
    }

    /// Whether routing may send new requests to the target.
    pub fn is_healthy(&self) -> bool {
        self.state == HealthState::Healthy
    }

    pub fn reason_code(&self) -> Option<&'static str> {
        match self.state {
            HealthState::Healthy => None,
            HealthState::Initial => Some("Elb.InitialHealthChecking"),
            HealthState::Unhealthy => Some(match self.last_failure {
                Some(CheckOutcome::CodeMismatch(_)) => "Target.ResponseCodeMismatch",
                Some(CheckOutcome::Timeout) => "Target.Timeout",
                _ => "Target.FailedHealthChecks",
            }),
        }
    }

    pub fn description(&self) -> Option<String> {
        match self.state {
            HealthState::Healthy => None,
            HealthState::Initial => Some("Initial health checks in progress".to_owned()),
            HealthState::Unhealthy => Some(match self.last_failure {
                Some(CheckOutcome::CodeMismatch(code)) => format!("Health checks failed with these codes: [{code}]"),
                Some(CheckOutcome::Timeout) => "Request timed out".to_owned(),
                _ => "Health checks failed".to_owned(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matcher_forms() {
        let single = Matcher::parse("200").unwrap();
        assert!(single.matches(200) && !single.matches(201));
        let list = Matcher::parse("200,202").unwrap();
        assert!(list.matches(202) && !list.matches(201));
        let range = Matcher::parse("200-299").unwrap();
        assert!(range.matches(250) && !range.matches(300) && !range.matches(199));
        let mixed = Matcher::parse("200, 300-302").unwrap();
        assert!(mixed.matches(301));
        assert!(Matcher::parse("").is_none());
        assert!(Matcher::parse("299-200").is_none());
        assert!(Matcher::parse("abc").is_none());
    }

    #[test]
    fn initial_to_healthy_after_threshold() {
        let mut machine = HealthMachine::default();
        assert!(machine.record(CheckOutcome::Success, 3, 2), "the first result is news");
        assert_eq!(machine.state, HealthState::Initial);
        assert!(!machine.record(CheckOutcome::Success, 3, 2));
        assert!(machine.record(CheckOutcome::Success, 3, 2));
        assert_eq!(machine.state, HealthState::Healthy);
        assert_eq!(machine.reason_code(), None);
    }

    #[test]
    fn healthy_to_unhealthy_and_back() {
        let mut machine = HealthMachine::default();
        machine.record(CheckOutcome::Success, 1, 2);
        assert!(machine.is_healthy());
        // One failure below the unhealthy threshold changes nothing visible.
        assert!(!machine.record(CheckOutcome::CodeMismatch(500), 1, 2));
        assert!(machine.is_healthy());
        assert!(machine.record(CheckOutcome::CodeMismatch(500), 1, 2));
        assert_eq!(machine.state, HealthState::Unhealthy);
        assert_eq!(machine.reason_code(), Some("Target.ResponseCodeMismatch"));
        assert_eq!(machine.description().unwrap(), "Health checks failed with these codes: [500]");
        // A different failure while unhealthy changes the reason, which is reported.
        assert!(machine.record(CheckOutcome::Timeout, 1, 2));
        assert_eq!(machine.reason_code(), Some("Target.Timeout"));
        assert_eq!(machine.description().unwrap(), "Request timed out");
        assert!(machine.record(CheckOutcome::ConnectionFailed, 1, 2));
        assert_eq!(machine.reason_code(), Some("Target.FailedHealthChecks"));
        assert_eq!(machine.description().unwrap(), "Health checks failed");
        // A success resets the failure count and, at threshold 1, makes it healthy at once.
        assert!(machine.record(CheckOutcome::Success, 1, 2));
        assert!(machine.is_healthy());
    }

    #[test]
    fn initial_to_unhealthy() {
        let mut machine = HealthMachine::default();
        machine.record(CheckOutcome::Timeout, 5, 2);
        assert_eq!(machine.state, HealthState::Initial);
        machine.record(CheckOutcome::Timeout, 5, 2);
        assert_eq!(machine.state, HealthState::Unhealthy);
        // Successes below the healthy threshold keep it unhealthy.
        machine.record(CheckOutcome::Success, 5, 2);
        assert_eq!(machine.state, HealthState::Unhealthy);
    }
}
