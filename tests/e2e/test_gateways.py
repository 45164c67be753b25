"""ECS gateways: one shared ingress for several services. A gateway is made, associated with the
cluster, and two services connect to it by a named port; each gets its own host name on the
gateway's one HTTPS listener, served with a certificate the gateway issued (read back through
ACM and verified by a real TLS client). A BLUE_GREEN deployment of one service goes through the
gateway's rules under steady HTTPS load without a failed request, the test header reaching the
new revision first. Removing a connector takes the route away; the association and then the
gateway go only once nothing uses them.

The calls are boto3's: the newest aws CLI (1.46.3) carries its own botocore (1.43.62), which
predates the gateway operations, so it has no `aws ecs create-gateway` to call.
"""

from __future__ import annotations

import http.client
import ssl

import botocore.exceptions
import pytest

import berth_e2e as e2e
from elb_e2e import SteadyLoad, register, request, short

pytestmark = pytest.mark.docker

BERTH_UP_EXTRA = ["--proxy-bind", "127.0.0.1", "--deployment-minute", "5s", "--service-throttle-delay", "1s"]

ROLE = "arn:aws:iam::000000000000:role/ecsInfrastructureRole"
TEST_HEADER = {"name": "x-berth-test", "values": ["green"]}
FAST_CONNECTOR_HEALTH = {"healthCheckPath": "/", "healthCheckIntervalSeconds": 5, "healthCheckTimeoutSeconds": 2,
                         "healthyThresholdCount": 2, "unhealthyThresholdCount": 2}


def named_port_definition(family: str, body: str) -> dict:
    """busybox httpd on 8080 answering `body`, its port mapping named `web`."""
    return e2e.busybox_task_definition(
        family, ["sh", "-c", f"mkdir -p /www && echo {body} > /www/index.html && exec httpd -f -p 8080 -h /www"],
        memory=16, port_mappings=[{"name": "web", "containerPort": 8080, "hostPort": 0, "protocol": "tcp"}])


def connector() -> list[dict]:
    return [{"portName": "web", "healthCheck": FAST_CONNECTOR_HEALTH, "deregistrationDelay": {"timeoutSeconds": 2}}]


def error_code(call, **params) -> tuple[str, str]:
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        call(**params)
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


class GatewayClient:
    """HTTPS to the gateway's listener on loopback, with the route's host as SNI and Host header,
    trusting only the certificate the gateway issued."""

    def __init__(self, port: int, certificate_pem: str):
        self.port = port
        self.context = ssl.create_default_context(cadata=certificate_pem)

    def connection(self, host: str) -> http.client.HTTPSConnection:
        context = self.context

        class Connection(http.client.HTTPSConnection):
            def connect(self):
                http.client.HTTPConnection.connect(self)
                self.sock = context.wrap_socket(self.sock, server_hostname=host)

        return Connection("127.0.0.1", self.port, timeout=10)

    def get(self, host: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
        conn = self.connection(host)
        try:
            conn.request("GET", "/", headers={"Host": host, **(headers or {})})
            response = conn.getresponse()
            return response.status, response.read().decode(errors="replace").strip()
        finally:
            conn.close()


def host_of(route: dict) -> str:
    return route["serviceUrl"].split("://", 1)[1].rsplit(":", 1)[0]


def test_gateway_api_lifecycle_and_bad_input(ecs, cluster, berth):
    unchecked = e2e.aws_client("ecs", berth.url, parameter_validation=False)
    name = short("api-gw")
    port = e2e.free_port()
    created = ecs.create_gateway(name=name, infrastructureRoleArn=ROLE, clientToken="token-1",
                                 configuration={"hostSharedAlb": {"scheme": "internal", "port": port}})
    assert created["status"] == "ACTIVE" and created["name"] == name
    arn = created["gatewayArn"]
    again = ecs.create_gateway(name=name, infrastructureRoleArn=ROLE, clientToken="token-1",
                               configuration={"hostSharedAlb": {"scheme": "internal", "port": port}})
    assert again["gatewayArn"] == arn, "a repeated client token answers the same gateway"
    described = ecs.describe_gateway(gateway=name)["gateway"]
    alb = described["configuration"]["hostSharedAlb"]
    assert (alb["scheme"], alb["protocol"], alb["port"], alb["currentAlbCount"]) == ("internal", "HTTPS", port, 0)
    assert described["accessType"] == "PRIVATE" and described["deletionProtection"] is True, "AWS's defaults"
    assert alb["httpDesync"] == "defensive" and alb["maxAlbCount"] == 10
    assert [g["name"] for g in ecs.list_gateways(names=[name])["gateways"]] == [name]

    code, message = error_code(unchecked.create_gateway, name=short("gw"), infrastructureRoleArn=ROLE,
                               configuration={})
    assert code == "InvalidParameterException" and "hostSharedAlb" in message
    code, message = error_code(ecs.create_gateway, name="bad name!", infrastructureRoleArn=ROLE,
                               configuration={"hostSharedAlb": {}})
    assert code == "InvalidParameterException" and message.startswith("name:")
    code, message = error_code(ecs.create_gateway, name=short("gw"), infrastructureRoleArn="not-a-role",
                               configuration={"hostSharedAlb": {}})
    assert code == "InvalidParameterException" and "infrastructureRoleArn" in message
    code, _ = error_code(ecs.describe_gateway, gateway="no-such-gateway")
    assert code == "GatewayNotFoundException"
    code, _ = error_code(ecs.delete_gateway, gateway="no-such-gateway")
    assert code == "GatewayNotFoundException"

    associated = ecs.associate_gateway_with_cluster(gateway=arn, cluster=cluster)
    assert associated["status"] == "ACTIVE" and associated["clusterArn"].endswith(f":cluster/{cluster}")
    listed = ecs.list_gateway_cluster_associations(gateway=name)["gatewayClusterAssociations"]
    assert [(a["gatewayArn"], a["status"]) for a in listed] == [(arn, "ACTIVE")]
    code, message = error_code(ecs.delete_gateway, gateway=name)
    assert code == "InvalidParameterException" and "deletion protection" in message
    updated = ecs.update_gateway(gateway=name, deletionProtection=False,
                                 configuration={"hostSharedAlb": {"httpDesync": "strictest"}})
    assert updated["status"] == "UPDATE_IN_PROGRESS"
    described = ecs.describe_gateway(gateway=name)["gateway"]
    assert described["status"] == "UPDATE_COMPLETE" and described["deletionProtection"] is False
    assert described["configuration"]["hostSharedAlb"]["httpDesync"] == "strictest"
    code, message = error_code(ecs.delete_gateway, gateway=name)
    assert code == "InvalidParameterException" and "still associated" in message
    assert ecs.list_gateway_routes(gateway=name)["gatewayRoutes"] == []
    assert ecs.describe_gateway_resources(gateway=name)["gatewayResources"]["resources"]["hostSharedAlb"] == [], \
        "no load balancer before a first route"

    gone = ecs.disassociate_gateway_from_cluster(gateway=name, cluster=cluster)
    assert gone["status"] == "DISASSOCIATING"
    assert ecs.list_gateway_cluster_associations(gateway=name)["gatewayClusterAssociations"] == [], \
        "with no routes the association ends at once"
    code, _ = error_code(ecs.disassociate_gateway_from_cluster, gateway=name, cluster=cluster)
    assert code == "ResourceNotFoundException"
    deleted = ecs.delete_gateway(gateway=name)
    assert deleted["status"] == "DELETED"
    assert ecs.list_gateways(names=[name])["gateways"] == []


def test_services_share_a_gateway_and_deploy_blue_green_through_it(ecs, cluster, services, berth):
    acm = e2e.aws_client("acm", berth.url)
    name = short("edge")
    port = e2e.free_port()
    gateway_arn = ecs.create_gateway(
        name=name, infrastructureRoleArn=ROLE, deletionProtection=False,
        configuration={"hostSharedAlb": {"port": port, "testTrafficRules": {"header": TEST_HEADER}}},
    )["gatewayArn"]
    ecs.associate_gateway_with_cluster(gateway=gateway_arn, cluster=cluster)

    shop_v1 = register(ecs, named_port_definition(e2e.unique_name("shop"), "shop-v1"))
    shop_v2 = register(ecs, named_port_definition(shop_v1.rsplit("/", 1)[1].split(":")[0], "shop-v2"))
    blog = register(ecs, named_port_definition(e2e.unique_name("blog"), "blog"))
    shop, blog_name = e2e.unique_name("shop"), e2e.unique_name("blog")
    code, message = error_code(ecs.create_service, cluster=cluster, serviceName=e2e.unique_name("bad"),
                               taskDefinition=blog, desiredCount=1, gatewayConnectors=[{"portName": "nope"}])
    assert code == "InvalidParameterException" and "portName" in message
    ecs.create_service(cluster=cluster, serviceName=shop, taskDefinition=shop_v1, desiredCount=2,
                       gatewayConnectors=connector(),
                       deploymentConfiguration={"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0})
    services.append(shop)
    ecs.create_service(cluster=cluster, serviceName=blog_name, taskDefinition=blog, desiredCount=1,
                       gatewayConnectors=connector())
    services.append(blog_name)
    assert e2e.describe_service(ecs, cluster, shop)["loadBalancers"] == [], "the gateway's groups are its own"

    routes = ecs.list_gateway_routes(gateway=name)["gatewayRoutes"]
    assert sorted(r["serviceArn"].rsplit("/", 1)[1] for r in routes) == sorted([shop, blog_name])
    assert {r["status"] for r in routes} == {"ACTIVE"} and {r["serviceContainerPortName"] for r in routes} == {"web"}
    described = {r["serviceArn"].rsplit("/", 1)[1]: ecs.describe_gateway_route(
        gatewayRouteArn=r["gatewayRouteArn"])["gatewayRoute"] for r in routes}
    shop_host, blog_host = host_of(described[shop]), host_of(described[blog_name])
    assert described[shop]["serviceUrl"] == f"https://{shop_host}:{port}"
    resources = described[shop]["resources"]["hostSharedAlb"][0]
    assert len(resources["testListenerRuleArns"]) == 1
    gateway_resources = ecs.describe_gateway_resources(gateway=name)["gatewayResources"]["resources"]
    assert gateway_resources["hostSharedAlb"][0]["loadBalancerArn"] == resources["loadBalancerArn"]
    assert sorted(gateway_resources["hostSharedAlb"][0]["gatewayRouteArns"]) == sorted(r["gatewayRouteArn"]
                                                                                      for r in routes)
    assert ecs.describe_gateway(gateway=name)["gateway"]["configuration"]["hostSharedAlb"]["currentAlbCount"] == 1
    deployment_arn = ecs.list_service_deployments(cluster=cluster, service=shop)["serviceDeployments"][0][
        "serviceDeploymentArn"]
    revision_arn = ecs.describe_service_deployments(serviceDeploymentArns=[deployment_arn])["serviceDeployments"][0][
        "targetServiceRevision"]["arn"]
    revision = ecs.describe_service_revisions(serviceRevisionArns=[revision_arn])["serviceRevisions"][0]
    assert revision["gatewayConnectors"][0]["portName"] == "web"
    connection = revision["ecsManagedResources"]["gatewayConnections"][0]
    assert connection["serviceUrl"] == described[shop]["serviceUrl"] and connection["accessType"] == "PUBLIC"
    assert connection["resources"]["hostSharedAlb"][0]["listenerRuleArn"] == resources["listenerRuleArn"]

    # The listener serves the certificate the gateway issued; a client that trusts only it
    # reaches each service by its own host.
    certificate = acm.get_certificate(CertificateArn=resources["acmCertificateArn"])["Certificate"]
    client = GatewayClient(port, certificate)
    e2e.wait_service_steady(ecs, cluster, shop, 2, shop_v1, timeout=120)
    e2e.wait_service_steady(ecs, cluster, blog_name, 1, blog, timeout=120)
    assert e2e.wait_until(lambda: client.get(shop_host), lambda answer: answer == (200, "shop-v1"), timeout=60,
                          interval=0.5, what="the shop through the gateway") == (200, "shop-v1")
    assert client.get(blog_host) == (200, "blog")
    assert client.get(f"nobody.{shop_host.split('.', 1)[1]}")[0] == 404, "an unknown host has no route"

    # A blue/green deployment through the gateway's rules: the test header reaches green first,
    # then production moves, and no request fails meanwhile.
    with SteadyLoad(port, connect=lambda: client.connection(shop_host), host=shop_host) as load:
        e2e.wait_until(lambda: len(load.bodies), lambda count: count >= 50, timeout=30, interval=0.2,
                       what="requests to flow")
        ecs.update_service(cluster=cluster, service=shop, taskDefinition=shop_v2)
        e2e.wait_until(lambda: client.get(shop_host, {TEST_HEADER["name"]: "green"}),
                       lambda answer: answer == (200, "shop-v2"), timeout=120, interval=0.5,
                       what="test traffic on green")
        e2e.wait_service_steady(ecs, cluster, shop, 2, shop_v2, timeout=180)
        count = len(load.bodies)
        e2e.wait_until(lambda: len(load.bodies), lambda seen: seen >= count + 50, timeout=30, interval=0.2,
                       what="requests after the deployment")
    assert load.failures == [], f"{len(load.failures)} failed of {len(load.bodies) + len(load.failures)}"
    switch = load.bodies.index("shop-v2")
    assert set(load.bodies[:switch]) == {"shop-v1"} and set(load.bodies[switch:]) == {"shop-v2"}
    assert client.get(blog_host) == (200, "blog"), "the other service is untouched"

    # The blog gives its connector up: its host stops routing once its tasks have drained, the
    # route goes, and then the association can end and the gateway go.
    ecs.update_service(cluster=cluster, service=blog_name, gatewayConnectors=[])
    e2e.wait_until(lambda: ecs.list_gateway_routes(gateway=name, service=blog_name)["gatewayRoutes"],
                   lambda found: found == [], timeout=120, interval=0.5, what="the blog's route to go")
    assert client.get(blog_host)[0] == 404
    assert ecs.disassociate_gateway_from_cluster(gateway=name, cluster=cluster)["status"] == "DISASSOCIATING"
    assert [a["status"] for a in ecs.list_gateway_cluster_associations(gateway=name)["gatewayClusterAssociations"]] \
        == ["DISASSOCIATING"], "the shop still routes through it"
    e2e.delete_services_quietly(ecs, cluster, [shop])
    e2e.wait_until(lambda: ecs.list_gateway_cluster_associations(gateway=name)["gatewayClusterAssociations"],
                   lambda found: found == [], timeout=120, interval=0.5, what="the association to end")
    assert ecs.delete_gateway(gateway=name)["status"] == "DELETED"
    code, _ = error_code(acm.describe_certificate, CertificateArn=resources["acmCertificateArn"])
    assert code == "ResourceNotFoundException", "the gateway's certificate went with it"
