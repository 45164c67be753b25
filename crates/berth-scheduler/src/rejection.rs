//! Why a task cannot go on an instance, in ECS's own `failures[].reason` words.
//!
//! Invariant: the declaration order is the order placement checks in, so the first failing
//! check is the one reported: the instance's state, then constraints, then resources.

/// One instance's reason for refusing a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rejection {
    /// Not ACTIVE (draining, registering, inactive…): nothing new goes there.
    NotActive,
    AgentDisconnected,
    /// Lacks an attribute the task definition requires.
    MissingAttribute,
    MemberOf,
    DistinctInstance,
    Cpu,
    Memory,
    Ports,
    PortsUdp,
}

impl Rejection {
    pub fn reason(self) -> &'static str {
        match self {
            Rejection::NotActive => "INACTIVE",
            Rejection::AgentDisconnected => "AGENT",
            Rejection::MissingAttribute => "ATTRIBUTE",
            Rejection::MemberOf => "MemberOf placement constraint unsatisfied",
            Rejection::DistinctInstance => "DistinctInstance placement constraint unsatisfied",
            Rejection::Cpu => "RESOURCE:CPU",
            Rejection::Memory => "RESOURCE:MEMORY",
            Rejection::Ports => "RESOURCE:PORTS",
            Rejection::PortsUdp => "RESOURCE:PORTS_UDP",
        }
    }

    /// Whether the rejection stays true for the rest of one placement call, where remaining
    /// resources only shrink and group counts only grow. Placement drops such instances from
    /// its indexes instead of stepping over them again.
    pub(crate) fn lasts_for_the_call(self) -> bool {
        !matches!(self, Rejection::MemberOf)
    }
}
