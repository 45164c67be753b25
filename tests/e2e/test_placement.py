"""Task placement through the real API on hollow instances (`berth sim`): spread, binpack,
memberOf and distinctInstance, custom attributes, capacity-provider strategies, and concurrent
RunTasks racing for the last free memory or host port.

One `berth server` per module; every test makes its own cluster and its own `berth sim`
processes (killed when the test ends), so no test's tasks skew another's placement. No Docker
is needed: hollow agents accept tasks (-> RUNNING) and stop them (StopTask -> STOPPED).
"""

from __future__ import annotations

import re
import signal
import threading
import uuid
from collections import Counter

import pytest
from botocore.exceptions import ClientError

import berth_e2e as e2e

ZONES = ["us-east-1a", "us-east-1b", "us-east-1c"]
MEMBER_OF_UNSATISFIED = "MemberOf placement constraint unsatisfied"
DISTINCT_UNSATISFIED = "DistinctInstance placement constraint unsatisfied"


# --------------------------------------------------------------------------------------------
# Fixtures: one server per module, a fresh cluster with its own hollow fleets per test.


@pytest.fixture(scope="module")
def server(berth_bin, tmp_path_factory):
    endpoint = e2e.start_server(tmp_path_factory.mktemp("placement"))
    try:
        yield endpoint
    finally:
        endpoint.process.stop()


@pytest.fixture(scope="module")
def ecs(server):
    """Overrides conftest's `ecs` (which starts a Docker-backed `berth up`)."""
    return e2e.ecs_client(server.url)


class Fleet:
    """A cluster on the module's server and the `berth sim` processes that populate it."""

    def __init__(self, server: e2e.BerthEndpoint, ecs, tmp, name: str):
        self.server = server
        self.ecs = ecs
        self.tmp = tmp
        self.cluster = e2e.unique_name(name)
        self.sims: list[e2e.BerthProcess] = []
        self.expected = 0
        ecs.create_cluster(clusterName=self.cluster)

    def sim(self, instances: int, *, memory: int | None = None, cpu: int | None = None,
            attributes: dict[str, list[str]] | None = None, capacity_provider: str | None = None) -> list[dict]:
        """Starts `berth sim` with `instances` hollow instances and returns them once they are
        all registered, ACTIVE and connected (ordered by their instance ID: attribute values
        are dealt round-robin in that order)."""
        prefix = f"i-{uuid.uuid4().hex[:8]}"
        args = ["sim", "--server", self.server.url, "--cluster", self.cluster, "--instances", instances,
                "--identity-prefix", prefix, "--report-every", "1h"]
        if memory is not None:
            args += ["--memory", memory]
        if cpu is not None:
            args += ["--cpu", cpu]
        for name, values in (attributes or {}).items():
            args += ["--attribute", f"{name}={','.join(values)}"]
        if capacity_provider is not None:
            args += ["--capacity-provider", capacity_provider]
        process = e2e.BerthProcess(f"berth sim {prefix}", args, self.tmp / f"berth-sim-{prefix}.log").start()
        self.sims.append(process)
        self.expected += instances

        def mine(found: list[dict]) -> list[dict]:
            return [i for i in found if i.get("ec2InstanceId", "").startswith(prefix)
                    and i["status"] == "ACTIVE" and i.get("agentConnected")]

        def probe():
            if not process.alive:
                raise AssertionError(f"{process.name} exited\n{process.log_tail()}")
            return e2e.container_instances(self.ecs, self.cluster)

        found = e2e.wait_until(probe, lambda found: len(mine(found)) >= instances, timeout=60, interval=0.25,
                               what=f"{instances} hollow instances of {prefix} in {self.cluster}")
        assert len(found) == self.expected, f"unexpected instances in {self.cluster}: {e2e._short(found)}"
        return sorted(mine(found), key=lambda i: i["ec2InstanceId"])

    def instances(self) -> dict[str, dict]:
        """containerInstanceArn -> described instance."""
        return {i["containerInstanceArn"]: i for i in e2e.container_instances(self.ecs, self.cluster)}

    def register(self, memory: int = 32, port_mappings: list[dict] | None = None) -> str:
        family = e2e.unique_name("place")
        definition = e2e.busybox_task_definition(family, ["sleep", "3600"], memory=memory,
                                                 port_mappings=port_mappings)
        self.ecs.register_task_definition(**definition)
        return family

    def run(self, family: str, **extra) -> dict:
        return self.ecs.run_task(cluster=self.cluster, taskDefinition=family, **extra)

    def wait_all(self, arns: list[str], status: str) -> list[dict]:
        return e2e.wait_until(
            lambda: e2e.describe_tasks_of(self.ecs, self.cluster, arns),
            lambda tasks: len(tasks) == len(arns) and all(t["lastStatus"] == status for t in tasks),
            timeout=60, interval=0.25, what=f"{len(arns)} task(s) to be {status} in {self.cluster}")

    def stop_all(self, arns: list[str]) -> None:
        for arn in arns:
            self.ecs.stop_task(cluster=self.cluster, task=arn, reason="e2e placement reset")
        self.wait_all(arns, "STOPPED")

    def remaining(self, instance_arn: str, name: str):
        described = self.ecs.describe_container_instances(cluster=self.cluster, containerInstances=[instance_arn])
        assert described["failures"] == [], described["failures"]
        return e2e.resource_value(described["containerInstances"][0]["remainingResources"], name)


@pytest.fixture
def fleet(server, ecs, tmp_path):
    fleets: list[Fleet] = []

    def make(name: str = "place") -> Fleet:
        made = Fleet(server, ecs, tmp_path, name)
        fleets.append(made)
        return made

    try:
        yield make
    finally:
        for made in fleets:
            for process in made.sims:
                if process.alive:
                    process.kill(signal.SIGKILL)


def attribute(instance: dict, name: str) -> str | None:
    for item in instance.get("attributes", []):
        if item["name"] == name:
            return item.get("value")
    return None


def by_attribute(instances: list[dict], name: str) -> dict[str | None, set[str]]:
    """The instances' ARNs grouped by their value of the attribute."""
    groups: dict[str | None, set[str]] = {}
    for instance in instances:
        groups.setdefault(attribute(instance, name), set()).add(instance["containerInstanceArn"])
    return groups


def ports(fleet_: "Fleet", instance_arn: str) -> list[str]:
    described = fleet_.ecs.describe_container_instances(cluster=fleet_.cluster, containerInstances=[instance_arn])
    (resource,) = [r for r in described["containerInstances"][0]["remainingResources"] if r["name"] == "PORTS"]
    return resource.get("stringSetValue", [])


def failure_reasons(response: dict) -> list[str]:
    return [failure.get("reason") for failure in response["failures"]]


def client_error(call, *args, **kwargs) -> tuple[str, str]:
    with pytest.raises(ClientError) as raised:
        call(*args, **kwargs)
    error = raised.value.response["Error"]
    return error["Code"], error["Message"]


# --------------------------------------------------------------------------------------------
# Strategies


def test_spread_over_zones_then_over_instances(fleet):
    world = fleet("spread")
    hollow = world.sim(6, attributes={"ecs.availability-zone": ZONES})
    zone_of = {i["containerInstanceArn"]: attribute(i, "ecs.availability-zone") for i in hollow}
    assert Counter(zone_of.values()) == {zone: 2 for zone in ZONES}, zone_of
    family = world.register()

    response = world.run(family, count=6,
                         placementStrategy=[{"type": "spread", "field": "attribute:ecs.availability-zone"}])
    assert response["failures"] == [], response["failures"]
    assert len(response["tasks"]) == 6
    per_zone = Counter(zone_of[task["containerInstanceArn"]] for task in response["tasks"])
    assert per_zone == {zone: 2 for zone in ZONES}, per_zone
    arns = [task["taskArn"] for task in response["tasks"]]
    running = world.wait_all(arns, "RUNNING")  # the hollow agents really took them
    assert {t["taskArn"]: t["containerInstanceArn"] for t in running} == \
        {t["taskArn"]: t["containerInstanceArn"] for t in response["tasks"]}
    world.stop_all(arns)

    response = world.run(family, count=6, placementStrategy=[{"type": "spread", "field": "instanceId"}])
    assert response["failures"] == [], response["failures"]
    per_instance = Counter(task["containerInstanceArn"] for task in response["tasks"])
    assert per_instance == {arn: 1 for arn in zone_of}, per_instance
    world.stop_all([task["taskArn"] for task in response["tasks"]])

    # Chained: zones first, then instances within a zone.
    response = world.run(family, count=6, placementStrategy=[
        {"type": "spread", "field": "attribute:ecs.availability-zone"},
        {"type": "spread", "field": "host"},
    ])
    assert response["failures"] == [], response["failures"]
    assert Counter(task["containerInstanceArn"] for task in response["tasks"]) == {arn: 1 for arn in zone_of}
    assert Counter(zone_of[t["containerInstanceArn"]] for t in response["tasks"]) == {zone: 2 for zone in ZONES}


def test_binpack_memory_fills_one_instance_before_the_next(fleet):
    world = fleet("binpack")
    hollow = world.sim(3, memory=1024)
    family = world.register(memory=256)
    binpack = [{"type": "binpack", "field": "memory"}]

    placed = []
    for _ in range(8):
        response = world.run(family, placementStrategy=binpack)
        assert response["failures"] == [], response["failures"]
        placed.append(response["tasks"][0]["containerInstanceArn"])
    first, second = placed[0], placed[4]
    assert placed == [first] * 4 + [second] * 4 and first != second, placed
    assert world.remaining(first, "MEMORY") == 0
    assert world.remaining(second, "MEMORY") == 0

    (third,) = {i["containerInstanceArn"] for i in hollow} - {first, second}
    response = world.run(family, count=4, placementStrategy=binpack)
    assert response["failures"] == [], response["failures"]
    assert [task["containerInstanceArn"] for task in response["tasks"]] == [third] * 4
    assert world.remaining(third, "MEMORY") == 0

    response = world.run(family, placementStrategy=binpack)
    assert response["tasks"] == []
    assert response["failures"] and set(failure_reasons(response)) == {"RESOURCE:MEMORY"}, response["failures"]


# --------------------------------------------------------------------------------------------
# Constraints and attributes


def test_member_of_a_custom_attribute(fleet, ecs):
    world = fleet("memberof")
    stacks = by_attribute(world.sim(4, attributes={"stack": ["blue", "green"]}), "stack")
    assert {stack: len(arns) for stack, arns in stacks.items()} == {"blue": 2, "green": 2}, stacks
    blue, green = stacks["blue"], stacks["green"]
    family = world.register()

    response = world.run(family, count=4,
                         placementConstraints=[{"type": "memberOf", "expression": "attribute:stack == blue"}])
    assert response["failures"] == [], response["failures"]
    assert len(response["tasks"]) == 4
    assert {task["containerInstanceArn"] for task in response["tasks"]} <= blue, response["tasks"]

    # Nothing matches: no task, and every failure says why.
    response = world.run(family, count=2,
                         placementConstraints=[{"type": "memberOf", "expression": "attribute:stack == purple"}])
    assert response["tasks"] == []
    assert response["failures"], response
    assert set(failure_reasons(response)) == {MEMBER_OF_UNSATISFIED}, response["failures"]

    # A malformed expression is a client error that points at the offending token.
    code, message = client_error(world.run, family, placementConstraints=[
        {"type": "memberOf", "expression": "attribute:stack = blue"}])
    assert code == "InvalidParameterException", (code, message)
    assert re.search(r"position \d+", message), message
    assert "position 16" in message, message  # the lone '=' at offset 16

    # The same language filters ListContainerInstances.
    listed = ecs.list_container_instances(cluster=world.cluster, filter="attribute:stack == green")
    assert set(listed["containerInstanceArns"]) == green
    listed = ecs.list_container_instances(cluster=world.cluster, filter="attribute:stack in [blue, green]")
    assert set(listed["containerInstanceArns"]) == blue | green


def test_runtime_platform_places_on_matching_architecture_only(fleet, ecs):
    world = fleet("platform")
    architectures = by_attribute(world.sim(4, attributes={"ecs.cpu-architecture": ["x86_64", "arm64"]}),
                                 "ecs.cpu-architecture")
    assert {name: len(arns) for name, arns in architectures.items()} == {"x86_64": 2, "arm64": 2}, architectures
    arm = architectures["arm64"]
    family = e2e.unique_name("arm")
    definition = e2e.busybox_task_definition(family, ["sleep", "3600"], memory=32)
    definition["runtimePlatform"] = {"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"}
    ecs.register_task_definition(**definition)

    response = world.run(family, count=6)
    assert response["failures"] == [], response["failures"]
    assert {task["containerInstanceArn"] for task in response["tasks"]} == arm, response["tasks"]

    # A Windows task finds no Windows instance: every instance is refused for its attribute.
    windows = e2e.unique_name("windows")
    definition = e2e.busybox_task_definition(windows, ["sleep", "3600"], memory=32)
    definition["runtimePlatform"] = {"operatingSystemFamily": "WINDOWS_SERVER_2022_CORE"}
    ecs.register_task_definition(**definition)
    response = world.run(windows, count=1)
    assert response["tasks"] == []
    assert set(failure_reasons(response)) == {"ATTRIBUTE"}, response["failures"]
    assert len(response["failures"]) == 4, response["failures"]


def test_distinct_instance_refuses_the_extra_copies(fleet):
    world = fleet("distinct")
    hollow = world.sim(3)
    family = world.register()
    response = world.run(family, count=5, placementConstraints=[{"type": "distinctInstance"}])
    placed = [task["containerInstanceArn"] for task in response["tasks"]]
    assert sorted(placed) == sorted(i["containerInstanceArn"] for i in hollow), response
    assert response["failures"], "two copies could not be placed, yet RunTask reported no failure"
    assert set(failure_reasons(response)) == {DISTINCT_UNSATISFIED}, response["failures"]


def test_put_list_delete_attributes_drive_member_of(fleet, ecs):
    world = fleet("attrs")
    hollow = world.sim(3)
    target = hollow[1]["containerInstanceArn"]
    family = world.register()
    canary = [{"type": "memberOf", "expression": "attribute:canary == yes"}]

    put = ecs.put_attributes(cluster=world.cluster, attributes=[
        {"name": "canary", "value": "yes", "targetType": "container-instance", "targetId": target}])
    assert [(a["name"], a.get("value"), a.get("targetId")) for a in put["attributes"]] == [("canary", "yes", target)]

    listed = ecs.list_attributes(cluster=world.cluster, targetType="container-instance", attributeName="canary")
    assert [(a["name"], a.get("value"), a.get("targetId")) for a in listed["attributes"]] == \
        [("canary", "yes", target)]
    assert attribute(world.instances()[target], "canary") == "yes"

    response = world.run(family, count=3, placementConstraints=canary)
    assert response["failures"] == [], response["failures"]
    assert [task["containerInstanceArn"] for task in response["tasks"]] == [target] * 3

    deleted = ecs.delete_attributes(cluster=world.cluster, attributes=[
        {"name": "canary", "targetType": "container-instance", "targetId": target}])
    assert [a["name"] for a in deleted["attributes"]] == ["canary"]
    listed = ecs.list_attributes(cluster=world.cluster, targetType="container-instance", attributeName="canary")
    assert listed["attributes"] == []
    assert attribute(world.instances()[target], "canary") is None

    response = world.run(family, placementConstraints=canary)
    assert response["tasks"] == []
    assert response["failures"] and set(failure_reasons(response)) == {MEMBER_OF_UNSATISFIED}, response["failures"]


# --------------------------------------------------------------------------------------------
# Capacity providers


def test_capacity_provider_strategy_base_then_weight(fleet, ecs):
    world = fleet("cp")
    created = {}
    for name in ("on-demand", "spot"):
        provider = ecs.create_capacity_provider(name=name)["capacityProvider"]
        assert provider["name"] == name and provider["status"] == "ACTIVE", provider
        assert provider["capacityProviderArn"] == f"arn:aws:ecs:{e2e.REGION}:{e2e.ACCOUNT}:capacity-provider/{name}"
        created[name] = provider
    put = ecs.put_cluster_capacity_providers(cluster=world.cluster, capacityProviders=["on-demand", "spot"],
                                             defaultCapacityProviderStrategy=[])
    assert sorted(put["cluster"]["capacityProviders"]) == ["on-demand", "spot"]

    on_demand = {i["containerInstanceArn"] for i in world.sim(2, capacity_provider="on-demand")}
    spot = {i["containerInstanceArn"] for i in world.sim(2, capacity_provider="spot")}
    described = world.instances()
    assert {arn: described[arn].get("capacityProviderName") for arn in on_demand | spot} == \
        {**{arn: "on-demand" for arn in on_demand}, **{arn: "spot" for arn in spot}}

    family = world.register()
    response = world.run(family, count=6, capacityProviderStrategy=[
        {"capacityProvider": "on-demand", "base": 1, "weight": 1},
        {"capacityProvider": "spot", "weight": 4},
    ])
    assert response["failures"] == [], response["failures"]
    assert len(response["tasks"]) == 6
    assert Counter(task.get("capacityProviderName") for task in response["tasks"]) == {"on-demand": 2, "spot": 4}
    for task in response["tasks"]:
        pool = on_demand if task["capacityProviderName"] == "on-demand" else spot
        assert task["containerInstanceArn"] in pool, task
        assert "launchType" not in task or task["launchType"] == "EC2", task

    providers = ecs.describe_capacity_providers(capacityProviders=["on-demand", "spot"])
    assert providers.get("failures", []) == [], providers
    assert sorted(p["name"] for p in providers["capacityProviders"]) == ["on-demand", "spot"]
    assert all(p["status"] == "ACTIVE" and "autoScalingGroupProvider" not in p for p in providers["capacityProviders"])

    # Tasks use `spot`: it cannot be taken off the cluster (ECS: "The specified capacity
    # provider is in use and cannot be removed", ResourceInUseException).
    code, message = client_error(ecs.put_cluster_capacity_providers, cluster=world.cluster,
                                 capacityProviders=["on-demand"], defaultCapacityProviderStrategy=[])
    assert code == "ResourceInUseException", (code, message)

    # Fargate capacity is not something Berth can provide.
    code, message = client_error(world.run, family, capacityProviderStrategy=[
        {"capacityProvider": "FARGATE", "weight": 1}])
    assert code == "InvalidParameterException", (code, message)


def test_deleting_a_capacity_provider_still_on_a_cluster_fails(fleet, ecs):
    world = fleet("cp-del")
    name = e2e.unique_name("cp")
    ecs.create_capacity_provider(name=name)
    ecs.put_cluster_capacity_providers(cluster=world.cluster, capacityProviders=[name],
                                       defaultCapacityProviderStrategy=[])

    # ECS answers DeleteCapacityProvider for a provider still associated with a cluster with a
    # 200: updateStatus DELETE_FAILED, updateStatusReason "The capacity provider cannot be
    # deleted because it is associated with cluster: X. Remove the capacity provider from the
    # cluster and try again.", and the provider stays ACTIVE. (botocore's model declares no
    # ResourceInUseException for DeleteCapacityProvider.)
    refused = ecs.delete_capacity_provider(capacityProvider=name)["capacityProvider"]
    assert refused["name"] == name and refused["status"] == "ACTIVE", refused
    assert refused.get("updateStatus") == "DELETE_FAILED", refused
    assert world.cluster in refused.get("updateStatusReason", ""), refused
    still = ecs.describe_capacity_providers(capacityProviders=[name])["capacityProviders"]
    assert [p["status"] for p in still] == ["ACTIVE"]

    # Once disassociated it can be deleted.
    ecs.put_cluster_capacity_providers(cluster=world.cluster, capacityProviders=[],
                                       defaultCapacityProviderStrategy=[])
    deleted = ecs.delete_capacity_provider(capacityProvider=name)["capacityProvider"]
    assert deleted.get("updateStatus") != "DELETE_FAILED", deleted
    e2e.wait_until(lambda: ecs.describe_capacity_providers(capacityProviders=[name]).get("capacityProviders", []),
                   lambda found: all(p["status"] != "ACTIVE" for p in found), timeout=30,
                   what=f"capacity provider {name} to be gone or INACTIVE")


# --------------------------------------------------------------------------------------------
# Races for the last slot


def race(world: Fleet, family: str, clients: list, **extra) -> list[dict]:
    """Every client calls RunTask (count 1) at the same moment; returns every response."""
    barrier = threading.Barrier(len(clients))
    results: list = [None] * len(clients)

    def call(index: int, client) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = client.run_task(cluster=world.cluster, taskDefinition=family, **extra)
        except Exception as error:  # reported below, with every other outcome
            results[index] = error

    threads = [threading.Thread(target=call, args=(index, client)) for index, client in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert not any(thread.is_alive() for thread in threads), "a RunTask call never returned"
    errors = [result for result in results if not isinstance(result, dict)]
    assert errors == [], errors
    return results


def test_concurrent_run_tasks_race_for_the_last_memory(fleet, server):
    world = fleet("race-mem")
    (hollow,) = world.sim(1, memory=768)
    instance_arn = hollow["containerInstanceArn"]
    family = world.register(memory=256)
    settled = world.run(family, count=2)
    assert settled["failures"] == [] and len(settled["tasks"]) == 2
    assert world.remaining(instance_arn, "MEMORY") == 256  # room for exactly one more

    clients = [e2e.ecs_client(server.url) for _ in range(8)]
    results = race(world, family, clients)
    winners = [r for r in results if r["tasks"]]
    losers = [r for r in results if not r["tasks"]]
    assert len(winners) == 1, [(len(r["tasks"]), r["failures"]) for r in results]
    assert len(winners[0]["tasks"]) == 1 and winners[0]["failures"] == []
    assert winners[0]["tasks"][0]["containerInstanceArn"] == instance_arn
    for loser in losers:
        assert [(f.get("arn"), f.get("reason")) for f in loser["failures"]] == [(instance_arn, "RESOURCE:MEMORY")]

    assert world.remaining(instance_arn, "MEMORY") == 0
    live = world.ecs.list_tasks(cluster=world.cluster, desiredStatus="RUNNING")["taskArns"]
    assert len(live) == 3, live
    world.wait_all(live, "RUNNING")
    assert world.remaining(instance_arn, "MEMORY") == 0
    assert world.instances()[instance_arn]["runningTasksCount"] == 3


def test_concurrent_run_tasks_race_for_a_static_host_port(fleet, server):
    world = fleet("race-port")
    (hollow,) = world.sim(1)
    instance_arn = hollow["containerInstanceArn"]
    family = world.register(port_mappings=[{"containerPort": 8080, "hostPort": 8080, "protocol": "tcp"}])

    clients = [e2e.ecs_client(server.url) for _ in range(4)]
    results = race(world, family, clients)
    winners = [r for r in results if r["tasks"]]
    assert len(winners) == 1, [(len(r["tasks"]), r["failures"]) for r in results]
    for loser in (r for r in results if not r["tasks"]):
        assert [(f.get("arn"), f.get("reason")) for f in loser["failures"]] == [(instance_arn, "RESOURCE:PORTS")]
    assert "8080" in ports(world, instance_arn)

    task = winners[0]["tasks"][0]
    world.wait_all([task["taskArn"]], "RUNNING")
    # Once the winner stops, the port is free again.
    world.stop_all([task["taskArn"]])
    assert "8080" not in ports(world, instance_arn)
    again = world.run(family)
    assert again["failures"] == [] and len(again["tasks"]) == 1, again
