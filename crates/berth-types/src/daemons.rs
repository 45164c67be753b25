//! Daemons' vocabulary: the daemon task definition record (its own resource, with its own
//! family/revision numbering) and the ARNs of the four daemon resources.
//!
//! ARN layouts (Berth's choice; the model documents none):
//! `daemon-task-definition/FAMILY:REVISION`, `daemon/CLUSTER/NAME`,
//! `daemon-deployment/CLUSTER/NAME/ID` and `daemon-revision/CLUSTER/NAME/ID`, where an ID is
//! ASCII letters and digits.
//!
//! Not here: the daemon, revision and deployment records, which carry the planner's progress
//! and live in the control plane.

use crate::arn::{ArnContext, ArnError};
use crate::ids::{ClusterName, DaemonName, TaskDefinitionFamily};
use crate::spec::TaskSpec;
use crate::time::Timestamp;
use crate::Tag;
use serde::{Deserialize, Serialize};
use std::fmt;

/// `DaemonTaskDefinitionStatus`: ACTIVE until deleted; DELETE_IN_PROGRESS while a daemon
/// still runs it, then DELETED.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DaemonTaskDefinitionStatus {
    Active,
    DeleteInProgress,
    Deleted,
}

impl DaemonTaskDefinitionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DaemonTaskDefinitionStatus::Active => "ACTIVE",
            DaemonTaskDefinitionStatus::DeleteInProgress => "DELETE_IN_PROGRESS",
            DaemonTaskDefinitionStatus::Deleted => "DELETED",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DaemonTaskDefinitionRecord {
    pub family: TaskDefinitionFamily,
    pub revision: u32,
    pub status: DaemonTaskDefinitionStatus,
    /// What a daemon task runs (the same spec as an ordinary task definition's).
    pub spec: TaskSpec,
    /// The registered definition in the edge's rendering, echoed verbatim by describe.
    pub document: serde_json::Value,
    pub tags: Vec<Tag>,
    pub registered_at: Timestamp,
    pub registered_by: String,
    pub delete_requested_at: Option<Timestamp>,
}

/// A daemon's history item: a deployment or a revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DaemonHistoryKind {
    Deployment,
    Revision,
}

impl DaemonHistoryKind {
    fn resource(self) -> &'static str {
        match self {
            DaemonHistoryKind::Deployment => "daemon-deployment",
            DaemonHistoryKind::Revision => "daemon-revision",
        }
    }
}

/// One of the four daemon ARNs, parsed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DaemonArn {
    TaskDefinition(TaskDefinitionFamily, u32),
    Daemon(ClusterName, DaemonName),
    History { kind: DaemonHistoryKind, cluster: ClusterName, daemon: DaemonName, id: String },
}

impl DaemonArn {
    pub fn render(&self, context: &ArnContext) -> String {
        format!("arn:aws:ecs:{}:{}:{}", context.region, context.account, Path(self))
    }

    /// Parses a daemon ARN issued under `context`.
    pub fn parse(value: &str, context: &ArnContext) -> Result<DaemonArn, ArnError> {
        let malformed = || ArnError::Malformed(value.to_string());
        let (kind, rest) = crate::arn::split_ecs_arn(value, context)?;
        let history = |kind: DaemonHistoryKind| -> Result<DaemonArn, ArnError> {
            let mut path = rest.split('/');
            let (Some(cluster), Some(daemon), Some(id), None) = (path.next(), path.next(), path.next(), path.next())
            else {
                return Err(malformed());
            };
            if id.is_empty() || !id.bytes().all(|byte| byte.is_ascii_alphanumeric()) {
                return Err(malformed());
            }
            Ok(DaemonArn::History {
                kind,
                cluster: ClusterName::parse(cluster)?,
                daemon: DaemonName::parse(daemon)?,
                id: id.to_string(),
            })
        };
        match kind {
            "daemon-task-definition" => {
                let (family, revision) = rest.rsplit_once(':').ok_or_else(malformed)?;
                let revision: u32 = revision.parse().ok().filter(|revision| *revision > 0).ok_or_else(malformed)?;
                Ok(DaemonArn::TaskDefinition(TaskDefinitionFamily::parse(family)?, revision))
            }
            "daemon" => {
                let (cluster, name) = rest.split_once('/').ok_or_else(malformed)?;
                Ok(DaemonArn::Daemon(ClusterName::parse(cluster)?, DaemonName::parse(name)?))
            }
            "daemon-deployment" => history(DaemonHistoryKind::Deployment),
            "daemon-revision" => history(DaemonHistoryKind::Revision),
            _ => Err(malformed()),
        }
    }
}

struct Path<'a>(&'a DaemonArn);

impl fmt::Display for Path<'_> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            DaemonArn::TaskDefinition(family, revision) => {
                write!(formatter, "daemon-task-definition/{family}:{revision}")
            }
            DaemonArn::Daemon(cluster, name) => write!(formatter, "daemon/{cluster}/{name}"),
            DaemonArn::History { kind, cluster, daemon, id } => {
                write!(formatter, "{}/{cluster}/{daemon}/{id}", kind.resource())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_daemon_arn_round_trips() {
        let context = ArnContext::default();
        let cluster = ClusterName::parse("prod").unwrap();
        let daemon = DaemonName::parse("log-shipper").unwrap();
        let arns = [
            DaemonArn::TaskDefinition(TaskDefinitionFamily::parse("agent").unwrap(), 3),
            DaemonArn::Daemon(cluster.clone(), daemon.clone()),
            DaemonArn::History {
                kind: DaemonHistoryKind::Deployment,
                cluster: cluster.clone(),
                daemon: daemon.clone(),
                id: "1234567890123456789".to_string(),
            },
            DaemonArn::History { kind: DaemonHistoryKind::Revision, cluster, daemon, id: "abc123".to_string() },
        ];
        for arn in arns {
            let text = arn.render(&context);
            assert_eq!(DaemonArn::parse(&text, &context).unwrap(), arn, "{text}");
        }
        assert_eq!(
            DaemonArn::TaskDefinition(TaskDefinitionFamily::parse("agent").unwrap(), 3).render(&context),
            "arn:aws:ecs:us-east-1:000000000000:daemon-task-definition/agent:3"
        );
    }

    #[test]
    fn refuses_other_kinds_and_bad_ids() {
        let context = ArnContext::default();
        for bad in [
            "arn:aws:ecs:us-east-1:000000000000:service/prod/web",
            "arn:aws:ecs:us-east-1:000000000000:daemon/prod",
            "arn:aws:ecs:us-east-1:000000000000:daemon-task-definition/agent:0",
            "arn:aws:ecs:us-east-1:000000000000:daemon-deployment/prod/d/x-y",
            "arn:aws:ecs:us-east-1:000000000000:daemon-revision/prod/d/1/2",
            "daemon/prod/d",
        ] {
            assert!(DaemonArn::parse(bad, &context).is_err(), "{bad}");
        }
        assert!(matches!(
            DaemonArn::parse("arn:aws:ecs:eu-west-1:000000000000:daemon/prod/d", &context),
            Err(ArnError::ForeignAccount { .. })
        ));
    }
}
