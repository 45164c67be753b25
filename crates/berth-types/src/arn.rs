//! ECS ARNs in the long format, e.g. `arn:aws:ecs:us-east-1:000000000000:task/default/<id>`.

use crate::ids::{ClusterName, ContainerInstanceId, IdError, ServiceName, TaskDefinitionFamily, TaskId};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The region and account every ARN this control plane issues carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArnContext {
    pub region: String,
    pub account: String,
}

impl Default for ArnContext {
    fn default() -> Self {
        ArnContext { region: "us-east-1".to_string(), account: "000000000000".to_string() }
    }
}

/// An ECS ARN issued under `context`, split into its resource kind and the rest of its path
/// (`task` and `default/<id>` for `arn:aws:ecs:REGION:ACCOUNT:task/default/<id>`).
pub fn split_ecs_arn<'a>(value: &'a str, context: &ArnContext) -> Result<(&'a str, &'a str), ArnError> {
    let malformed = || ArnError::Malformed(value.to_string());
    let mut parts = value.splitn(6, ':');
    let (Some("arn"), Some(_partition), Some("ecs"), Some(region), Some(account), Some(resource)) =
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed());
    };
    if region != context.region || account != context.account {
        return Err(ArnError::ForeignAccount { arn: value.to_string() });
    }
    resource.split_once('/').ok_or_else(malformed)
}

/// What an ARN names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceKind {
    Cluster,
    Task,
    ContainerInstance,
    TaskDefinition,
    Service,
    CapacityProvider,
}

/// A parsed ECS ARN.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Arn {
    Cluster(ClusterName),
    Task(ClusterName, TaskId),
    ContainerInstance(ClusterName, ContainerInstanceId),
    TaskDefinition(TaskDefinitionFamily, u32),
    Service(ClusterName, ServiceName),
    CapacityProvider(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArnError {
    #[error("{0:?} is not a valid ECS ARN")]
    Malformed(String),
    #[error("ARN {arn:?} does not belong to this region and account")]
    ForeignAccount { arn: String },
    #[error(transparent)]
    Id(#[from] IdError),
}

impl Arn {
    pub fn kind(&self) -> ResourceKind {
        match self {
            Arn::Cluster(_) => ResourceKind::Cluster,
            Arn::Task(..) => ResourceKind::Task,
            Arn::ContainerInstance(..) => ResourceKind::ContainerInstance,
            Arn::TaskDefinition(..) => ResourceKind::TaskDefinition,
            Arn::Service(..) => ResourceKind::Service,
            Arn::CapacityProvider(_) => ResourceKind::CapacityProvider,
        }
    }

    /// Renders the ARN in the long format under `context`.
    pub fn render(&self, context: &ArnContext) -> String {
        format!("arn:aws:ecs:{}:{}:{}", context.region, context.account, ResourcePath(self))
    }

    /// Parses a long-format ECS ARN issued under `context`.
    pub fn parse(value: &str, context: &ArnContext) -> Result<Arn, ArnError> {
        let malformed = || ArnError::Malformed(value.to_string());
        let (kind, rest) = split_ecs_arn(value, context)?;
        Ok(match kind {
            "cluster" => Arn::Cluster(ClusterName::parse(rest)?),
            "task" => {
                let (cluster, id) = rest.split_once('/').ok_or_else(malformed)?;
                Arn::Task(ClusterName::parse(cluster)?, TaskId::parse(id)?)
            }
            "container-instance" => {
                let (cluster, id) = rest.split_once('/').ok_or_else(malformed)?;
                Arn::ContainerInstance(ClusterName::parse(cluster)?, ContainerInstanceId::parse(id)?)
            }
            "service" => {
                let (cluster, name) = rest.split_once('/').ok_or_else(malformed)?;
                Arn::Service(ClusterName::parse(cluster)?, ServiceName::parse(name)?)
            }
            "task-definition" => {
                let (family, revision) = rest.rsplit_once(':').ok_or_else(malformed)?;
                let revision: u32 = revision.parse().map_err(|_| malformed())?;
                Arn::TaskDefinition(TaskDefinitionFamily::parse(family)?, revision)
            }
            "capacity-provider" => Arn::CapacityProvider(rest.to_string()),
            _ => return Err(malformed()),
        })
    }
}

struct ResourcePath<'a>(&'a Arn);

impl fmt::Display for ResourcePath<'_> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Arn::Cluster(name) => write!(formatter, "cluster/{name}"),
            Arn::Task(cluster, id) => write!(formatter, "task/{cluster}/{id}"),
            Arn::ContainerInstance(cluster, id) => {
                write!(formatter, "container-instance/{cluster}/{id}")
            }
            Arn::TaskDefinition(family, revision) => {
                write!(formatter, "task-definition/{family}:{revision}")
            }
            Arn::Service(cluster, name) => write!(formatter, "service/{cluster}/{name}"),
            Arn::CapacityProvider(name) => write!(formatter, "capacity-provider/{name}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips() {
        let context = ArnContext::default();
        let cluster = ClusterName::parse("prod").unwrap();
        let arns = [
            Arn::Cluster(cluster.clone()),
            Arn::Task(cluster.clone(), TaskId::generate()),
            Arn::ContainerInstance(cluster.clone(), ContainerInstanceId::generate()),
            Arn::TaskDefinition(TaskDefinitionFamily::parse("web").unwrap(), 12),
            Arn::Service(cluster, ServiceName::parse("api").unwrap()),
        ];
        for arn in arns {
            let text = arn.render(&context);
            assert!(text.starts_with("arn:aws:ecs:us-east-1:000000000000:"), "{text}");
            assert_eq!(Arn::parse(&text, &context).unwrap(), arn);
        }
    }

    #[test]
    fn long_format_layout() {
        let context = ArnContext { region: "eu-west-1".into(), account: "123456789012".into() };
        let arn = Arn::TaskDefinition(TaskDefinitionFamily::parse("web").unwrap(), 3);
        assert_eq!(arn.render(&context), "arn:aws:ecs:eu-west-1:123456789012:task-definition/web:3");
    }

    #[test]
    fn rejects_foreign_and_malformed() {
        let context = ArnContext::default();
        assert!(matches!(
            Arn::parse("arn:aws:ecs:eu-west-1:000000000000:cluster/x", &context),
            Err(ArnError::ForeignAccount { .. })
        ));
        assert!(Arn::parse("arn:aws:ecs:us-east-1:000000000000:widget/x", &context).is_err());
        assert!(Arn::parse("cluster/x", &context).is_err());
        assert!(Arn::parse("arn:aws:ecs:us-east-1:000000000000:task/c/nothex", &context).is_err());
    }
}
