//! Typed identifiers. Each parses once at the edge and is valid from then on.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("{kind} name must be 1 to 255 letters (uppercase and lowercase), numbers, underscores and hyphens, got {value:?}")]
    InvalidName { kind: &'static str, value: String },
    #[error("{kind} ID must be 32 lowercase hexadecimal characters, got {value:?}")]
    InvalidId { kind: &'static str, value: String },
}

fn is_ecs_name(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 255
        && value.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
}

fn is_hex_id(value: &str) -> bool {
    value.len() == 32 && value.bytes().all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte))
}

/// A fresh ID: 32 hex digits, as ECS's, that begin with the time of creation (a UUIDv7's 48-bit
/// millisecond clock, then 74 random bits). IDs made close together sort close together, so a
/// burst of new tasks — and the reports that follow them — lands on a few pages at one edge
/// of the store's B-tree instead of dirtying pages all over it.
fn new_hex_id() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}

macro_rules! name_type {
    ($(#[$meta:meta])* $name:ident, $kind:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn parse(value: &str) -> Result<Self, IdError> {
                if is_ecs_name(value) {
                    Ok(Self(value.to_string()))
                } else {
                    Err(IdError::InvalidName { kind: $kind, value: value.to_string() })
                }
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str(&self.0)
            }
        }
    };
}

macro_rules! hex_id_type {
    ($(#[$meta:meta])* $name:ident, $kind:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn generate() -> Self {
                Self(new_hex_id())
            }
            pub fn parse(value: &str) -> Result<Self, IdError> {
                if is_hex_id(value) {
                    Ok(Self(value.to_string()))
                } else {
                    Err(IdError::InvalidId { kind: $kind, value: value.to_string() })
                }
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str(&self.0)
            }
        }
    };
}

name_type!(
    /// A cluster's name; the cluster's identity inside an account and region.
    ClusterName,
    "Cluster"
);
name_type!(
    /// A task definition family: revisions of one family share it.
    TaskDefinitionFamily,
    "Family"
);
name_type!(
    /// A service's name, unique among the cluster's active services.
    ServiceName,
    "Service"
);
name_type!(
    /// A daemon's name, unique among the cluster's daemons that are not yet deleted.
    DaemonName,
    "Daemon"
);
hex_id_type!(
    /// A task's ID, the last component of its ARN.
    TaskId,
    "Task"
);
hex_id_type!(
    /// A container instance's ID, the last component of its ARN.
    ContainerInstanceId,
    "Container instance"
);

impl ClusterName {
    /// The cluster ECS uses when a request names none.
    pub fn default_cluster() -> Self {
        Self("default".to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_ecs_rules() {
        assert!(ClusterName::parse("prod_web-1").is_ok());
        assert!(ClusterName::parse("").is_err());
        assert!(ClusterName::parse("has space").is_err());
        assert!(ClusterName::parse(&"a".repeat(256)).is_err());
        assert!(ClusterName::parse(&"a".repeat(255)).is_ok());
    }

    #[test]
    fn generated_ids_parse_back() {
        let id = TaskId::generate();
        assert_eq!(TaskId::parse(id.as_str()).unwrap(), id);
        assert!(TaskId::parse("XYZ").is_err());
    }
}
