//! Builders shared by the integration tests.
#![allow(dead_code)]

use std::collections::BTreeMap;

use berth_scheduler::{InstanceView, PlacementRequest};
use berth_types::{ContainerInstanceStatus, Resources};

pub fn instance(id: &str, cpu: i64, memory: i64, zone: &str) -> InstanceView {
    InstanceView {
        id: id.to_string(),
        status: ContainerInstanceStatus::Active,
        agent_connected: true,
        remaining: Resources { cpu, memory, ports_tcp: [22].into(), ports_udp: Default::default() },
        attributes: BTreeMap::from([
            ("ecs.availability-zone".to_string(), Some(zone.to_string())),
            ("ecs.instance-type".to_string(), Some("m5.large".to_string())),
        ]),
        ec2_instance_id: format!("i-{id}"),
        agent_version: Some("1.80.0".to_string()),
        registered_at_epoch_ms: 1_529_360_908_000,
        running_tasks_count: 0,
        task_groups: BTreeMap::new(),
        capacity_provider: None,
    }
}

pub fn demand(cpu: i64, memory: i64, tcp: &[u16], udp: &[u16]) -> Resources {
    Resources { cpu, memory, ports_tcp: tcp.iter().copied().collect(), ports_udp: udp.iter().copied().collect() }
}

pub fn request(demand: Resources, count: usize) -> PlacementRequest {
    PlacementRequest {
        demand,
        count,
        group: "family:web".to_string(),
        constraints: vec![],
        strategy: vec![],
        required_attributes: vec![],
    }
}
