//! Gateways: a service's connector makes a route with its rules and target groups on the
//! gateway's load balancer (created on first use), the route follows the service, and the
//! association and the gateway go only when nothing uses them.

use super::actions::{CreateGateway, RouteFilter, UpdateGateway};
use super::connectors::GatewayConnector;
use super::records::{AssociationStatus, HostSharedAlb, RouteStatus, TestTrafficHeader};
use crate::services::{CreateService, ServiceConfiguration, UpdateService};
use crate::testing::{cluster_with_instance, control_plane, name};
use crate::{ControlError, ControlPlane};
use berth_planner::TaskDefinitionKey;
use berth_proxy_protocol::Condition;
use berth_types::{ServiceName, TaskDefinitionFamily, Timestamp};

fn alb(port: u16, protocol: &str) -> HostSharedAlb {
    HostSharedAlb {
        scheme: "internet-facing".into(),
        ip_address_type: "dualstack".into(),
        subnets: vec![],
        inbound_security_group: None,
        web_acl_arn: None,
        access_logs: None,
        port,
        protocol: protocol.into(),
        max_alb_count: 10,
        http_desync: "defensive".into(),
        test_traffic_header: Some(TestTrafficHeader { name: "x-canary".into(), values: vec!["yes".into()] }),
    }
}

async fn gateway(control: &ControlPlane, gateway_name: &str, protocol: &str) -> String {
    control
        .create_gateway(CreateGateway {
            name: gateway_name.into(),
            infrastructure_role_arn: "arn:aws:iam::000000000000:role/gateway".into(),
            client_token: None,
            deletion_protection: false,
            configuration: alb(8443, protocol),
            tags: vec![],
            propagate_tags: "GATEWAY".into(),
        })
        .await
        .unwrap()
        .arn
}

/// A task definition `site` whose container `web` has the port mapping `http` on 8080.
async fn named_port_definition(control: &ControlPlane) -> TaskDefinitionKey {
    let mut spec = crate::testing::task_spec();
    spec.containers[0].port_mappings = vec![berth_types::spec::PortMappingSpec {
        container_port: 8080,
        host_port: None,
        protocol: berth_types::PortProtocol::Tcp,
    }];
    let document = serde_json::json!({
        "containerDefinitions": [{"name": "web", "portMappings": [{"name": "http", "containerPort": 8080}]}]
    });
    let family = TaskDefinitionFamily::parse("site").unwrap();
    let record = control.register_task_definition(family, spec, document, vec![]).await.unwrap();
    TaskDefinitionKey { family: record.family, revision: record.revision }
}

fn connector(port_name: &str) -> GatewayConnector {
    GatewayConnector {
        port_name: port_name.into(),
        health_check: Default::default(),
        access_types: vec![],
        deregistration_delay_seconds: Some(0),
    }
}

async fn create_service(control: &ControlPlane, key: &TaskDefinitionKey, port_name: &str) -> Result<(), ControlError> {
    let mut configuration = ServiceConfiguration::replica(key.clone(), 1);
    configuration.gateway_connectors = vec![connector(port_name)];
    control
        .create_service(CreateService {
            cluster: name("prod"),
            name: ServiceName::parse("shop").unwrap(),
            configuration,
            tags: vec![],
            client_token: None,
        })
        .await
        .map(|_| ())
}

#[tokio::test]
async fn a_connector_gets_a_route_whose_rules_and_groups_the_service_registers_in() {
    let control = control_plane();
    cluster_with_instance(&control, "prod", 1024, 1024).await;
    let key = named_port_definition(&control).await;
    let arn = gateway(&control, "edge", "HTTPS").await;
    let refused = create_service(&control, &key, "http").await.unwrap_err();
    assert!(refused.to_string().contains("AssociateGatewayWithCluster"), "no association yet: {refused}");
    control.associate_gateway("edge", &name("prod")).await.unwrap();
    let refused = create_service(&control, &key, "grpc").await.unwrap_err();
    assert!(refused.to_string().contains("no port mapping named \"grpc\""), "{refused}");
    assert!(control.read().elb.load_balancers.is_empty(), "a refused call creates nothing");

    create_service(&control, &key, "http").await.unwrap();
    {
        let state = control.read();
        let gateway = state.gateways.gateways.get(&arn).unwrap();
        let managed = gateway.managed.clone().expect("the first route creates the load balancer");
        let listener = state.elb.listeners.get(&managed.listener_arn).unwrap();
        assert_eq!((listener.port, listener.protocol.as_str()), (8443, "HTTPS"));
        assert_eq!(listener.default_certificate, managed.certificate_arn, "HTTPS serves the gateway's certificate");
        let certificate = state.acm.certificates.get(managed.certificate_arn.as_ref().unwrap()).unwrap();
        assert_eq!(certificate.facts.domain_name, Some(format!("*.{}", gateway.domain())));
        let route = state.gateways.routes.values().next().unwrap();
        assert!(route.host.ends_with(&gateway.domain()) && route.host.starts_with("shop-"), "{}", route.host);
        let rules = state.elb.rules_of(&managed.listener_arn);
        assert_eq!(rules.len(), 2, "a test rule ahead of the production rule");
        assert_eq!(rules[1].arn, route.rule_arn);
        assert_eq!(rules[1].conditions, vec![Condition::HostHeader(vec![route.host.clone()])]);
        assert!(matches!(&rules[0].conditions[1], Condition::HttpHeader { name, .. } if name == "x-canary"));
        let service = state.services.values().next().unwrap();
        let entry = &service.configuration.load_balancers[0];
        assert_eq!((entry.container_name.as_str(), entry.container_port), ("web", 8080));
        assert_eq!(entry.target_group_arn, route.target_group_arn);
        let advanced = entry.advanced.as_ref().unwrap();
        assert_eq!(advanced.alternate_target_group_arn, route.alternate_target_group_arn);
        assert_eq!(advanced.production_listener_rule, route.rule_arn);
    }

    // The association cannot go, nor the gateway, while the service routes through it.
    let refused = control.delete_gateway("edge").await.unwrap_err();
    assert!(refused.to_string().contains("still associated"), "{refused}");
    let association = control.disassociate_gateway("edge", &name("prod")).await.unwrap();
    assert_eq!(association.status, AssociationStatus::Disassociating);
    let listed = control.list_gateway_associations(Some("edge"), None, &[]).unwrap();
    assert_eq!(listed[0].status, AssociationStatus::Disassociating, "kept while the route exists");

    // Removing the connector gives the route up; with no targets left it goes at the next
    // drain pass, and the association with it.
    let update = UpdateService { gateway_connectors: Some(vec![]), ..Default::default() };
    control.update_service(&name("prod"), &ServiceName::parse("shop").unwrap(), update).await.unwrap();
    let routes = control.list_gateway_routes(&RouteFilter::default()).unwrap();
    assert_eq!(routes[0].status, RouteStatus::DeleteInProgress);
    let service = control.read().services.values().next().unwrap().clone();
    assert!(service.configuration.load_balancers.is_empty(), "the managed entry follows the connector");
    control.drain_pass(Timestamp::now()).await.unwrap();
    assert!(control.list_gateway_routes(&RouteFilter::default()).unwrap().is_empty());
    assert!(control.list_gateway_associations(None, None, &[]).unwrap().is_empty());
    {
        let state = control.read();
        assert_eq!(state.elb.rules.len(), 0, "the route's rules went with it");
        assert_eq!(state.elb.target_groups.len(), 0, "and its target groups");
    }
    let deleted = control.delete_gateway(&arn).await.unwrap();
    assert_eq!(deleted.status.as_str(), "DELETED");
    {
        let state = control.read();
        assert!(
            state.elb.load_balancers.is_empty() && state.elb.listeners.is_empty() && state.acm.certificates.is_empty()
        );
        assert!(matches!(control.describe_gateway("edge"), Err(ControlError::GatewayNotFound)));
    }
}

#[tokio::test]
async fn deletion_protection_the_cluster_limit_and_updates_reach_the_load_balancer() {
    let control = control_plane();
    cluster_with_instance(&control, "prod", 1024, 1024).await;
    let key = named_port_definition(&control).await;
    gateway(&control, "edge", "HTTP").await;
    control.associate_gateway("edge", &name("prod")).await.unwrap();
    create_service(&control, &key, "http").await.unwrap();
    let update = UpdateGateway {
        deletion_protection: Some(true),
        http_desync: Some("strictest".into()),
        test_traffic_header: Some(TestTrafficHeader { name: "x-test".into(), values: vec!["1".into()] }),
        ..Default::default()
    };
    let updated = control.update_gateway("edge", update).await.unwrap();
    assert!(updated.managed.as_ref().unwrap().certificate_arn.is_none(), "HTTP needs no certificate");
    {
        let state = control.read();
        let load_balancer = state.elb.load_balancers.values().next().unwrap();
        assert_eq!(load_balancer.attributes["deletion_protection.enabled"], "true");
        assert_eq!(load_balancer.attributes["routing.http.desync_mitigation_mode"], "strictest");
        let route = state.gateways.routes.values().next().unwrap();
        let test_rule = state.elb.rules.get(route.test_rule_arn.as_ref().unwrap()).unwrap();
        assert!(matches!(&test_rule.conditions[1], Condition::HttpHeader { name, .. } if name == "x-test"));
    }
    control.disassociate_gateway("edge", &name("prod")).await.unwrap();
    let refused = control.delete_gateway("edge").await.unwrap_err();
    assert!(refused.to_string().contains("deletion protection"), "{refused}");

    for index in 0..4 {
        gateway(&control, &format!("more-{index}"), "HTTP").await;
        control.associate_gateway(&format!("more-{index}"), &name("prod")).await.unwrap();
    }
    gateway(&control, "sixth", "HTTP").await;
    let refused = control.associate_gateway("sixth", &name("prod")).await.unwrap_err();
    assert!(refused.to_string().contains("5 gateways"), "{refused}");
}

#[tokio::test]
async fn gateways_associations_and_routes_survive_a_restart() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("berth.redb");
    let open = || {
        crate::ControlPlane::open(
            crate::ControlConfig::default(),
            std::sync::Arc::new(berth_store::EmbeddedStore::open(&path).unwrap()),
        )
        .unwrap()
    };
    let (gateway_arn, route) = {
        let control = open();
        cluster_with_instance(&control, "prod", 1024, 1024).await;
        let key = named_port_definition(&control).await;
        let arn = gateway(&control, "edge", "HTTPS").await;
        control.associate_gateway("edge", &name("prod")).await.unwrap();
        create_service(&control, &key, "http").await.unwrap();
        let route = control.list_gateway_routes(&RouteFilter::default()).unwrap().remove(0);
        (arn, route)
    };
    let control = open();
    {
        let state = control.read();
        let gateway = &state.gateways.gateways[&gateway_arn];
        let managed = gateway.managed.as_ref().unwrap();
        assert!(state.elb.listeners.contains_key(&managed.listener_arn));
        assert!(state.acm.certificates.contains_key(managed.certificate_arn.as_ref().unwrap()));
        assert_eq!(state.gateways.routes[&route.arn], route);
        assert!(state.elb.rules.contains_key(&route.rule_arn));
        assert_eq!(state.gateways.associations.values().next().unwrap().status, AssociationStatus::Active);
    }
}

#[tokio::test]
async fn two_new_gateways_on_one_port_are_refused_rather_than_colliding() {
    let control = control_plane();
    cluster_with_instance(&control, "prod", 1024, 1024).await;
    let key = named_port_definition(&control).await;
    for gateway_name in ["public", "private"] {
        gateway(&control, gateway_name, "HTTP").await;
        control.associate_gateway(gateway_name, &name("prod")).await.unwrap();
    }
    let refused = create_service(&control, &key, "http").await.unwrap_err();
    assert!(refused.to_string().contains("listen on port 8443"), "{refused}");
    assert!(control.read().elb.listeners.is_empty(), "nothing was created");
}
