//! What proxies report of their targets' health, and what DescribeTargetHealth makes of it
//! with the group's own state (unused, draining, health checks disabled).
//!
//! Reports are observations, not desired state: they are kept in memory, and a proxy sends a
//! complete report whenever it takes up a new document (a restarted server serves a new
//! generation, so its proxies report everything again at once).

use super::records::TargetGroupRecord;
use berth_proxy_protocol::{HealthReport, HealthState, TargetHealth};
use std::collections::HashMap;

/// The latest reported health of each target, by (target group, target ID, port).
#[derive(Debug, Default)]
pub struct HealthBook {
    targets: HashMap<(String, String, u16), Reported>,
}

#[derive(Debug, Clone)]
struct Reported {
    proxy_id: String,
    health: TargetHealth,
}

/// One target as DescribeTargetHealth answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetHealthView {
    pub id: String,
    pub port: u16,
    /// The port the health checks go to.
    pub health_check_port: String,
    /// initial, healthy, unhealthy, unused, draining or unavailable.
    pub state: &'static str,
    pub reason: Option<String>,
    pub description: Option<String>,
}

impl HealthBook {
    pub fn record(&mut self, report: HealthReport) {
        if report.complete {
            self.targets.retain(|_, reported| reported.proxy_id != report.proxy_id);
        }
        for health in report.targets {
            let key = (health.target_group_arn.clone(), health.target_id.clone(), health.port);
            self.targets.insert(key, Reported { proxy_id: report.proxy_id.clone(), health });
        }
    }

    /// The reported state of a target, if any proxy checks it.
    pub fn reported(&self, target_group_arn: &str, id: &str, port: u16) -> Option<HealthState> {
        self.targets.get(&(target_group_arn.to_string(), id.to_string(), port)).map(|reported| reported.health.state)
    }

    pub fn view(&self, group: &TargetGroupRecord, in_use: bool, id: &str, port: u16) -> TargetHealthView {
        let health_check_port =
            if group.health_check.port == "traffic-port" { port.to_string() } else { group.health_check.port.clone() };
        let (state, reason, description): (&'static str, Option<&str>, Option<String>) = match group
            .targets
            .iter()
            .find(|target| target.id == id && target.port == port)
        {
            None => (
                "unused",
                Some("Target.NotRegistered"),
                Some("Target is not registered to the target group".to_string()),
            ),
            Some(target) if target.draining_since.is_some() => (
                "draining",
                Some("Target.DeregistrationInProgress"),
                Some("Target deregistration is in progress".to_string()),
            ),
            Some(_) if !in_use => (
                "unused",
                Some("Target.NotInUse"),
                Some("Target group is not configured to receive traffic from the load balancer".to_string()),
            ),
            Some(_) if !group.health_check.enabled => {
                ("unavailable", Some("Target.HealthCheckDisabled"), Some("Health checks are disabled".to_string()))
            }
            Some(_) => match self.targets.get(&(group.arn.clone(), id.to_string(), port)) {
                None => (
                    "initial",
                    Some("Elb.RegistrationInProgress"),
                    Some("Target registration is in progress".to_string()),
                ),
                Some(reported) => match reported.health.state {
                    HealthState::Initial => (
                        "initial",
                        Some("Elb.InitialHealthChecking"),
                        Some("Initial health checks in progress".to_string()),
                    ),
                    HealthState::Healthy => ("healthy", None, None),
                    HealthState::Unhealthy => {
                        return TargetHealthView {
                            id: id.to_string(),
                            port,
                            health_check_port,
                            state: "unhealthy",
                            reason: Some(
                                reported.health.reason.clone().unwrap_or_else(|| "Target.FailedHealthChecks".into()),
                            ),
                            description: Some(
                                reported.health.description.clone().unwrap_or_else(|| "Health checks failed".into()),
                            ),
                        }
                    }
                },
            },
        };
        TargetHealthView {
            id: id.to_string(),
            port,
            health_check_port,
            state,
            reason: reason.map(str::to_string),
            description,
        }
    }
}
