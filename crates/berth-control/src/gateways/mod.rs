//! ECS gateways (the `*Gateway*` operations of ECS): shared ingress paths that several services
//! use through their `gatewayConnectors`.
//!
//! - `records`: the gateway with its host-shared ALB configuration, its associations with
//!   clusters, and its routes (one per service and port name);
//! - `actions`: Create/Update/Delete/Describe/ListGateways and the cluster associations;
//! - `infrastructure`: the ELBv2 resources a gateway manages — one load balancer with one
//!   listener (and, for HTTPS, a certificate it issues for its host names), and per route a
//!   host-header rule, a test-traffic rule and a pair of target groups;
//! - `connectors`: what CreateService and UpdateService do with `gatewayConnectors`: a route on
//!   every matching gateway of the cluster, written in the service's own batch, and the
//!   service's gateway-managed `loadBalancers` entries, so that registration, draining and
//!   blue/green traffic shifts are the ELB code's, unchanged;
//! - `cleanup`: a route the service no longer uses goes once its target groups are empty, and a
//!   disassociating cluster's association once it has no routes left.
//!
//! Invariant: gateway state lives in [`GatewayState`] and changes only through
//! [`GatewayChange`]s inside `ControlPlane::mutate`, in the same batch as the ELB records they
//! describe, so a gateway's routes and its load balancer's rules never disagree after a crash.

pub mod actions;
pub mod cleanup;
pub mod connectors;
pub mod infrastructure;
pub mod records;

#[cfg(test)]
mod tests;

use crate::state::{encode, scan};
use berth_store::{Store, StoreError, Table, WriteBatch};
use records::{AssociationRecord, GatewayRecord, RouteRecord};
use std::collections::BTreeMap;

/// One durable change to gateway state (the `Change::Gateway` of a batch).
#[derive(Debug, Clone)]
pub enum GatewayChange {
    PutGateway(Box<GatewayRecord>),
    DeleteGateway(String),
    PutAssociation(Box<AssociationRecord>),
    DeleteAssociation(String),
    PutRoute(Box<RouteRecord>),
    DeleteRoute(String),
}

/// Gateways by ARN, associations by [`AssociationRecord::key`], routes by ARN.
#[derive(Debug, Default)]
pub struct GatewayState {
    pub gateways: BTreeMap<String, GatewayRecord>,
    pub associations: BTreeMap<String, AssociationRecord>,
    pub routes: BTreeMap<String, RouteRecord>,
}

impl GatewayState {
    pub fn load(store: &dyn Store) -> Result<GatewayState, StoreError> {
        let mut state = GatewayState::default();
        scan(store, Table::Gateways, |record| state.apply(GatewayChange::PutGateway(Box::new(record))))?;
        scan(store, Table::GatewayAssociations, |record| state.apply(GatewayChange::PutAssociation(Box::new(record))))?;
        scan(store, Table::GatewayRoutes, |record| state.apply(GatewayChange::PutRoute(Box::new(record))))?;
        Ok(state)
    }

    /// Adds the store operations of `change` to `batch`.
    pub fn write(change: &GatewayChange, batch: &mut WriteBatch) {
        match change {
            GatewayChange::PutGateway(record) => {
                batch.put(Table::Gateways, record.arn.clone(), encode(record.as_ref()))
            }
            GatewayChange::DeleteGateway(arn) => batch.delete(Table::Gateways, arn.clone()),
            GatewayChange::PutAssociation(record) => {
                batch.put(Table::GatewayAssociations, record.key(), encode(record.as_ref()))
            }
            GatewayChange::DeleteAssociation(key) => batch.delete(Table::GatewayAssociations, key.clone()),
            GatewayChange::PutRoute(record) => {
                batch.put(Table::GatewayRoutes, record.arn.clone(), encode(record.as_ref()))
            }
            GatewayChange::DeleteRoute(arn) => batch.delete(Table::GatewayRoutes, arn.clone()),
        }
    }

    pub fn apply(&mut self, change: GatewayChange) {
        match change {
            GatewayChange::PutGateway(record) => {
                self.gateways.insert(record.arn.clone(), *record);
            }
            GatewayChange::DeleteGateway(arn) => {
                self.gateways.remove(&arn);
            }
            GatewayChange::PutAssociation(record) => {
                self.associations.insert(record.key(), *record);
            }
            GatewayChange::DeleteAssociation(key) => {
                self.associations.remove(&key);
            }
            GatewayChange::PutRoute(record) => {
                self.routes.insert(record.arn.clone(), *record);
            }
            GatewayChange::DeleteRoute(arn) => {
                self.routes.remove(&arn);
            }
        }
    }

    /// The gateway named by ARN or by name.
    pub fn find(&self, name_or_arn: &str) -> Option<&GatewayRecord> {
        if name_or_arn.starts_with("arn:") {
            self.gateways.get(name_or_arn)
        } else {
            self.gateways.values().find(|gateway| gateway.name == name_or_arn)
        }
    }

    /// The routes of a gateway.
    pub fn routes_of<'a>(&'a self, gateway_arn: &'a str) -> impl Iterator<Item = &'a RouteRecord> + 'a {
        self.routes.values().filter(move |route| route.gateway_arn == gateway_arn)
    }
}
