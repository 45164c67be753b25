"""ECS's traffic-shifting deployments behind Berth's load balancer, under steady load through a
real listener: BLUE_GREEN moves production traffic from the primary to the alternate target
group at once once the green tasks are healthy and keeps blue for the bake time; CANARY sends
a share first; a rollback (StopServiceDeployment) puts traffic back on blue at once. No request
fails in any of them.

`berth up --deployment-minute 5s` makes each minute of a bake time last five seconds.
"""

from __future__ import annotations

import pytest

import berth_e2e as e2e
from elb_e2e import (FAST_HEALTH, SteadyLoad, register, request, set_delay, short,
                                 web_definition)

pytestmark = pytest.mark.docker

BERTH_UP_EXTRA = ["--proxy-bind", "127.0.0.1", "--deployment-minute", "5s", "--service-throttle-delay", "1s"]


def group(elb, prefix: str) -> str:
    arn = elb.create_target_group(Name=short(prefix), Protocol="HTTP", Port=8080, TargetType="instance",
                                  HealthCheckPath="/", **FAST_HEALTH)["TargetGroups"][0]["TargetGroupArn"]
    set_delay(elb, arn, 2)
    return arn


class Stage:
    """A listener whose production rule (every path) and test rule (Host: test.example) forward
    to a blue and a green target group, weighted 100/0 to begin with."""

    def __init__(self, elb):
        self.elb = elb
        self.blue, self.green = group(elb, "blue"), group(elb, "green")
        lb = elb.create_load_balancer(Name=short("bg"), Subnets=["subnet-a"])["LoadBalancers"][0]
        self.port = e2e.free_port()
        listener = elb.create_listener(
            LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=self.port,
            DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}],
        )["Listeners"][0]["ListenerArn"]
        self.production = self._rule(listener, 20, {"Field": "path-pattern", "Values": ["/*"]})
        self.test = self._rule(listener, 10, {"Field": "host-header", "Values": ["test.example"]})

    def _rule(self, listener: str, priority: int, condition: dict) -> str:
        return self.elb.create_rule(ListenerArn=listener, Priority=priority, Conditions=[condition], Actions=[
            {"Type": "forward", "ForwardConfig": {"TargetGroups": [
                {"TargetGroupArn": self.blue, "Weight": 100}, {"TargetGroupArn": self.green, "Weight": 0}]}}],
        )["Rules"][0]["RuleArn"]

    def weights(self, rule: str) -> dict[str, int]:
        found = self.elb.describe_rules(RuleArns=[rule])["Rules"][0]["Actions"][0]["ForwardConfig"]["TargetGroups"]
        return {g["TargetGroupArn"]: g["Weight"] for g in found}

    def load_balancers(self) -> list[dict]:
        return [{"targetGroupArn": self.blue, "containerName": "main", "containerPort": 8080,
                 "advancedConfiguration": {"alternateTargetGroupArn": self.green,
                                           "productionListenerRule": self.production,
                                           "testListenerRule": self.test}}]


def deploy_v1(ecs, cluster, services, stage: Stage, deployment: dict) -> tuple[str, str, str]:
    v1 = register(ecs, web_definition(e2e.unique_name("bg"), "v1"))
    v2 = register(ecs, web_definition(v1.rsplit("/", 1)[1].split(":")[0], "v2"))
    name = e2e.unique_name("bg")
    ecs.create_service(cluster=cluster, serviceName=name, taskDefinition=v1, desiredCount=2,
                       loadBalancers=stage.load_balancers(), deploymentConfiguration=deployment)
    services.append(name)
    e2e.wait_service_steady(ecs, cluster, name, 2, v1, timeout=120)
    return name, v1, v2


def test_blue_green_moves_all_traffic_at_once_and_swaps_the_groups(ecs, elb, cluster, services):
    stage = Stage(elb)
    name, v1, v2 = deploy_v1(ecs, cluster, services, stage,
                             {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 1})
    service = e2e.describe_service(ecs, cluster, name)
    assert service["deploymentConfiguration"]["strategy"] == "BLUE_GREEN"
    assert service["deploymentConfiguration"]["bakeTimeInMinutes"] == 1
    assert service["loadBalancers"] == stage.load_balancers()
    # The first revision has nothing to shift from: it serves behind the primary group.
    assert len(elb.describe_target_health(TargetGroupArn=stage.blue)["TargetHealthDescriptions"]) == 2
    assert request(stage.port)[:2] == (200, "v1")

    with SteadyLoad(stage.port) as load:
        e2e.wait_until(lambda: len(load.bodies), lambda count: count >= 50, timeout=30, interval=0.2,
                       what="requests to flow")
        ecs.update_service(cluster=cluster, service=name, taskDefinition=v2)
        # Green starts in full behind the alternate group; once it is healthy the test rule
        # reaches it, then production.
        e2e.wait_until(lambda: elb.describe_target_health(TargetGroupArn=stage.green)["TargetHealthDescriptions"],
                       lambda found: len(found) == 2, timeout=60, interval=0.5, what="green targets")
        e2e.wait_until(lambda: stage.weights(stage.test), lambda w: w == {stage.blue: 0, stage.green: 100},
                       timeout=60, interval=0.2, what="test traffic on green")
        # Production moves at once, then blue bakes beside green.
        e2e.wait_until(lambda: stage.weights(stage.production), lambda w: w == {stage.blue: 0, stage.green: 100},
                       timeout=90, interval=0.5, what="production traffic on green")
        assert request(stage.port, host="test.example")[:2] == (200, "v2")
        assert len(e2e.service_tasks(ecs, cluster, name)) == 4, "blue is kept for the bake time"
        e2e.wait_service_steady(ecs, cluster, name, 2, v2, timeout=120)
        e2e.wait_until(lambda: elb.describe_target_health(TargetGroupArn=stage.blue)["TargetHealthDescriptions"],
                       lambda found: found == [], timeout=60, interval=0.5, what="blue's targets to leave")
        count = len(load.bodies)
        e2e.wait_until(lambda: len(load.bodies), lambda seen: seen >= count + 50, timeout=30, interval=0.2,
                       what="requests after the deployment")
    assert load.failures == [], f"{len(load.failures)} failed of {len(load.bodies) + len(load.failures)}"
    switch = load.bodies.index("v2")
    assert set(load.bodies[:switch]) == {"v1"} and set(load.bodies[switch:]) == {"v2"}, "traffic moved at once"
    assert any("shifted 100% of production traffic" in m for m in e2e.event_messages(e2e.describe_service(
        ecs, cluster, name)))

    # The alternate group is production now: the next deployment's green goes behind blue's group.
    ecs.update_service(cluster=cluster, service=name, taskDefinition=v1)
    e2e.wait_until(lambda: stage.weights(stage.production), lambda w: w == {stage.blue: 100, stage.green: 0},
                   timeout=90, interval=0.5, what="production traffic back on the primary group")
    e2e.wait_service_steady(ecs, cluster, name, 2, v1, timeout=120)
    assert request(stage.port)[:2] == (200, "v1")


def test_canary_sends_a_share_first_then_the_rest(ecs, elb, cluster, services):
    stage = Stage(elb)
    name, _, v2 = deploy_v1(ecs, cluster, services, stage, {
        "strategy": "CANARY", "bakeTimeInMinutes": 0,
        "canaryConfiguration": {"canaryPercent": 20.0, "canaryBakeTimeInMinutes": 2}})
    configuration = e2e.describe_service(ecs, cluster, name)["deploymentConfiguration"]
    assert configuration["canaryConfiguration"] == {"canaryPercent": 20.0, "canaryBakeTimeInMinutes": 2}

    with SteadyLoad(stage.port) as load:
        ecs.update_service(cluster=cluster, service=name, taskDefinition=v2)
        e2e.wait_until(lambda: stage.weights(stage.production), lambda w: w == {stage.blue: 80, stage.green: 20},
                       timeout=90, interval=0.2, what="the canary share")
        during = len(load.bodies)
        e2e.wait_until(lambda: stage.weights(stage.production), lambda w: w == {stage.blue: 0, stage.green: 100},
                       timeout=60, interval=0.2, what="the rest of the traffic")
        canary = load.bodies[during:]
        e2e.wait_service_steady(ecs, cluster, name, 2, v2, timeout=120)
    assert load.failures == [], f"{len(load.failures)} failed of {len(load.bodies) + len(load.failures)}"
    # Ten seconds of canary at ~200 requests/s: both revisions answer, v1 most of them.
    assert 0.05 < canary.count("v2") / len(canary) < 0.40, (canary.count("v2"), len(canary))


def test_a_rollback_puts_traffic_back_on_blue_at_once(ecs, elb, cluster, services):
    stage = Stage(elb)
    name, v1, v2 = deploy_v1(ecs, cluster, services, stage, {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 10})
    with SteadyLoad(stage.port) as load:
        ecs.update_service(cluster=cluster, service=name, taskDefinition=v2)
        e2e.wait_until(lambda: stage.weights(stage.production), lambda w: w == {stage.blue: 0, stage.green: 100},
                       timeout=90, interval=0.5, what="production traffic on green")
        e2e.wait_until(lambda: len(load.bodies) and load.bodies[-1], lambda body: body == "v2", timeout=30,
                       interval=0.2, what="green to answer")
        deployment = ecs.list_service_deployments(cluster=cluster, service=name)["serviceDeployments"][0]
        ecs.stop_service_deployment(serviceDeploymentArn=deployment["serviceDeploymentArn"], stopType="ROLLBACK")
        # Within one health check interval (5 s) every answer is blue's again.
        rolled_back = len(load.bodies)
        e2e.wait_until(lambda: stage.weights(stage.production), lambda w: w == {stage.blue: 100, stage.green: 0},
                       timeout=5, interval=0.1, what="production traffic back on blue")
        e2e.wait_until(lambda: load.bodies[-20:], lambda last: len(load.bodies) >= rolled_back + 20
                       and set(last) == {"v1"}, timeout=5, interval=0.1, what="blue to answer again")
        e2e.wait_service_steady(ecs, cluster, name, 2, v1, timeout=120)
    assert load.failures == [], f"{len(load.failures)} failed of {len(load.bodies) + len(load.failures)}"


def deployment_of(ecs, cluster: str, name: str) -> dict:
    arn = ecs.list_service_deployments(cluster=cluster, service=name)["serviceDeployments"][0]["serviceDeploymentArn"]
    return ecs.describe_service_deployments(serviceDeploymentArns=[arn])["serviceDeployments"][0]


def paused_hook(ecs, cluster: str, name: str) -> dict:
    def waiting(deployment: dict) -> bool:
        return any(h["status"] == "AWAITING_ACTION" for h in deployment.get("lifecycleHookDetails", []))
    return e2e.wait_until(lambda: deployment_of(ecs, cluster, name), waiting, timeout=90, interval=0.5,
                          what="the deployment to pause at its hook")


PAUSE_AFTER_TEST_TRAFFIC = [{"targetType": "PAUSE", "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"],
                             "timeoutConfiguration": {"timeoutInMinutes": 60, "action": "ROLLBACK"}}]


def test_a_pause_hook_holds_production_traffic_until_continue(ecs, elb, cluster, services):
    stage = Stage(elb)
    name, _, v2 = deploy_v1(ecs, cluster, services, stage, {
        "strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0, "lifecycleHooks": PAUSE_AFTER_TEST_TRAFFIC})
    hooks = e2e.describe_service(ecs, cluster, name)["deploymentConfiguration"]["lifecycleHooks"]
    assert hooks == [{"targetType": "PAUSE", "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"],
                      "timeoutConfiguration": {"timeoutInMinutes": 60, "action": "ROLLBACK"}}]
    ecs.update_service(cluster=cluster, service=name, taskDefinition=v2)
    deployment = paused_hook(ecs, cluster, name)
    assert deployment["lifecycleStage"] == "POST_TEST_TRAFFIC_SHIFT"
    hook = deployment["lifecycleHookDetails"][0]
    assert hook["targetType"] == "PAUSE" and hook["timeoutAction"] == "ROLLBACK"
    # Paused: test traffic reaches green, production stays on blue.
    assert request(stage.port, host="test.example")[:2] == (200, "v2")
    assert request(stage.port)[:2] == (200, "v1")
    assert stage.weights(stage.production) == {stage.blue: 100, stage.green: 0}

    with pytest.raises(ecs.exceptions.InvalidParameterException):
        ecs.continue_service_deployment(serviceDeploymentArn=deployment["serviceDeploymentArn"], hookId="nope")
    ecs.continue_service_deployment(serviceDeploymentArn=deployment["serviceDeploymentArn"],
                                    hookId=hook["hookId"], action="CONTINUE")
    e2e.wait_service_steady(ecs, cluster, name, 2, v2, timeout=120)
    assert request(stage.port)[:2] == (200, "v2")
    finished = ecs.describe_service_deployments(
        serviceDeploymentArns=[deployment["serviceDeploymentArn"]])["serviceDeployments"][0]
    assert finished["status"] == "SUCCESSFUL"
    assert [h["status"] for h in finished["lifecycleHookDetails"]] == ["SUCCEEDED"]


def test_a_pause_hook_answered_with_rollback_keeps_blue(ecs, elb, cluster, services):
    stage = Stage(elb)
    name, v1, v2 = deploy_v1(ecs, cluster, services, stage, {
        "strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0, "lifecycleHooks": PAUSE_AFTER_TEST_TRAFFIC})
    with SteadyLoad(stage.port) as load:
        ecs.update_service(cluster=cluster, service=name, taskDefinition=v2)
        deployment = paused_hook(ecs, cluster, name)
        ecs.continue_service_deployment(serviceDeploymentArn=deployment["serviceDeploymentArn"],
                                        hookId=deployment["lifecycleHookDetails"][0]["hookId"], action="ROLLBACK")
        # The same service deployment rolls back (ECS starts no new one).
        e2e.wait_until(lambda: deployment_of(ecs, cluster, name)["status"],
                       lambda status: status.startswith("ROLLBACK"), timeout=60, interval=0.5,
                       what="the deployment to roll back")
        e2e.wait_service_steady(ecs, cluster, name, 2, v1, timeout=120)
    assert load.failures == [], f"{len(load.failures)} failed of {len(load.bodies) + len(load.failures)}"
    assert set(load.bodies) == {"v1"}, "production never left blue"
    rolled = ecs.describe_service_deployments(
        serviceDeploymentArns=[deployment["serviceDeploymentArn"]])["serviceDeployments"][0]
    assert [h["status"] for h in rolled["lifecycleHookDetails"]] == ["FAILED"]
