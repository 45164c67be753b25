//! The ECS gateway operations (CreateGateway, UpdateGateway, DeleteGateway, DescribeGateway,
//! ListGateways, DescribeGatewayResources, DescribeGatewayRoute, ListGatewayRoutes,
//! AssociateGatewayWithCluster, DisassociateGatewayFromCluster,
//! ListGatewayClusterAssociations) and the `gatewayConnectors` member of CreateService and
//! UpdateService: requests parsed into `berth_control::gateways` values, records rendered
//! back.
//!
//! Invariant: a malformed member is refused naming its field and changes nothing.

use crate::error::{ApiError, ApiResult};
use crate::{parse, Api};
use berth_control::gateways::actions::{CreateGateway, RouteFilter, UpdateGateway};
use berth_control::gateways::connectors::GatewayConnector;
use berth_control::gateways::infrastructure::ConnectorHealthCheck;
use berth_control::gateways::records::{
    AccessType, AssociationRecord, AssociationStatus, GatewayRecord, GatewayStatus, HostSharedAlb, RouteRecord,
    RouteStatus, TestTrafficHeader,
};
use berth_ecs_wire as wire;
use berth_types::{Arn, ArnContext, ClusterName, ServiceName};

/// ECS pages gateway lists by up to 100, and gateway resources by up to 20 (10 by default).
const MAX_PAGE: usize = 100;
const MAX_RESOURCES_PAGE: usize = 20;
const DEFAULT_RESOURCES_PAGE: usize = 10;
const MAX_NAME: usize = 255;
const MAX_NAME_FILTERS: usize = 10;
/// A gateway manages 10 load balancers unless told otherwise.
const DEFAULT_MAX_ALB_COUNT: u32 = 10;

fn invalid<T>(message: String) -> ApiResult<T> {
    Err(ApiError::invalid_parameter(message))
}

fn gateway_status(status: GatewayStatus) -> wire::GatewayStatus {
    wire::GatewayStatus::parse(status.as_str()).expect("gateway statuses are ECS's")
}

fn association_status(status: AssociationStatus) -> wire::GatewayClusterAssociationStatus {
    wire::GatewayClusterAssociationStatus::parse(status.as_str()).expect("association statuses are ECS's")
}

fn route_status(status: RouteStatus) -> wire::GatewayRouteStatus {
    wire::GatewayRouteStatus::parse(status.as_str()).expect("route statuses are ECS's")
}

fn access_type(access: AccessType) -> wire::AccessType {
    match access {
        AccessType::Public => wire::AccessType::Public,
        AccessType::Private => wire::AccessType::Private,
    }
}

fn cluster_arn(cluster: &ClusterName, context: &ArnContext) -> String {
    Arn::Cluster(cluster.clone()).render(context)
}

fn service_arn(route: &RouteRecord, context: &ArnContext) -> String {
    Arn::Service(route.cluster.clone(), route.service.clone()).render(context)
}

/// `gateway`: a gateway's name or ARN.
fn gateway_reference(value: Option<&String>, field: &str) -> ApiResult<String> {
    match value.map(String::as_str) {
        Some(value) if !value.is_empty() && value.len() <= 1600 => Ok(value.to_string()),
        _ => invalid(format!("{field}: a gateway name or ARN is required")),
    }
}

/// The gateway's name: 1–255 letters, digits, hyphens and underscores.
fn gateway_name(value: Option<&String>) -> ApiResult<String> {
    let value = value.map(String::as_str).unwrap_or_default();
    let valid = !value.is_empty()
        && value.len() <= MAX_NAME
        && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !valid {
        return invalid(format!(
            "name: must be 1 to {MAX_NAME} letters, digits, hyphens and underscores, got {value:?}"
        ));
    }
    Ok(value.to_string())
}

fn role_arn(value: &str, field: &str) -> ApiResult<String> {
    if value.starts_with("arn:") && value.contains(":iam::") && value.contains(":role/") {
        Ok(value.to_string())
    } else {
        invalid(format!("{field}: {value:?} is not an IAM role ARN"))
    }
}

fn bounded_count(value: Option<i32>, field: &str, low: i32, high: i32) -> ApiResult<Option<u32>> {
    match value {
        Some(value) if !(low..=high).contains(&value) => {
            invalid(format!("{field}: must be between {low} and {high}, got {value}"))
        }
        other => Ok(other.map(|value| value as u32)),
    }
}

fn access_logs(
    value: Option<&wire::GatewayElbAccessLogConfiguration>,
    field: &str,
) -> ApiResult<Option<(String, Option<String>)>> {
    let Some(s3) = value.and_then(|logs| logs.destination.as_ref()).and_then(|destination| destination.s3.as_ref())
    else {
        return Ok(None);
    };
    match s3.bucket.as_deref() {
        Some(bucket) if !bucket.is_empty() => Ok(Some((bucket.to_string(), s3.prefix.clone()))),
        _ => invalid(format!("{field}.destination.s3.bucket: required")),
    }
}

fn test_header(value: Option<&wire::GatewayAlbTestTrafficRules>, field: &str) -> ApiResult<Option<TestTrafficHeader>> {
    let Some(header) = value.and_then(|rules| rules.header.as_ref()) else { return Ok(None) };
    let name = header.name.clone().unwrap_or_default();
    if name.is_empty() || name.len() > 40 || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return invalid(format!("{field}.header.name: must be 1 to 40 letters, digits, hyphens and underscores"));
    }
    let values = header.values.clone().unwrap_or_default();
    if values.is_empty() || values.len() > 5 || values.iter().any(|value| value.is_empty() || value.len() > 128) {
        return invalid(format!("{field}.header.values: give 1 to 5 values of 1 to 128 characters"));
    }
    Ok(Some(TestTrafficHeader { name, values }))
}

fn host_shared_alb(value: &wire::HostSharedAlbConfiguration) -> ApiResult<HostSharedAlb> {
    let field = "configuration.hostSharedAlb";
    let network = value.network_configuration.clone().unwrap_or_default();
    let protocol = value.protocol.map_or("HTTPS", |protocol| protocol.as_str()).to_string();
    let port = match value.port {
        None => 443,
        Some(port) if (1..=65535).contains(&port) => port as u16,
        Some(port) => return invalid(format!("{field}.port: must be between 1 and 65535, got {port}")),
    };
    Ok(HostSharedAlb {
        scheme: value.scheme.map_or("internet-facing", |scheme| scheme.as_str()).to_string(),
        ip_address_type: network.ip_address_type.map_or("dualstack", |kind| kind.as_str()).to_string(),
        subnets: network.subnets.unwrap_or_default(),
        inbound_security_group: network.inbound_security_group,
        web_acl_arn: value.web_acl_arn.clone(),
        access_logs: access_logs(value.access_logs.as_ref(), &format!("{field}.accessLogs"))?,
        port,
        protocol,
        max_alb_count: bounded_count(value.max_alb_count, &format!("{field}.maxAlbCount"), 1, 100)?
            .unwrap_or(DEFAULT_MAX_ALB_COUNT),
        http_desync: value.http_desync.map_or("defensive", |mode| mode.as_str()).to_string(),
        test_traffic_header: test_header(value.test_traffic_rules.as_ref(), &format!("{field}.testTrafficRules"))?,
    })
}

fn client_token(request: &wire::CreateGatewayRequest) -> ApiResult<Option<(String, String)>> {
    match request.client_token.as_deref() {
        Some(token) if token.is_empty() || token.len() > 64 => {
            invalid("clientToken: must be 1 to 64 characters".into())
        }
        Some(token) => {
            let without = wire::CreateGatewayRequest { client_token: None, ..request.clone() };
            Ok(Some((token.to_string(), serde_json::to_string(&without).expect("requests always serialise"))))
        }
        None => Ok(None),
    }
}

pub async fn create_gateway(api: &Api, request: wire::CreateGatewayRequest) -> ApiResult<wire::CreateGatewayResponse> {
    let name = gateway_name(request.name.as_ref())?;
    let infrastructure_role_arn =
        role_arn(request.infrastructure_role_arn.as_deref().unwrap_or_default(), "infrastructureRoleArn")?;
    let Some(alb) = request.configuration.as_ref().and_then(|configuration| configuration.host_shared_alb.as_ref())
    else {
        return invalid("configuration: exactly one configuration variant is required; set hostSharedAlb".into());
    };
    let configuration = host_shared_alb(alb)?;
    let tags = berth_ecs_convert::parse_tags(request.tags.as_ref())?;
    let record = api
        .control
        .create_gateway(CreateGateway {
            name,
            infrastructure_role_arn,
            client_token: client_token(&request)?,
            deletion_protection: request.deletion_protection.unwrap_or(true),
            configuration,
            tags,
            propagate_tags: request.propagate_tags.map_or("GATEWAY", |propagate| propagate.as_str()).to_string(),
        })
        .await?;
    Ok(wire::CreateGatewayResponse {
        gateway_arn: Some(record.arn),
        name: Some(record.name),
        status: Some(gateway_status(record.status)),
    })
}

pub async fn update_gateway(api: &Api, request: wire::UpdateGatewayRequest) -> ApiResult<wire::UpdateGatewayResponse> {
    let gateway = gateway_reference(request.gateway.as_ref(), "gateway")?;
    let alb = request.configuration.as_ref().and_then(|configuration| configuration.host_shared_alb.clone());
    if request.configuration.is_some() && alb.is_none() {
        return invalid("configuration: set hostSharedAlb, the gateway's type".into());
    }
    let alb = alb.unwrap_or_default();
    let field = "configuration.hostSharedAlb";
    let update = UpdateGateway {
        infrastructure_role_arn: request
            .infrastructure_role_arn
            .as_deref()
            .map(|arn| role_arn(arn, "infrastructureRoleArn"))
            .transpose()?,
        deletion_protection: request.deletion_protection,
        inbound_security_group: alb.network_configuration.and_then(|network| network.inbound_security_group),
        max_alb_count: bounded_count(alb.max_alb_count, &format!("{field}.maxAlbCount"), 1, 100)?,
        web_acl_arn: alb.web_acl_arn,
        access_logs: access_logs(alb.access_logs.as_ref(), &format!("{field}.accessLogs"))?,
        http_desync: alb.http_desync.map(|mode| mode.as_str().to_string()),
        test_traffic_header: test_header(alb.test_traffic_rules.as_ref(), &format!("{field}.testTrafficRules"))?,
        propagate_tags: request.propagate_tags.map(|propagate| propagate.as_str().to_string()),
    };
    let record = api.control.update_gateway(&gateway, update).await?;
    // The changes reach every load balancer before the call returns; ECS answers the status
    // of an update it has begun, and DescribeGateway shows it complete.
    Ok(wire::UpdateGatewayResponse {
        gateway_arn: Some(record.arn),
        name: Some(record.name),
        status: Some(wire::GatewayStatus::UpdateInProgress),
    })
}

pub async fn delete_gateway(api: &Api, request: wire::DeleteGatewayRequest) -> ApiResult<wire::DeleteGatewayResponse> {
    let gateway = gateway_reference(request.gateway.as_ref(), "gateway")?;
    let record = api.control.delete_gateway(&gateway).await?;
    Ok(wire::DeleteGatewayResponse {
        gateway_arn: Some(record.arn),
        name: Some(record.name),
        status: Some(gateway_status(record.status)),
    })
}

fn render_gateway(record: &GatewayRecord) -> wire::Gateway {
    let configuration = &record.configuration;
    wire::Gateway {
        gateway_arn: Some(record.arn.clone()),
        name: Some(record.name.clone()),
        status: Some(gateway_status(record.status)),
        status_reason: None,
        failures: Some(vec![]),
        infrastructure_role_arn: Some(record.infrastructure_role_arn.clone()),
        deletion_protection: Some(record.deletion_protection),
        configuration: Some(wire::DescribeGatewayConfiguration {
            host_shared_alb: Some(wire::DescribeGatewayAlbConfiguration {
                network_configuration: Some(wire::GatewayElbNetworkConfiguration {
                    inbound_security_group: configuration.inbound_security_group.clone(),
                    subnets: Some(configuration.subnets.clone()),
                    ip_address_type: wire::GatewayElbIpAddressType::parse(&configuration.ip_address_type),
                }),
                scheme: wire::GatewayElbScheme::parse(&configuration.scheme),
                access_logs: configuration.access_logs.as_ref().map(|(bucket, prefix)| {
                    wire::GatewayElbAccessLogConfiguration {
                        destination: Some(wire::GatewayElbAccessLogDestination {
                            s3: Some(wire::GatewayElbAccessLogS3Destination {
                                bucket: Some(bucket.clone()),
                                prefix: prefix.clone(),
                            }),
                        }),
                    }
                }),
                web_acl_arn: configuration.web_acl_arn.clone(),
                port: Some(i32::from(configuration.port)),
                protocol: wire::GatewayAlbProtocol::parse(&configuration.protocol),
                max_alb_count: Some(configuration.max_alb_count as i32),
                current_alb_count: Some(i32::from(record.managed.is_some())),
                http_desync: wire::GatewayAlbDesyncMitigationMode::parse(&configuration.http_desync),
                test_traffic_rules: configuration.test_traffic_header.as_ref().map(|header| {
                    wire::GatewayAlbTestTrafficRules {
                        header: Some(wire::GatewayTestTrafficHeader {
                            name: Some(header.name.clone()),
                            values: Some(header.values.clone()),
                        }),
                    }
                }),
            }),
        }),
        access_type: Some(access_type(configuration.access_type())),
        propagate_tags: wire::PropagateGatewayTags::parse(&record.propagate_tags),
        tags: Some(crate::render::tags(&record.tags)),
        created_at: Some(record.created_at.as_epoch_seconds()),
        updated_at: Some(record.updated_at.as_epoch_seconds()),
    }
}

pub async fn describe_gateway(
    api: &Api,
    request: wire::DescribeGatewayRequest,
) -> ApiResult<wire::DescribeGatewayResponse> {
    let gateway = gateway_reference(request.gateway.as_ref(), "gateway")?;
    let record = api.control.describe_gateway(&gateway)?;
    Ok(wire::DescribeGatewayResponse { gateway: Some(render_gateway(&record)) })
}

pub async fn list_gateways(api: &Api, request: wire::ListGatewaysRequest) -> ApiResult<wire::ListGatewaysResponse> {
    let names = parse::bounded(request.names.as_ref(), MAX_NAME_FILTERS, "names", false)?;
    let statuses: Vec<GatewayStatus> = request
        .status
        .iter()
        .flatten()
        .filter_map(|status| GatewayStatus::ALL.iter().copied().find(|candidate| candidate.as_str() == status.as_str()))
        .collect();
    let records = api.control.list_gateways(names, &statuses);
    let (page, next_token) =
        parse::page(&records, request.max_results, request.next_token.as_ref(), MAX_PAGE, MAX_PAGE)?;
    Ok(wire::ListGatewaysResponse {
        gateways: Some(
            page.iter()
                .map(|record| wire::GatewaySummary {
                    gateway_arn: Some(record.arn.clone()),
                    name: Some(record.name.clone()),
                    status: Some(gateway_status(record.status)),
                    created_at: Some(record.created_at.as_epoch_seconds()),
                })
                .collect(),
        ),
        next_token,
    })
}

fn render_association(
    record: &AssociationRecord,
    context: &ArnContext,
) -> (String, String, wire::GatewayClusterAssociationStatus) {
    (record.gateway_arn.clone(), cluster_arn(&record.cluster, context), association_status(record.status))
}

pub async fn associate_gateway_with_cluster(
    api: &Api,
    request: wire::AssociateGatewayWithClusterRequest,
) -> ApiResult<wire::AssociateGatewayWithClusterResponse> {
    let gateway = gateway_reference(request.gateway.as_ref(), "gateway")?;
    let cluster = parse::cluster(request.cluster.as_ref(), api.context())?;
    let record = api.control.associate_gateway(&gateway, &cluster).await?;
    let (gateway_arn, cluster_arn, status) = render_association(&record, api.context());
    Ok(wire::AssociateGatewayWithClusterResponse {
        gateway_arn: Some(gateway_arn),
        cluster_arn: Some(cluster_arn),
        status: Some(status),
    })
}

pub async fn disassociate_gateway_from_cluster(
    api: &Api,
    request: wire::DisassociateGatewayFromClusterRequest,
) -> ApiResult<wire::DisassociateGatewayFromClusterResponse> {
    let gateway = gateway_reference(request.gateway.as_ref(), "gateway")?;
    let cluster = parse::cluster(request.cluster.as_ref(), api.context())?;
    let record = api.control.disassociate_gateway(&gateway, &cluster).await?;
    let (gateway_arn, cluster_arn, status) = render_association(&record, api.context());
    Ok(wire::DisassociateGatewayFromClusterResponse {
        gateway_arn: Some(gateway_arn),
        cluster_arn: Some(cluster_arn),
        status: Some(status),
    })
}

pub async fn list_gateway_cluster_associations(
    api: &Api,
    request: wire::ListGatewayClusterAssociationsRequest,
) -> ApiResult<wire::ListGatewayClusterAssociationsResponse> {
    let context = api.context();
    let cluster = request.cluster.as_ref().map(|cluster| parse::cluster(Some(cluster), context)).transpose()?;
    let statuses: Vec<AssociationStatus> = request
        .status
        .iter()
        .flatten()
        .filter_map(|status| match status {
            wire::GatewayClusterAssociationStatus::Active => Some(AssociationStatus::Active),
            wire::GatewayClusterAssociationStatus::Disassociating => Some(AssociationStatus::Disassociating),
            // An association that is gone is not kept.
            wire::GatewayClusterAssociationStatus::Inactive => None,
        })
        .collect();
    let only_inactive = request.status.as_ref().is_some_and(|wanted| !wanted.is_empty()) && statuses.is_empty();
    let records = if only_inactive {
        vec![]
    } else {
        api.control.list_gateway_associations(request.gateway.as_deref(), cluster.as_ref(), &statuses)?
    };
    let (page, next_token) =
        parse::page(&records, request.max_results, request.next_token.as_ref(), MAX_PAGE, MAX_PAGE)?;
    Ok(wire::ListGatewayClusterAssociationsResponse {
        gateway_cluster_associations: Some(
            page.iter()
                .map(|record| {
                    let (gateway_arn, cluster_arn, status) = render_association(record, context);
                    wire::GatewayClusterAssociationSummary {
                        gateway_arn: Some(gateway_arn),
                        cluster_arn: Some(cluster_arn),
                        status: Some(status),
                    }
                })
                .collect(),
        ),
        next_token,
    })
}

fn route_filter_service(value: Option<&String>, context: &ArnContext) -> ApiResult<Option<ServiceName>> {
    let Some(value) = value else { return Ok(None) };
    if value.starts_with("arn:") {
        return match Arn::parse(value, context) {
            Ok(Arn::Service(_, name)) => Ok(Some(name)),
            _ => invalid(format!("service: {value:?} is not a service ARN")),
        };
    }
    ServiceName::parse(value).map(Some).map_err(|error| ApiError::invalid_parameter(format!("service: {error}")))
}

pub async fn list_gateway_routes(
    api: &Api,
    request: wire::ListGatewayRoutesRequest,
) -> ApiResult<wire::ListGatewayRoutesResponse> {
    let context = api.context();
    let statuses: Vec<RouteStatus> = request
        .status
        .iter()
        .flatten()
        .filter_map(|status| match status {
            wire::GatewayRouteStatus::Active => Some(RouteStatus::Active),
            wire::GatewayRouteStatus::DeleteInProgress => Some(RouteStatus::DeleteInProgress),
            // Berth makes and removes routes in the batch of the call that asks: they are
            // never in the other states.
            _ => None,
        })
        .collect();
    let filter = RouteFilter {
        gateway: request.gateway.clone(),
        cluster: request.cluster.as_ref().map(|cluster| parse::cluster(Some(cluster), context)).transpose()?,
        service: route_filter_service(request.service.as_ref(), context)?,
        port_name: request.service_container_port_name.clone(),
        statuses,
    };
    let only_absent_states =
        request.status.as_ref().is_some_and(|wanted| !wanted.is_empty()) && filter.statuses.is_empty();
    let records = if only_absent_states { vec![] } else { api.control.list_gateway_routes(&filter)? };
    let (page, next_token) =
        parse::page(&records, request.max_results, request.next_token.as_ref(), MAX_PAGE, MAX_PAGE)?;
    Ok(wire::ListGatewayRoutesResponse {
        gateway_routes: Some(
            page.iter()
                .map(|route| wire::GatewayRouteSummary {
                    gateway_route_arn: Some(route.arn.clone()),
                    gateway_arn: Some(route.gateway_arn.clone()),
                    cluster_arn: Some(cluster_arn(&route.cluster, context)),
                    service_arn: Some(service_arn(route, context)),
                    service_container_port_name: Some(route.port_name.clone()),
                    status: Some(route_status(route.status)),
                })
                .collect(),
        ),
        next_token,
    })
}

/// `https://HOST` (with the port when it is not 443; `http://` for an HTTP gateway).
pub(crate) fn service_url(gateway: &GatewayRecord, route: &RouteRecord) -> String {
    let configuration = &gateway.configuration;
    let scheme = if configuration.protocol == "HTTPS" { "https" } else { "http" };
    let default_port = if scheme == "https" { 443 } else { 80 };
    if configuration.port == default_port {
        format!("{scheme}://{}", route.host)
    } else {
        format!("{scheme}://{}:{}", route.host, configuration.port)
    }
}

pub async fn describe_gateway_route(
    api: &Api,
    request: wire::DescribeGatewayRouteRequest,
) -> ApiResult<wire::DescribeGatewayRouteResponse> {
    let context = api.context();
    let arn = request.gateway_route_arn.clone().unwrap_or_default();
    let route = api.control.describe_gateway_route(&arn)?;
    let gateway = api.control.describe_gateway(&route.gateway_arn)?;
    let managed = gateway.managed.clone().unwrap_or_default();
    Ok(wire::DescribeGatewayRouteResponse {
        gateway_route: Some(wire::GatewayRoute {
            gateway_route_arn: Some(route.arn.clone()),
            service_arn: Some(service_arn(&route, context)),
            service_container_port_name: Some(route.port_name.clone()),
            status: Some(route_status(route.status)),
            service_url: Some(service_url(&gateway, &route)),
            resources: Some(wire::GatewayRouteResources {
                host_shared_alb: Some(vec![wire::GatewayRouteAlbResources {
                    acm_certificate_arn: managed.certificate_arn.clone(),
                    load_balancer_arn: Some(managed.load_balancer_arn.clone()),
                    listener_arn: Some(managed.listener_arn.clone()),
                    listener_rule_arn: Some(route.rule_arn.clone()),
                    test_listener_rule_arns: Some(route.test_rule_arn.iter().cloned().collect()),
                    load_balancer_security_groups: Some(vec![]),
                    service_security_group_arn: None,
                }]),
            }),
        }),
    })
}

pub async fn describe_gateway_resources(
    api: &Api,
    request: wire::DescribeGatewayResourcesRequest,
) -> ApiResult<wire::DescribeGatewayResourcesResponse> {
    let gateway = gateway_reference(request.gateway.as_ref(), "gateway")?;
    let (record, routes) = api.control.gateway_resources(&gateway)?;
    // One load balancer per gateway: the page is that one group (or none before a first route).
    let groups: Vec<wire::ElbGatewayResources> = record
        .managed
        .iter()
        .map(|managed| wire::ElbGatewayResources {
            load_balancer_arn: Some(managed.load_balancer_arn.clone()),
            listener_arn: Some(managed.listener_arn.clone()),
            security_group: record.configuration.inbound_security_group.clone(),
            gateway_route_arns: Some(routes.iter().map(|route| route.arn.clone()).collect()),
        })
        .collect();
    let (page, next_token) = parse::page(
        &groups,
        request.max_results,
        request.next_token.as_ref(),
        DEFAULT_RESOURCES_PAGE,
        MAX_RESOURCES_PAGE,
    )?;
    Ok(wire::DescribeGatewayResourcesResponse {
        gateway_resources: Some(wire::GatewayResources {
            gateway_arn: Some(record.arn),
            resources: Some(wire::GatewayInfrastructureResources { host_shared_alb: Some(page) }),
        }),
        next_token,
    })
}

/// `gatewayConnectors` of CreateService or UpdateService, shape-checked with ALB's bounds (the
/// control plane checks the port name and the cluster's gateways).
pub(crate) fn connectors(items: Option<&Vec<wire::GatewayConnector>>) -> ApiResult<Option<Vec<GatewayConnector>>> {
    let Some(items) = items else { return Ok(None) };
    let mut parsed = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let field = |name: &str| format!("gatewayConnectors[{index}].{name}");
        let port_name = item.port_name.clone().unwrap_or_default();
        if port_name.is_empty() || port_name.len() > 64 {
            return invalid(format!("{}: must be 1 to 64 characters", field("portName")));
        }
        let check = item.health_check.clone().unwrap_or_default();
        let path = match check.health_check_path {
            Some(path) if !path.starts_with('/') || path.len() > 1024 => {
                return invalid(format!(
                    "{}: must begin with '/' and be at most 1024 characters",
                    field("healthCheck.healthCheckPath")
                ))
            }
            other => other,
        };
        let matcher = match check.matcher.as_ref() {
            Some(matcher) if matcher.grpc_code.is_some() => {
                return invalid(format!(
                    "{}: gRPC health checks are not supported: the gateway's target groups speak HTTP/1.1",
                    field("healthCheck.matcher.grpcCode")
                ))
            }
            Some(matcher) => matcher.http_code.clone(),
            None => None,
        };
        if let Some(code) = &matcher {
            berth_control::elb::target_groups::check_matcher(code).map_err(|error| {
                ApiError::invalid_parameter(format!("{}: {}", field("healthCheck.matcher.httpCode"), error.message))
            })?;
        }
        let health_check = ConnectorHealthCheck {
            protocol: check.health_check_protocol.map(|protocol| protocol.as_str().to_string()),
            port: bounded_count(check.health_check_port, &field("healthCheck.healthCheckPort"), 1, 65535)?
                .map(|port| port as u16),
            path,
            timeout_seconds: bounded_count(
                check.health_check_timeout_seconds,
                &field("healthCheck.healthCheckTimeoutSeconds"),
                2,
                120,
            )?,
            interval_seconds: bounded_count(
                check.health_check_interval_seconds,
                &field("healthCheck.healthCheckIntervalSeconds"),
                5,
                300,
            )?,
            healthy_threshold: bounded_count(
                check.healthy_threshold_count,
                &field("healthCheck.healthyThresholdCount"),
                2,
                10,
            )?,
            unhealthy_threshold: bounded_count(
                check.unhealthy_threshold_count,
                &field("healthCheck.unhealthyThresholdCount"),
                2,
                10,
            )?,
            matcher,
        };
        if let (Some(timeout), Some(interval)) = (health_check.timeout_seconds, health_check.interval_seconds) {
            if timeout >= interval {
                return invalid(format!(
                    "{}: must be smaller than healthCheckIntervalSeconds",
                    field("healthCheck.healthCheckTimeoutSeconds")
                ));
            }
        }
        let access_types = item
            .filters
            .as_ref()
            .and_then(|filters| filters.access_types.clone())
            .unwrap_or_default()
            .into_iter()
            .map(|access| match access {
                wire::AccessType::Public => AccessType::Public,
                wire::AccessType::Private => AccessType::Private,
            })
            .collect();
        let deregistration_delay_seconds = bounded_count(
            item.deregistration_delay.as_ref().and_then(|delay| delay.timeout_seconds),
            &field("deregistrationDelay.timeoutSeconds"),
            0,
            3600,
        )?;
        parsed.push(GatewayConnector { port_name, health_check, access_types, deregistration_delay_seconds });
    }
    Ok(Some(parsed))
}

/// A stored connector as the wire shows it (what the user gave; ALB's defaults stay unsaid).
pub(crate) fn render_connector(connector: &GatewayConnector) -> wire::GatewayConnector {
    let check = &connector.health_check;
    let int = |value: Option<u32>| value.map(|value| value as i32);
    wire::GatewayConnector {
        port_name: Some(connector.port_name.clone()),
        health_check: Some(wire::GatewayConnectorHealthCheck {
            health_check_protocol: check.protocol.as_deref().and_then(wire::GatewayConnectorHealthCheckProtocol::parse),
            health_check_port: check.port.map(i32::from),
            health_check_path: check.path.clone(),
            health_check_timeout_seconds: int(check.timeout_seconds),
            health_check_interval_seconds: int(check.interval_seconds),
            healthy_threshold_count: int(check.healthy_threshold),
            unhealthy_threshold_count: int(check.unhealthy_threshold),
            matcher: check.matcher.as_ref().map(|code| wire::GatewayConnectorHealthCheckMatcher {
                http_code: Some(code.clone()),
                grpc_code: None,
            }),
        }),
        filters: (!connector.access_types.is_empty()).then(|| wire::GatewayConnectorFilters {
            access_types: Some(connector.access_types.iter().copied().map(access_type).collect()),
        }),
        deregistration_delay: connector
            .deregistration_delay_seconds
            .map(|seconds| wire::GatewayConnectorDeregistrationDelay { timeout_seconds: Some(seconds as i32) }),
    }
}

/// A revision's `ecsManagedResources.gatewayConnections`: each route with what it uses.
pub(crate) fn connections(routes: &[(RouteRecord, GatewayRecord)]) -> Vec<wire::GatewayConnection> {
    routes
        .iter()
        .map(|(route, gateway)| {
            let managed = gateway.managed.clone().unwrap_or_default();
            wire::GatewayConnection {
                gateway_arn: Some(gateway.arn.clone()),
                gateway_route_arn: Some(route.arn.clone()),
                port_name: Some(route.port_name.clone()),
                service_url: Some(service_url(gateway, route)),
                access_type: Some(access_type(gateway.configuration.access_type())),
                status: Some(route_status(route.status)),
                resources: Some(wire::GatewayConnectionResources {
                    host_shared_alb: Some(vec![wire::GatewayConnectionAlbResources {
                        acm_certificate_arn: managed.certificate_arn.clone(),
                        load_balancer_arn: Some(managed.load_balancer_arn.clone()),
                        load_balancer_security_group_arns: Some(
                            gateway.configuration.inbound_security_group.iter().cloned().collect(),
                        ),
                        listener_arn: Some(managed.listener_arn.clone()),
                        listener_rule_arn: Some(route.rule_arn.clone()),
                        test_listener_rule_arn: route.test_rule_arn.clone(),
                        target_group_arn: Some(route.target_group_arn.clone()),
                        alternate_target_group_arn: Some(route.alternate_target_group_arn.clone()),
                    }]),
                }),
            }
        })
        .collect()
}
