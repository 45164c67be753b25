//! Berth's vocabulary, shared by every layer above it: typed identifiers and ARNs, the status
//! enums of the ECS lifecycle, resource amounts, the task specification an agent runs, and the
//! records the control plane stores.
//!
//! Invariant: no I/O and no knowledge of the wire format. A value of these types has already
//! been validated (IDs parse, ARNs are well formed); the edge does the parsing.

pub mod account_settings;
pub mod arn;
pub mod daemons;
pub mod ids;
pub mod records;
pub mod resources;
pub mod spec;
pub mod status;
pub mod time;

pub use arn::{Arn, ArnContext, ArnError, ResourceKind};
pub use ids::{ClusterName, ContainerInstanceId, DaemonName, IdError, ServiceName, TaskDefinitionFamily, TaskId};
pub use resources::{PortProtocol, Resources};
pub use status::{
    ClusterStatus, ContainerInstanceStatus, DesiredStatus, HealthStatus, TaskDefinitionStatus, TaskStatus, TaskStopCode,
};
pub use time::Timestamp;

/// Key/value tag as ECS stores it on every taggable resource.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

/// A name/value attribute of a container instance (`ecs.os-type`, custom ones, …).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct Attribute {
    pub name: String,
    pub value: Option<String>,
}
