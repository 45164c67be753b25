//! One module per group of ECS operations; each function takes the decoded request shape and
//! returns the response shape.

pub mod account_settings;
pub mod agent_operations;
pub mod attributes;
pub mod capacity_providers;
pub mod clusters;
pub mod container_instances;
pub mod daemon_task_definitions;
pub mod daemons;
pub mod gateways;
pub mod service_deployments;
pub mod services;
pub mod tags;
pub mod task_definitions;
pub mod task_protection;
pub mod task_sets;
pub mod tasks;
