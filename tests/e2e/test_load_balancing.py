"""Traffic through Berth's load balancers: `berth up` runs the proxy, ELBv2 listeners bind on
loopback, and real HTTP requests reach real containers (busybox httpd) by the listener's
rules, only while their targets pass the proxy's health checks. ECS services with
`loadBalancers` register their tasks as targets, drain them before their containers stop
(DEACTIVATING), replace tasks that fail ELB health checks, and roll a deployment under steady
load without a failed request.
"""

from __future__ import annotations

import http.client

import botocore.exceptions
import pytest

import berth_e2e as e2e
from elb_e2e import (SteadyLoad, health, host_port, instance_id, load_balancer_with_listener, register, request,
                     run_web_task, set_delay, target_group, wait_health, web_definition)

pytestmark = pytest.mark.docker

# Listeners bind loopback only: tests talk to nothing else.
BERTH_UP_EXTRA = ["--proxy-bind", "127.0.0.1", "--service-throttle-delay", "1s"]

# --------------------------------------------------------------------------------------------
# The data plane: rules, weights and health checks over standalone tasks


def test_listener_rules_weights_and_health_checks_route_real_requests(ecs, elb, cluster):
    blue_def = register(ecs, web_definition(e2e.unique_name("blue"), "blue", {"blue-only": "only-blue"}))
    green_def = register(ecs, web_definition(e2e.unique_name("green"), "green"))
    blue, green = run_web_task(ecs, cluster, blue_def), run_web_task(ecs, cluster, green_def)
    instance = instance_id(ecs, cluster)
    blue_group, green_group = target_group(elb, "blue"), target_group(elb, "green")
    elb.register_targets(TargetGroupArn=blue_group, Targets=[{"Id": instance, "Port": host_port(blue)}])
    elb.register_targets(TargetGroupArn=green_group, Targets=[{"Id": instance, "Port": host_port(green)}])
    # Both tasks, but the health check asks for a file only blue serves.
    mixed_group = target_group(elb, "mixed", HealthCheckPath="/blue-only")
    elb.register_targets(TargetGroupArn=mixed_group, Targets=[
        {"Id": instance, "Port": host_port(blue)}, {"Id": instance, "Port": host_port(green)}])

    _, listener, port = load_balancer_with_listener(elb, blue_group)
    elb.create_rule(ListenerArn=listener, Priority=10,
                    Conditions=[{"Field": "path-pattern", "Values": ["/api/*"]}],
                    Actions=[{"Type": "forward", "TargetGroupArn": green_group}])
    elb.create_rule(ListenerArn=listener, Priority=20,
                    Conditions=[{"Field": "host-header", "Values": ["teapot.example"]}],
                    Actions=[{"Type": "fixed-response", "FixedResponseConfig": {
                        "StatusCode": "418", "ContentType": "text/plain", "MessageBody": "short and stout"}}])
    elb.create_rule(ListenerArn=listener, Priority=30,
                    Conditions=[{"Field": "path-pattern", "Values": ["/old"]}],
                    Actions=[{"Type": "redirect", "RedirectConfig": {
                        "Path": "/new", "StatusCode": "HTTP_301"}}])
    elb.create_rule(ListenerArn=listener, Priority=40,
                    Conditions=[{"Field": "path-pattern", "Values": ["/blue-only"]}],
                    Actions=[{"Type": "forward", "TargetGroupArn": mixed_group}])

    wait_health(elb, blue_group, ["healthy"])
    wait_health(elb, green_group, ["healthy"])
    mixed = wait_health(elb, mixed_group, ["healthy", "unhealthy"])
    failing = next(t for t in mixed if t["TargetHealth"]["State"] == "unhealthy")
    assert failing["Target"]["Port"] == host_port(green)
    assert failing["TargetHealth"]["Reason"] == "Target.ResponseCodeMismatch"
    assert "404" in failing["TargetHealth"]["Description"]

    assert request(port, "/")[:2] == (200, "blue")
    assert request(port, "/api/")[:2] == (200, "green-api")
    assert request(port, "/", host="teapot.example")[:2] == (418, "short and stout")
    status, _, headers = request(port, "/old")
    assert status == 301 and headers["location"].endswith("/new"), headers
    # The unhealthy target is out of rotation: every request reaches blue, which has the file.
    assert {request(port, "/blue-only")[:2] for _ in range(40)} == {(200, "only-blue")}

    # A weighted forward splits by weight (1,000 requests: 80 % ± 5 % is over 4 standard
    # deviations wide).
    elb.modify_listener(ListenerArn=listener, DefaultActions=[{"Type": "forward", "ForwardConfig": {
        "TargetGroups": [{"TargetGroupArn": blue_group, "Weight": 80},
                         {"TargetGroupArn": green_group, "Weight": 20}]}}])
    e2e.wait_until(lambda: {request(port, "/")[1] for _ in range(30)}, lambda seen: "green" in seen,
                   timeout=30, interval=0.2, what="the weighted default action to be served")
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    bodies = [request(port, "/", connection=conn)[1] for _ in range(1000)]
    conn.close()
    assert set(bodies) == {"blue", "green"}
    assert 0.75 <= bodies.count("blue") / len(bodies) <= 0.85, bodies.count("blue")

    # A deregistered target drains, then leaves the group.
    set_delay(elb, green_group, 2)
    elb.deregister_targets(TargetGroupArn=green_group, Targets=[{"Id": instance, "Port": host_port(green)}])
    assert [t["TargetHealth"]["State"] for t in health(elb, green_group)] == ["draining"]
    wait_health(elb, green_group, [], timeout=30)
    for task in (blue, green):
        ecs.stop_task(cluster=cluster, task=task["taskArn"])


# --------------------------------------------------------------------------------------------
# ECS services behind a target group


def service_behind(ecs, elb, cluster, services, definition_arn: str, group: str, desired: int, **extra) -> str:
    name = e2e.unique_name("web")
    ecs.create_service(cluster=cluster, serviceName=name, taskDefinition=definition_arn, desiredCount=desired,
                       loadBalancers=[{"targetGroupArn": group, "containerName": "main", "containerPort": 8080}],
                       **extra)
    services.append(name)
    return name


def test_service_registers_its_tasks_and_rolls_without_dropping_a_request(ecs, elb, cluster, services):
    v1 = register(ecs, web_definition(e2e.unique_name("roll"), "v1"))
    family = v1.rsplit("/", 1)[1].split(":")[0]
    v2 = register(ecs, web_definition(family, "v2"))
    group = target_group(elb, "roll")
    set_delay(elb, group, 3)
    _, _, port = load_balancer_with_listener(elb, group)
    name = service_behind(ecs, elb, cluster, services, v1, group, 4)

    service = e2e.wait_service_steady(ecs, cluster, name, 4, v1, timeout=120)
    assert service["loadBalancers"] == [{"targetGroupArn": group, "containerName": "main", "containerPort": 8080}]
    assert any("registered" in m and f"targets in (target-group {group})" in m for m in e2e.event_messages(service))
    # Steady means ELB-healthy: both tasks are healthy targets, on their own host ports.
    tasks = e2e.service_tasks(ecs, cluster, name)
    targets = health(elb, group)
    assert sorted(t["Target"]["Port"] for t in targets) == sorted(host_port(task) for task in tasks)
    assert {t["Target"]["Id"] for t in targets} == {instance_id(ecs, cluster)}
    assert {t["TargetHealth"]["State"] for t in targets} == {"healthy"}
    old_ports = {host_port(task) for task in tasks}

    with SteadyLoad(port) as load:
        e2e.wait_until(lambda: len(load.bodies), lambda count: count >= 50, timeout=30, interval=0.2,
                       what="requests to flow")
        ecs.update_service(cluster=cluster, service=name, taskDefinition=v2)
        e2e.wait_service_steady(ecs, cluster, name, 4, v2, timeout=180)
        # Until the old targets have drained and left.
        e2e.wait_until(lambda: {t["Target"]["Port"] for t in health(elb, group)},
                       lambda ports: not (ports & old_ports), timeout=60, interval=0.5,
                       what="the old tasks' targets to leave the group")
        seen_v2 = len(load.bodies)
        e2e.wait_until(lambda: len(load.bodies), lambda count: count >= seen_v2 + 50, timeout=30, interval=0.2,
                       what="requests after the deployment")
    assert load.failures == [], f"{len(load.failures)} failed of {len(load.bodies) + len(load.failures)}"
    assert "v1" in load.bodies and "v2" in load.bodies
    assert set(load.bodies[-50:]) == {"v2"}
    service = e2e.describe_service(ecs, cluster, name)
    assert any("has begun draining connections on" in m for m in e2e.event_messages(service))
    stopped = e2e.service_tasks(ecs, cluster, name, desired_status="STOPPED")
    assert len(stopped) == 4 and all(t["lastStatus"] == "STOPPED" for t in stopped)
    assert all(t["stoppedReason"].startswith("Scaling activity initiated by (deployment") for t in stopped)


def test_two_services_share_one_listener_by_path_and_host(ecs, elb, cluster, services):
    api_group, web_group = target_group(elb, "api"), target_group(elb, "web")
    _, listener, port = load_balancer_with_listener(elb, web_group)
    elb.create_rule(ListenerArn=listener, Priority=10, Conditions=[{"Field": "path-pattern", "Values": ["/api/*"]}],
                    Actions=[{"Type": "forward", "TargetGroupArn": api_group}])
    elb.create_rule(ListenerArn=listener, Priority=20,
                    Conditions=[{"Field": "host-header", "Values": ["api.example"]}],
                    Actions=[{"Type": "forward", "TargetGroupArn": api_group}])
    api = service_behind(ecs, elb, cluster, services, register(ecs, web_definition(e2e.unique_name("api"), "api")),
                         api_group, 1)
    web = service_behind(ecs, elb, cluster, services, register(ecs, web_definition(e2e.unique_name("web"), "web")),
                         web_group, 1)
    for name in (api, web):
        e2e.wait_service_steady(ecs, cluster, name, 1, timeout=120)
    assert request(port, "/")[:2] == (200, "web")
    assert request(port, "/api/")[:2] == (200, "api-api")
    assert request(port, "/", host="api.example")[:2] == (200, "api")
    assert request(port, "/api/", host="web.example")[:2] == (200, "api-api"), "path rules come first"


def test_a_stopped_service_task_deactivates_while_its_target_drains(ecs, elb, cluster, services):
    definition = register(ecs, web_definition(e2e.unique_name("drain"), "drain"))
    group = target_group(elb, "drain")
    set_delay(elb, group, 5)
    load_balancer_with_listener(elb, group)
    name = service_behind(ecs, elb, cluster, services, definition, group, 1)
    e2e.wait_service_steady(ecs, cluster, name, 1, timeout=120)
    task = e2e.service_tasks(ecs, cluster, name)[0]

    ecs.stop_task(cluster=cluster, task=task["taskArn"], reason="make way")
    described = e2e.describe_task(ecs, cluster, task["taskArn"])
    assert (described["desiredStatus"], described["lastStatus"]) == ("STOPPED", "DEACTIVATING")
    port = host_port(task)
    draining = [t for t in health(elb, group) if t["Target"]["Port"] == port]
    assert [t["TargetHealth"]["State"] for t in draining] == ["draining"]
    # The container keeps serving in-flight requests while the target drains.
    assert e2e.running_containers_of_cluster(cluster).get(task["taskArn"]), "stopped before draining"
    stopped = e2e.wait_status(ecs, cluster, task["taskArn"], "STOPPED", timeout=60)
    assert stopped["stoppedReason"] == "make way"
    # The replacement is registered and healthy; the drained target has left.
    e2e.wait_service_steady(ecs, cluster, name, 1, timeout=120)
    ports = [t["Target"]["Port"] for t in health(elb, group)]
    assert port not in ports and len(ports) == 1


def test_tasks_failing_elb_health_checks_are_replaced(ecs, elb, cluster, services):
    definition = register(ecs, web_definition(e2e.unique_name("sick"), "sick"))
    group = target_group(elb, "sick", HealthCheckPath="/health")
    set_delay(elb, group, 0)
    load_balancer_with_listener(elb, group)
    name = service_behind(ecs, elb, cluster, services, definition, group, 1)

    def failed() -> list[dict]:
        return [t for t in e2e.service_tasks(ecs, cluster, name, desired_status="STOPPED")
                if t.get("stoppedReason", "").startswith("Task failed ELB health checks in (target-group ")]

    replaced = e2e.wait_until(failed, bool, timeout=120, interval=1, what="a task stopped for failing ELB checks")
    assert replaced[0]["stoppedReason"] == f"Task failed ELB health checks in (target-group {group})"
    assert replaced[0]["stopCode"] == "ServiceSchedulerInitiated"
    service = e2e.describe_service(ecs, cluster, name)
    messages = e2e.event_messages(service)
    assert any(f"is unhealthy in (target-group {group}) due to (reason Health checks failed with these codes: [404])"
               in m for m in messages), messages
    # A replacement was started.
    e2e.wait_until(lambda: e2e.service_tasks(ecs, cluster, name), lambda tasks: len(tasks) == 1,
                   timeout=60, interval=0.5, what="a replacement task")


def test_load_balancers_of_a_service_are_checked(ecs, elb, cluster, services):
    definition = register(ecs, web_definition(e2e.unique_name("bad"), "bad"))
    lonely = target_group(elb, "lonely")
    attached = target_group(elb, "ok")
    load_balancer_with_listener(elb, attached)
    ip_group = target_group(elb, "ipt", TargetType="ip")
    load_balancer_with_listener(elb, ip_group)

    def refused(load_balancers: list[dict]) -> str:
        with pytest.raises(botocore.exceptions.ClientError) as caught:
            ecs.create_service(cluster=cluster, serviceName=e2e.unique_name("bad"), taskDefinition=definition,
                               desiredCount=1, loadBalancers=load_balancers)
        error = caught.value.response["Error"]
        assert error["Code"] == "InvalidParameterException", error
        return error["Message"]

    entry = {"containerName": "main", "containerPort": 8080}
    assert refused([{"targetGroupArn": lonely, **entry}]) == (
        f"The target group with targetGroupArn {lonely} does not have an associated load balancer.")
    assert refused([{"targetGroupArn": attached, "containerName": "main", "containerPort": 9999}]) == (
        "The container main did not have a container port 9999 defined.")
    assert "containerName" in refused([{"targetGroupArn": attached, "containerName": "nope", "containerPort": 8080}])
    assert "target type ip" in refused([{"targetGroupArn": ip_group, **entry}])
    assert "does not exist" in refused([{"targetGroupArn": attached.replace("/ok-", "/gone-"), **entry}])
    assert "loadBalancerName" in refused([{"loadBalancerName": "classic", **entry}])
    assert "containerPort" in refused([{"targetGroupArn": attached, "containerName": "main"}])
    # Nothing was created by the refusals.
    assert not [arn for arn in ecs.list_services(cluster=cluster)["serviceArns"] if "/bad-" in arn]
