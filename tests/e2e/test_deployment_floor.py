"""The deployment floor with ECS's default settle time: `berth up` here keeps its 40 s
`--service-settle-time`, so a task that has just reached RUNNING is still settling when a
deployment starts. minimumHealthyPercent is "a lower limit on the number of your service's tasks
that must remain in the RUNNING state during a deployment": sampled every 100 ms through whole
rollouts, started 1 s after the service is stable and 1 s after a replacement task runs, the
service never has fewer RUNNING tasks than ceil(min% × desired), nor more than floor(max% ×
desired) not yet stopped."""

from __future__ import annotations

import math
import time

import pytest

import berth_e2e as e2e

pytestmark = pytest.mark.docker

DESIRED = 3
MINIMUM, MAXIMUM = 100, 200
FLOOR = math.ceil(MINIMUM / 100 * DESIRED)
CEILING = math.floor(MAXIMUM / 100 * DESIRED)
HTTPD = ["httpd", "-f", "-p", "8080", "-h", "/www"]


def web_definition(family: str, revision: str) -> dict:
    return e2e.busybox_task_definition(
        family, HTTPD, memory=16, stop_timeout=2,
        port_mappings=[{"containerPort": 8080, "hostPort": 0, "protocol": "tcp"}],
        environment=[{"name": "REVISION", "value": revision}])


class Sampler:
    """Samples the service's tasks and checks the bounds at every sample."""

    def __init__(self, ecs, cluster: str, name: str):
        self.ecs, self.cluster, self.name = ecs, cluster, name
        self.known: set[str] = set()
        self.samples: list[tuple[int, int]] = []

    def sample(self) -> list[dict]:
        self.known.update(e2e.list_service_task_arns(self.ecs, self.cluster, self.name))
        tasks = e2e.describe_tasks_of(self.ecs, self.cluster, sorted(self.known))
        running = [t for t in tasks if t["lastStatus"] == "RUNNING" and t["desiredStatus"] == "RUNNING"]
        occupying = [t for t in tasks if t["lastStatus"] != "STOPPED"]
        self.samples.append((len(running), len(occupying)))
        assert len(running) >= FLOOR, f"RUNNING tasks fell below {FLOOR}: last samples {self.samples[-10:]}"
        assert len(occupying) <= CEILING, f"more than {CEILING} tasks not stopped: {self.samples[-10:]}"
        return tasks

    def for_a_second(self) -> None:
        """Keeps sampling for one second (the delay the scenario asks for before an update)."""
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            self.sample()
            time.sleep(0.1)

    def through_rollout(self, definition: str, timeout: float = 240.0) -> list[dict]:
        def done(tasks: list[dict]) -> bool:
            live = [t for t in tasks if t["desiredStatus"] == "RUNNING"]
            service = e2e.describe_service(self.ecs, self.cluster, self.name)
            return (e2e.is_steady(service, DESIRED, definition) and len(live) == DESIRED
                    and all(t["taskDefinitionArn"] == definition for t in live)
                    and all(t["lastStatus"] == "STOPPED" for t in tasks if t["desiredStatus"] == "STOPPED"))

        return e2e.wait_until(self.sample, done, timeout=timeout, interval=0.1,
                              what="the rollout to complete within its bounds")


def stable(ecs, cluster: str, name: str) -> dict:
    """What `aws ecs wait services-stable` waits for: one deployment, runningCount ==
    desiredCount (the tasks may still be settling)."""
    return e2e.wait_until(
        lambda: e2e.describe_service(ecs, cluster, name),
        lambda s: len(s["deployments"]) == 1 and s["runningCount"] == s["desiredCount"] == DESIRED,
        timeout=120, interval=0.1, what="services-stable")


def create(ecs, cluster, services, family_prefix: str) -> tuple[str, str]:
    family = e2e.unique_name(family_prefix)
    first = ecs.register_task_definition(**web_definition(family, "1"))["taskDefinition"]["taskDefinitionArn"]
    name = e2e.unique_name(f"{family_prefix}svc")
    ecs.create_service(cluster=cluster, serviceName=name, taskDefinition=first, desiredCount=DESIRED,
                       deploymentConfiguration={"maximumPercent": MAXIMUM, "minimumHealthyPercent": MINIMUM})
    services.append(name)
    return family, name


def update(ecs, cluster: str, name: str, family: str) -> str:
    second = ecs.register_task_definition(**web_definition(family, "2"))["taskDefinition"]["taskDefinitionArn"]
    ecs.update_service(cluster=cluster, service=name, taskDefinition=second)
    return second


def test_update_one_second_after_services_stable_keeps_every_task_running(ecs, cluster, services):
    family, name = create(ecs, cluster, services, "floor")
    stable(ecs, cluster, name)
    sampler = Sampler(ecs, cluster, name)
    sampler.for_a_second()
    second = update(ecs, cluster, name, family)
    tasks = sampler.through_rollout(second)
    assert min(running for running, _ in sampler.samples) >= FLOOR
    assert len(sampler.samples) >= 50, "a rollout behind a 40 s settle time spans many samples"
    old = [t for t in tasks if t["taskDefinitionArn"] != second]
    assert len(old) == DESIRED and all(t["lastStatus"] == "STOPPED" for t in old), old


def test_update_one_second_after_a_replacement_keeps_the_replacement(ecs, cluster, services):
    family, name = create(ecs, cluster, services, "floorkill")
    before = {t["taskArn"] for t in e2e.wait_service_running(ecs, cluster, name, DESIRED)}
    victim = sorted(before)[0]
    (container,) = e2e.containers_for_task(victim, all_states=False)
    e2e.docker("kill", container)
    e2e.wait_status(ecs, cluster, victim, "STOPPED", timeout=60)
    after = e2e.wait_until(
        lambda: {t["taskArn"] for t in e2e.service_tasks(ecs, cluster, name) if t["lastStatus"] == "RUNNING"},
        lambda running: len(running) == DESIRED and victim not in running,
        timeout=120, interval=0.1, what="the replacement to run")
    (replacement,) = after - before
    sampler = Sampler(ecs, cluster, name)
    sampler.for_a_second()
    second = update(ecs, cluster, name, family)
    sampler.through_rollout(second)
    assert min(running for running, _ in sampler.samples) >= FLOOR
    stopped = e2e.describe_task(ecs, cluster, replacement)
    assert stopped["stopCode"] == "ServiceSchedulerInitiated", stopped
