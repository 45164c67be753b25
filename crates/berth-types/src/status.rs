//! The status enums of ECS resources, with the ordering rules the lifecycle relies on.

use serde::{Deserialize, Serialize};

macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The spelling ECS uses on the wire.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
            pub fn parse(value: &str) -> Option<Self> {
                match value { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str(self.as_str())
            }
        }
    };
}

wire_enum!(
    /// A task's `lastStatus`, declared in lifecycle order: the derived `Ord` is the order in
    /// which a task may move, and a task never moves backwards.
    TaskStatus {
        Provisioning => "PROVISIONING",
        Pending => "PENDING",
        Activating => "ACTIVATING",
        Running => "RUNNING",
        Deactivating => "DEACTIVATING",
        Stopping => "STOPPING",
        Deprovisioning => "DEPROVISIONING",
        Stopped => "STOPPED",
    }
);

impl TaskStatus {
    /// A task that has not reached RUNNING yet (what ECS counts as "pending").
    pub fn is_pending(self) -> bool {
        self < TaskStatus::Running
    }
}

wire_enum!(
    /// A task's `desiredStatus`. ECS never sets PENDING; RUNNING or STOPPED only.
    DesiredStatus {
        Running => "RUNNING",
        Stopped => "STOPPED",
    }
);

wire_enum!(
    /// Why a task stopped (`stopCode`).
    TaskStopCode {
        TaskFailedToStart => "TaskFailedToStart",
        EssentialContainerExited => "EssentialContainerExited",
        UserInitiated => "UserInitiated",
        ServiceSchedulerInitiated => "ServiceSchedulerInitiated",
        SpotInterruption => "SpotInterruption",
        TerminationNotice => "TerminationNotice",
    }
);

wire_enum!(
    /// Health of a container or, aggregated over essential containers, of a task.
    HealthStatus {
        Healthy => "HEALTHY",
        Unhealthy => "UNHEALTHY",
        Unknown => "UNKNOWN",
    }
);

wire_enum!(
    /// A container instance's status.
    ContainerInstanceStatus {
        Active => "ACTIVE",
        Draining => "DRAINING",
        Registering => "REGISTERING",
        Deregistering => "DEREGISTERING",
        RegistrationFailed => "REGISTRATION_FAILED",
        Inactive => "INACTIVE",
    }
);

wire_enum!(
    /// A cluster's status.
    ClusterStatus {
        Active => "ACTIVE",
        Provisioning => "PROVISIONING",
        Deprovisioning => "DEPROVISIONING",
        Failed => "FAILED",
        Inactive => "INACTIVE",
    }
);

wire_enum!(
    /// A task definition revision's status.
    TaskDefinitionStatus {
        Active => "ACTIVE",
        Inactive => "INACTIVE",
        DeleteInProgress => "DELETE_IN_PROGRESS",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifecycle_order_matches_ecs() {
        let order = TaskStatus::ALL;
        assert_eq!(order.first(), Some(&TaskStatus::Provisioning));
        assert_eq!(order.last(), Some(&TaskStatus::Stopped));
        assert!(order.windows(2).all(|pair| pair[0] < pair[1]));
        assert!(TaskStatus::Pending.is_pending());
        assert!(!TaskStatus::Running.is_pending());
    }

    #[test]
    fn wire_spellings_round_trip() {
        for status in ContainerInstanceStatus::ALL {
            assert_eq!(ContainerInstanceStatus::parse(status.as_str()), Some(*status));
        }
        assert_eq!(TaskStopCode::UserInitiated.as_str(), "UserInitiated");
        assert_eq!(TaskDefinitionStatus::parse("DELETE_IN_PROGRESS"), Some(TaskDefinitionStatus::DeleteInProgress));
    }
}
