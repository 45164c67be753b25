//! A service's `gatewayConnectors`: CreateService and UpdateService call [`connect`] inside
//! their own `mutate`, so the routes, the ELB records behind them and the service's
//! gateway-managed `loadBalancers` entries are one batch.
//!
//! A connector gets a route on every gateway of the service's cluster that is ACTIVE there and
//! whose access type its filter admits. The route's target groups become `loadBalancers`
//! entries of the service (marked with the route), with the route's rules as their
//! `advancedConfiguration`: tasks register and drain, and blue/green, linear and canary
//! deployments shift traffic, exactly as for target groups the user made.

use super::infrastructure::{
    create_route, ensure_load_balancer, refresh_route_groups, ConnectorHealthCheck, RouteRequest,
};
use super::records::{AccessType, AssociationStatus, RouteRecord, RouteStatus};
use super::GatewayChange;
use crate::error::{ControlError, ControlResult};
use crate::services::{AdvancedLoadBalancer, ServiceLoadBalancer};
use crate::state::{Change, State};
use crate::task_definitions::find_task_definition;
use berth_planner::TaskDefinitionKey;
use berth_types::{ArnContext, ClusterName, ServiceName};
use serde::{Deserialize, Serialize};

/// ECS's limit: a service has at most one gateway connector.
pub const MAX_CONNECTORS: usize = 1;

/// One validated `gatewayConnectors` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GatewayConnector {
    pub port_name: String,
    pub health_check: ConnectorHealthCheck,
    /// `filters.accessTypes`; empty admits both.
    pub access_types: Vec<AccessType>,
    pub deregistration_delay_seconds: Option<u32>,
}

fn invalid<T>(message: String) -> ControlResult<T> {
    Err(ControlError::InvalidParameter(message))
}

/// The container and container port of the task definition's port mapping named `port_name`.
fn named_port(state: &State, key: &TaskDefinitionKey, port_name: &str) -> ControlResult<(String, u16)> {
    let definition = find_task_definition(state, key.family.as_str(), Some(key.revision))?;
    let containers = definition.document.get("containerDefinitions").and_then(|value| value.as_array());
    for container in containers.into_iter().flatten() {
        let mappings = container.get("portMappings").and_then(|value| value.as_array());
        for mapping in mappings.into_iter().flatten() {
            if mapping.get("name").and_then(|value| value.as_str()) != Some(port_name) {
                continue;
            }
            let name = container.get("name").and_then(|value| value.as_str()).unwrap_or_default();
            let port = mapping.get("containerPort").and_then(|value| value.as_u64()).unwrap_or_default();
            return Ok((name.to_string(), u16::try_from(port).unwrap_or_default()));
        }
    }
    invalid(format!("gatewayConnectors[0].portName: the task definition {key} has no port mapping named {port_name:?}"))
}

/// The routes a service's connectors need (reusing those it has), the gateway-managed
/// `loadBalancers` entries that go with them, and the changes. Routes the connectors no longer
/// need turn DELETE_IN_PROGRESS: their rules keep serving the tasks still registered until the
/// cleanup pass removes them once their groups are empty.
pub(crate) fn connect(
    state: &State,
    context: &ArnContext,
    cluster: &ClusterName,
    service: &ServiceName,
    connectors: &[GatewayConnector],
    task_definition: Option<&TaskDefinitionKey>,
) -> ControlResult<(Vec<ServiceLoadBalancer>, Vec<Change>)> {
    if connectors.len() > MAX_CONNECTORS {
        return invalid(format!(
            "gatewayConnectors: a service can have at most {MAX_CONNECTORS} gateway connector, got {}",
            connectors.len()
        ));
    }
    let current: Vec<&RouteRecord> = state
        .gateways
        .routes
        .values()
        .filter(|route| &route.cluster == cluster && &route.service == service && route.status == RouteStatus::Active)
        .collect();
    let mut changes = Vec::new();
    let mut entries = Vec::new();
    let mut kept: Vec<&str> = Vec::new();
    // Listeners this batch creates are not in `state` yet: two new gateways must not share a port.
    let mut new_ports: Vec<u16> = Vec::new();
    if let (Some(connector), Some(key)) = (connectors.first(), task_definition) {
        let (container_name, container_port) = named_port(state, key, &connector.port_name)?;
        let gateways: Vec<_> = state
            .gateways
            .associations
            .values()
            .filter(|association| &association.cluster == cluster && association.status == AssociationStatus::Active)
            .filter_map(|association| state.gateways.gateways.get(&association.gateway_arn))
            .filter(|gateway| {
                connector.access_types.is_empty()
                    || connector.access_types.contains(&gateway.configuration.access_type())
            })
            .collect();
        if gateways.is_empty() {
            return invalid(format!(
                "gatewayConnectors[0]: no gateway is associated with the cluster {cluster} for this connector's access types; associate one with AssociateGatewayWithCluster"
            ));
        }
        for gateway in gateways {
            let existing =
                current.iter().find(|route| route.gateway_arn == gateway.arn && route.port_name == connector.port_name);
            let route = match existing {
                Some(route) => {
                    changes.extend(refresh_route_groups(
                        state,
                        route,
                        &connector.health_check,
                        connector.deregistration_delay_seconds,
                    ));
                    kept.push(&route.arn);
                    (*route).clone()
                }
                None => {
                    let (managed, created) = ensure_load_balancer(state, context, gateway)?;
                    if gateway.managed.is_none() {
                        let port = gateway.configuration.port;
                        if new_ports.contains(&port) {
                            return invalid(format!(
                                "gatewayConnectors: two of the cluster's gateways listen on port {port}; Berth's proxy binds one address, so give them different ports"
                            ));
                        }
                        new_ports.push(port);
                        changes.extend(created);
                        let mut gateway = gateway.clone();
                        gateway.managed = Some(managed.clone());
                        changes.push(Change::Gateway(GatewayChange::PutGateway(Box::new(gateway))));
                    }
                    let request = RouteRequest {
                        cluster,
                        service,
                        port_name: &connector.port_name,
                        container_port,
                        health_check: &connector.health_check,
                        deregistration_delay_seconds: connector.deregistration_delay_seconds,
                    };
                    let (route, created) = create_route(state, context, gateway, &managed, &request);
                    changes.extend(created);
                    route
                }
            };
            entries.push(ServiceLoadBalancer {
                target_group_arn: route.target_group_arn.clone(),
                container_name: container_name.clone(),
                container_port,
                advanced: Some(AdvancedLoadBalancer {
                    alternate_target_group_arn: route.alternate_target_group_arn.clone(),
                    production_listener_rule: route.rule_arn.clone(),
                    test_listener_rule: route.test_rule_arn.clone(),
                    role_arn: None,
                }),
                gateway_route: Some(route.arn.clone()),
            });
        }
    }
    for route in current.into_iter().filter(|route| !kept.contains(&route.arn.as_str())) {
        let mut route = route.clone();
        route.status = RouteStatus::DeleteInProgress;
        changes.push(Change::Gateway(GatewayChange::PutRoute(Box::new(route))));
    }
    Ok((entries, changes))
}

/// A service being deleted gives up its routes (they go once its tasks have drained).
pub(crate) fn release_routes(state: &State, cluster: &ClusterName, service: &ServiceName) -> Vec<Change> {
    state
        .gateways
        .routes
        .values()
        .filter(|route| &route.cluster == cluster && &route.service == service && route.status == RouteStatus::Active)
        .map(|route| {
            let mut route = route.clone();
            route.status = RouteStatus::DeleteInProgress;
            Change::Gateway(GatewayChange::PutRoute(Box::new(route)))
        })
        .collect()
}
