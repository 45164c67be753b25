//! CreateGateway, UpdateGateway, DeleteGateway, DescribeGateway, ListGateways and the cluster
//! associations (Associate/Disassociate, ListGatewayClusterAssociations), plus the read side
//! of routes (ListGatewayRoutes, DescribeGatewayRoute, DescribeGatewayResources).
//!
//! Requests arrive checked against the model by the edge; here are the rules that need
//! state: unique names, client tokens, deletion protection, associations in the way of a
//! deletion, at most five gateways per cluster.

use super::infrastructure::{apply_attributes, retarget_test_rules};
use super::records::{
    association_key, AssociationRecord, AssociationStatus, GatewayRecord, GatewayStatus, HostSharedAlb, RouteRecord,
    RouteStatus, TestTrafficHeader,
};
use super::GatewayChange;
use crate::clusters::active_cluster;
use crate::elb::ElbChange;
use crate::error::{ControlError, ControlResult};
use crate::state::{Change, State};
use crate::ControlPlane;
use berth_types::{ArnContext, ClusterName, ServiceName, Tag, Timestamp};

/// ECS's limit of gateways per cluster.
pub const MAX_GATEWAYS_PER_CLUSTER: usize = 5;

/// A checked CreateGateway.
#[derive(Debug, Clone)]
pub struct CreateGateway {
    pub name: String,
    pub infrastructure_role_arn: String,
    pub client_token: Option<(String, String)>,
    pub deletion_protection: bool,
    pub configuration: HostSharedAlb,
    pub tags: Vec<Tag>,
    pub propagate_tags: String,
}

/// A checked UpdateGateway: `None` keeps the current value.
#[derive(Debug, Clone, Default)]
pub struct UpdateGateway {
    pub infrastructure_role_arn: Option<String>,
    pub deletion_protection: Option<bool>,
    pub inbound_security_group: Option<String>,
    pub max_alb_count: Option<u32>,
    pub web_acl_arn: Option<String>,
    pub access_logs: Option<(String, Option<String>)>,
    pub http_desync: Option<String>,
    pub test_traffic_header: Option<TestTrafficHeader>,
    pub propagate_tags: Option<String>,
}

/// ListGatewayRoutes' filters; `None` and empty match everything.
#[derive(Debug, Clone, Default)]
pub struct RouteFilter {
    pub gateway: Option<String>,
    pub cluster: Option<ClusterName>,
    pub service: Option<ServiceName>,
    pub port_name: Option<String>,
    pub statuses: Vec<RouteStatus>,
}

pub fn gateway_arn(context: &ArnContext, name: &str) -> String {
    format!("arn:aws:ecs:{}:{}:gateway/{name}", context.region, context.account)
}

fn not_found() -> ControlError {
    ControlError::GatewayNotFound
}

pub(crate) fn gateway<'a>(state: &'a State, name_or_arn: &str) -> ControlResult<&'a GatewayRecord> {
    state.gateways.find(name_or_arn).ok_or_else(not_found)
}

/// The gateway and the ACTIVE cluster an association call names.
fn gateway_and_cluster<'a>(
    state: &'a State,
    name_or_arn: &str,
    cluster: &ClusterName,
) -> ControlResult<&'a GatewayRecord> {
    let record = gateway(state, name_or_arn)?;
    active_cluster(state, cluster)?;
    Ok(record)
}

impl ControlPlane {
    /// Creates the gateway (ACTIVE at once: its load balancer waits for a first route), or
    /// answers the one a repeated client token made.
    pub async fn create_gateway(&self, request: CreateGateway) -> ControlResult<GatewayRecord> {
        let context = self.arn_context().clone();
        self.mutate(move |state| {
            if let Some(existing) = state.gateways.find(&request.name) {
                if request.client_token.is_some() && existing.client_token == request.client_token {
                    return Ok((vec![], existing.clone()));
                }
                return Err(ControlError::InvalidParameter(format!(
                    "name: a gateway named {} already exists",
                    request.name
                )));
            }
            let now = Timestamp::now();
            let record = GatewayRecord {
                arn: gateway_arn(&context, &request.name),
                name: request.name,
                status: GatewayStatus::Active,
                infrastructure_role_arn: request.infrastructure_role_arn,
                deletion_protection: request.deletion_protection,
                configuration: request.configuration,
                tags: request.tags,
                propagate_tags: request.propagate_tags,
                created_at: now,
                updated_at: now,
                client_token: request.client_token,
                label: format!("{:08x}", rand::random::<u32>()),
                managed: None,
            };
            Ok((vec![Change::Gateway(GatewayChange::PutGateway(Box::new(record.clone())))], record))
        })
        .await
    }

    /// Applies the update to the gateway and, at once, to the load balancer and rules it
    /// manages. Answers the record as the update leaves it.
    pub async fn update_gateway(&self, name_or_arn: &str, update: UpdateGateway) -> ControlResult<GatewayRecord> {
        self.mutate(|state| {
            let mut record = gateway(state, name_or_arn)?.clone();
            let configuration = &mut record.configuration;
            if let Some(role) = update.infrastructure_role_arn {
                record.infrastructure_role_arn = role;
            }
            if let Some(protection) = update.deletion_protection {
                record.deletion_protection = protection;
            }
            if let Some(group) = update.inbound_security_group {
                configuration.inbound_security_group = Some(group);
            }
            if let Some(count) = update.max_alb_count {
                configuration.max_alb_count = count;
            }
            if let Some(acl) = update.web_acl_arn {
                configuration.web_acl_arn = Some(acl);
            }
            if let Some(logs) = update.access_logs {
                configuration.access_logs = Some(logs);
            }
            if let Some(mode) = update.http_desync {
                configuration.http_desync = mode;
            }
            let retarget = update.test_traffic_header.is_some();
            if let Some(header) = update.test_traffic_header {
                configuration.test_traffic_header = Some(header);
            }
            if let Some(propagate) = update.propagate_tags {
                record.propagate_tags = propagate;
            }
            record.status = GatewayStatus::UpdateComplete;
            record.updated_at = Timestamp::now();
            let mut changes = Vec::new();
            if let Some(managed) = &record.managed {
                if let Some(load_balancer) = state.elb.load_balancers.get(&managed.load_balancer_arn) {
                    let mut load_balancer = load_balancer.clone();
                    apply_attributes(&record, &mut load_balancer.attributes);
                    load_balancer.security_groups =
                        record.configuration.inbound_security_group.iter().cloned().collect();
                    changes.push(Change::Elb(ElbChange::PutLoadBalancer(Box::new(load_balancer))));
                }
            }
            if retarget {
                changes.extend(retarget_test_rules(state, &record));
            }
            changes.push(Change::Gateway(GatewayChange::PutGateway(Box::new(record.clone()))));
            Ok((changes, record))
        })
        .await
    }

    /// Deletes the gateway and what it manages. Refused while deletion protection is on or a
    /// cluster is still associated (ACTIVE or DISASSOCIATING), as ECS refuses it.
    pub async fn delete_gateway(&self, name_or_arn: &str) -> ControlResult<GatewayRecord> {
        self.mutate(|state| {
            let record = gateway(state, name_or_arn)?.clone();
            if record.deletion_protection {
                return Err(ControlError::InvalidParameter(format!(
                    "gateway: the gateway {} has deletion protection enabled; disable it with UpdateGateway first",
                    record.name
                )));
            }
            let associated: Vec<&AssociationRecord> =
                state.gateways.associations.values().filter(|association| association.gateway_arn == record.arn).collect();
            if let Some(association) = associated.first() {
                return Err(ControlError::InvalidParameter(format!(
                    "gateway: the gateway {} is still associated with the cluster {} ({}); disassociate every cluster first",
                    record.name,
                    association.cluster,
                    association.status.as_str()
                )));
            }
            let mut changes = Vec::new();
            for route in state.gateways.routes_of(&record.arn) {
                changes.extend(super::infrastructure::remove_route(route));
            }
            if let Some(managed) = &record.managed {
                changes.extend(crate::elb::listeners::delete_listener_changes(state, &managed.listener_arn));
                changes.push(Change::Elb(ElbChange::DeleteLoadBalancer(managed.load_balancer_arn.clone())));
                if let Some(certificate) = &managed.certificate_arn {
                    changes.push(Change::Acm(crate::acm::AcmChange::DeleteCertificate(certificate.clone())));
                }
            }
            changes.push(Change::Gateway(GatewayChange::DeleteGateway(record.arn.clone())));
            let mut answer = record;
            answer.status = GatewayStatus::Deleted;
            Ok((changes, answer))
        })
        .await
    }

    pub fn describe_gateway(&self, name_or_arn: &str) -> ControlResult<GatewayRecord> {
        Ok(gateway(&self.read(), name_or_arn)?.clone())
    }

    /// Gateways in creation order, filtered by name and status.
    pub fn list_gateways(&self, names: &[String], statuses: &[GatewayStatus]) -> Vec<GatewayRecord> {
        let state = self.read();
        let mut found: Vec<GatewayRecord> = state
            .gateways
            .gateways
            .values()
            .filter(|record| names.is_empty() || names.contains(&record.name))
            .filter(|record| statuses.is_empty() || statuses.contains(&record.status))
            .cloned()
            .collect();
        found.sort_by(|a, b| (a.created_at, &a.arn).cmp(&(b.created_at, &b.arn)));
        found
    }

    /// Associates the gateway with the cluster (ACTIVE at once; an association that was
    /// disassociating becomes ACTIVE again).
    pub async fn associate_gateway(
        &self,
        name_or_arn: &str,
        cluster: &ClusterName,
    ) -> ControlResult<AssociationRecord> {
        self.mutate(|state| {
            let record = gateway_and_cluster(state, name_or_arn, cluster)?;
            let key = association_key(&record.arn, cluster);
            if let Some(existing) = state.gateways.associations.get(&key) {
                if existing.status == AssociationStatus::Active {
                    return Ok((vec![], existing.clone()));
                }
            } else {
                let associations = state.gateways.associations.values();
                let count = associations.filter(|association| &association.cluster == cluster).count();
                if count >= MAX_GATEWAYS_PER_CLUSTER {
                    return Err(ControlError::InvalidParameter(format!(
                        "cluster: the cluster {cluster} is already associated with {MAX_GATEWAYS_PER_CLUSTER} gateways, the most a cluster can have"
                    )));
                }
            }
            let association = AssociationRecord {
                gateway_arn: record.arn.clone(),
                cluster: cluster.clone(),
                status: AssociationStatus::Active,
                created_at: Timestamp::now(),
            };
            Ok((vec![Change::Gateway(GatewayChange::PutAssociation(Box::new(association.clone())))], association))
        })
        .await
    }

    /// Marks the association DISASSOCIATING: services keep their routes until they are
    /// updated, and the association goes once the cluster has none left on the gateway.
    pub async fn disassociate_gateway(
        &self,
        name_or_arn: &str,
        cluster: &ClusterName,
    ) -> ControlResult<AssociationRecord> {
        self.mutate(|state| {
            let record = gateway_and_cluster(state, name_or_arn, cluster)?;
            let existing = state
                .gateways
                .associations
                .get(&association_key(&record.arn, cluster))
                .ok_or(ControlError::ResourceNotFound)?;
            let mut association = existing.clone();
            association.status = AssociationStatus::Disassociating;
            let has_routes = state.gateways.routes_of(&record.arn).any(|route| &route.cluster == cluster);
            let change = if has_routes {
                GatewayChange::PutAssociation(Box::new(association.clone()))
            } else {
                GatewayChange::DeleteAssociation(association.key())
            };
            Ok((vec![Change::Gateway(change)], association))
        })
        .await
    }

    /// Associations filtered by gateway, cluster and status, oldest first.
    pub fn list_gateway_associations(
        &self,
        gateway_filter: Option<&str>,
        cluster: Option<&ClusterName>,
        statuses: &[AssociationStatus],
    ) -> ControlResult<Vec<AssociationRecord>> {
        let state = self.read();
        let gateway_arn =
            gateway_filter.map(|name| gateway(&state, name).map(|record| record.arn.clone())).transpose()?;
        let mut found: Vec<AssociationRecord> = state
            .gateways
            .associations
            .values()
            .filter(|association| gateway_arn.as_ref().is_none_or(|arn| &association.gateway_arn == arn))
            .filter(|association| cluster.is_none_or(|cluster| &association.cluster == cluster))
            .filter(|association| statuses.is_empty() || statuses.contains(&association.status))
            .cloned()
            .collect();
        found.sort_by_key(|association| (association.created_at, association.key()));
        Ok(found)
    }

    /// Routes matching the filter, oldest first.
    pub fn list_gateway_routes(&self, filter: &RouteFilter) -> ControlResult<Vec<RouteRecord>> {
        let state = self.read();
        let gateway_arn =
            filter.gateway.as_deref().map(|name| gateway(&state, name).map(|record| record.arn.clone())).transpose()?;
        let mut found: Vec<RouteRecord> = state
            .gateways
            .routes
            .values()
            .filter(|route| gateway_arn.as_ref().is_none_or(|arn| &route.gateway_arn == arn))
            .filter(|route| filter.cluster.as_ref().is_none_or(|cluster| &route.cluster == cluster))
            .filter(|route| filter.service.as_ref().is_none_or(|service| &route.service == service))
            .filter(|route| filter.port_name.as_ref().is_none_or(|name| &route.port_name == name))
            .filter(|route| filter.statuses.is_empty() || filter.statuses.contains(&route.status))
            .cloned()
            .collect();
        found.sort_by(|a, b| (a.created_at, &a.arn).cmp(&(b.created_at, &b.arn)));
        Ok(found)
    }

    pub fn describe_gateway_route(&self, arn: &str) -> ControlResult<RouteRecord> {
        self.read().gateways.routes.get(arn).cloned().ok_or(ControlError::ResourceNotFound)
    }

    /// Each route that still exists, with its gateway (a revision's gateway connections).
    pub fn routes_with_gateways(&self, route_arns: &[&str]) -> Vec<(RouteRecord, GatewayRecord)> {
        let state = self.read();
        route_arns
            .iter()
            .filter_map(|arn| state.gateways.routes.get(*arn))
            .filter_map(|route| {
                state.gateways.gateways.get(&route.gateway_arn).map(|gateway| (route.clone(), gateway.clone()))
            })
            .collect()
    }

    /// The gateway and the routes on it (DescribeGatewayResources).
    pub fn gateway_resources(&self, name_or_arn: &str) -> ControlResult<(GatewayRecord, Vec<RouteRecord>)> {
        let state = self.read();
        let record = gateway(&state, name_or_arn)?.clone();
        let routes = state.gateways.routes_of(&record.arn).cloned().collect();
        Ok((record, routes))
    }
}
