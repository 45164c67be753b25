//! What the drain pass finishes for gateways: a route its service gave up goes (with its rules
//! and target groups) once no target is left in its groups, registered or draining; then a
//! cluster association that is DISASSOCIATING goes once the cluster has no route left on it.

use super::infrastructure::remove_route;
use super::records::{AssociationStatus, RouteStatus};
use super::GatewayChange;
use crate::state::{Change, State};

/// The changes that finish what gateways can finish now.
pub(crate) fn finished(state: &State) -> Vec<Change> {
    let empty = |arn: &str| state.elb.target_groups.get(arn).is_none_or(|group| group.targets.is_empty());
    let mut changes = Vec::new();
    let mut removed: Vec<&str> = Vec::new();
    for route in state.gateways.routes.values() {
        if route.status == RouteStatus::DeleteInProgress
            && empty(&route.target_group_arn)
            && empty(&route.alternate_target_group_arn)
        {
            changes.extend(remove_route(route));
            removed.push(&route.arn);
        }
    }
    for association in state.gateways.associations.values() {
        let has_routes = state.gateways.routes.values().any(|route| {
            route.gateway_arn == association.gateway_arn
                && route.cluster == association.cluster
                && !removed.contains(&route.arn.as_str())
        });
        if association.status == AssociationStatus::Disassociating && !has_routes {
            changes.push(Change::Gateway(GatewayChange::DeleteAssociation(association.key())));
        }
    }
    changes
}
