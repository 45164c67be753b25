//! Resource amounts of a container instance or a task: CPU units (1024 per core), memory in
//! MiB, and the static host ports it holds (TCP and UDP apart, as ECS reports PORTS and
//! PORTS_UDP).

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum PortProtocol {
    Tcp,
    Udp,
}

impl PortProtocol {
    pub fn as_str(self) -> &'static str {
        match self {
            PortProtocol::Tcp => "tcp",
            PortProtocol::Udp => "udp",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resources {
    pub cpu: i64,
    pub memory: i64,
    pub ports_tcp: BTreeSet<u16>,
    pub ports_udp: BTreeSet<u16>,
}

impl Resources {
    pub fn ports(&self, protocol: PortProtocol) -> &BTreeSet<u16> {
        match protocol {
            PortProtocol::Tcp => &self.ports_tcp,
            PortProtocol::Udp => &self.ports_udp,
        }
    }

    /// Adds `other`'s amounts and ports to these.
    pub fn add(&mut self, other: &Resources) {
        self.cpu += other.cpu;
        self.memory += other.memory;
        self.ports_tcp.extend(other.ports_tcp.iter().copied());
        self.ports_udp.extend(other.ports_udp.iter().copied());
    }

    /// What remains of `self` (registered) once `used` is taken: amounts are subtracted, and
    /// the ports in use join the reserved ones (ECS reports remaining PORTS as the ports that
    /// are *taken*, reserved plus in use).
    pub fn remaining_after(&self, used: &Resources) -> Resources {
        let mut remaining = self.clone();
        remaining.cpu -= used.cpu;
        remaining.memory -= used.memory;
        remaining.ports_tcp.extend(used.ports_tcp.iter().copied());
        remaining.ports_udp.extend(used.ports_udp.iter().copied());
        remaining
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remaining_subtracts_amounts_and_marks_ports_taken() {
        let registered = Resources { cpu: 2048, memory: 4000, ports_tcp: [22].into(), ports_udp: BTreeSet::new() };
        let used = Resources { cpu: 512, memory: 1000, ports_tcp: [8080].into(), ports_udp: [53].into() };
        let remaining = registered.remaining_after(&used);
        assert_eq!(remaining.cpu, 1536);
        assert_eq!(remaining.memory, 3000);
        assert_eq!(remaining.ports_tcp, [22, 8080].into());
        assert_eq!(remaining.ports_udp, [53].into());
    }
}
