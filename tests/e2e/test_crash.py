"""Crash tests with real processes: `berth server` and `berth agent` run apart, and each is
`kill -9`ed mid-operation. Nothing acknowledged is lost, no task runs twice, and containers
are adopted, never restarted."""

from __future__ import annotations

import signal

import pytest

import berth_e2e as e2e

pytestmark = pytest.mark.docker


def sleeper(family: str) -> dict:
    return e2e.busybox_task_definition(family, ["sleep", "3600"], memory=16, stop_timeout=2)


def started_at(container_id: str) -> str:
    return e2e.inspect_container(container_id)["State"]["StartedAt"]


def docker_view(task_arns: list[str]) -> dict[str, list[tuple[str, str, bool]]]:
    """task ARN -> [(container id, StartedAt, running)] for every container labelled with it."""
    view = {}
    for arn in task_arns:
        entries = []
        for container_id in e2e.containers_for_task(arn):
            state = e2e.inspect_container(container_id)["State"]
            entries.append((container_id, state["StartedAt"], state["Running"]))
        view[arn] = entries
    return view


def assert_one_container_per_task(task_arns: list[str]) -> dict[str, tuple[str, str, bool]]:
    view = docker_view(task_arns)
    for arn, entries in view.items():
        assert len(entries) == 1, f"{arn} has {len(entries)} containers (a task must never run twice): {entries}"
    return {arn: entries[0] for arn, entries in view.items()}


class Cluster:
    """A `berth server`, a cluster on it, and one agent."""

    def __init__(self, processes, agent_name: str = "a"):
        self.processes = processes
        self.server = processes.server()
        self.name = e2e.unique_name("crash")
        self.ecs = e2e.ecs_client(self.server.url)
        self.ecs.create_cluster(clusterName=self.name)
        self.agent = processes.agent(self.server.url, self.name, agent_name)
        self.instance_arn = e2e.wait_for_instances(self.ecs, self.name, 1)[0]["containerInstanceArn"]

    def run(self, family: str, count: int) -> list[str]:
        response = self.ecs.run_task(cluster=self.name, taskDefinition=family, count=count)
        assert response["failures"] == [], response["failures"]
        return [task["taskArn"] for task in response["tasks"]]

    def wait_running(self, arns: list[str], timeout: float = 120.0) -> list[dict]:
        return [e2e.wait_status(self.ecs, self.name, arn, "RUNNING", timeout=timeout) for arn in arns]

    def restart_server(self) -> None:
        self.server.process.restart()
        self.server.wait_ready()


def test_server_killed_right_after_run_task(processes):
    world = Cluster(processes)
    family = e2e.unique_name("sleep")
    definition_arn = world.ecs.register_task_definition(**sleeper(family))["taskDefinition"]["taskDefinitionArn"]

    arns = world.run(family, 2)
    world.server.process.kill(signal.SIGKILL)  # the RunTask was acknowledged: it must survive
    world.restart_server()

    ecs = world.ecs
    clusters = ecs.describe_clusters(clusters=[world.name])["clusters"]
    assert [c["status"] for c in clusters] == ["ACTIVE"]
    assert ecs.describe_task_definition(taskDefinition=family)["taskDefinition"]["taskDefinitionArn"] == definition_arn
    assert ecs.list_container_instances(cluster=world.name)["containerInstanceArns"] == [world.instance_arn]
    described = ecs.describe_tasks(cluster=world.name, tasks=arns)
    assert described["failures"] == [] and sorted(t["taskArn"] for t in described["tasks"]) == sorted(arns)
    assert set(arns) <= set(ecs.list_tasks(cluster=world.name)["taskArns"])

    running = world.wait_running(arns)
    assert all(task["containerInstanceArn"] == world.instance_arn for task in running)
    before = assert_one_container_per_task(arns)
    for task in running:
        assert before[task["taskArn"]][0].startswith(task["containers"][0]["runtimeId"])

    # Once RUNNING, kill the server again: after the restart the same containers carry on.
    world.server.process.kill(signal.SIGKILL)
    world.restart_server()
    again = world.wait_running(arns)
    after = assert_one_container_per_task(arns)
    assert after == before, "containers were replaced or restarted across a server restart"
    assert [t["containers"][0]["runtimeId"] for t in again] == [t["containers"][0]["runtimeId"] for t in running]
    # The instance is still the agent's one, connected again.
    e2e.wait_until(lambda: e2e.container_instances(ecs, world.name),
                   lambda found: len(found) == 1 and found[0]["agentConnected"], timeout=90,
                   what="the agent to reconnect to the restarted server")

    for arn in arns:
        ecs.stop_task(cluster=world.name, task=arn)
    for arn in arns:
        e2e.wait_status(ecs, world.name, arn, "STOPPED")


def test_agent_killed_while_tasks_run(processes):
    world = Cluster(processes)
    ecs = world.ecs
    family = e2e.unique_name("sleep")
    ecs.register_task_definition(**sleeper(family))
    arns = world.run(family, 2)
    world.wait_running(arns)
    before = assert_one_container_per_task(arns)
    assert all(running for _, _, running in before.values())

    world.agent.kill(signal.SIGKILL)
    # Docker keeps the containers running without the agent. One of them dies meanwhile.
    victim, survivor = arns
    e2e.docker("kill", before[victim][0])
    world.agent.restart()

    # The restarted agent is the same container instance (its identity is in its data dir).
    e2e.wait_until(lambda: e2e.container_instances(ecs, world.name),
                   lambda found: len(found) == 1 and found[0]["agentConnected"] and found[0]["status"] == "ACTIVE",
                   timeout=90, what="the restarted agent to reconnect as the same instance")
    assert ecs.list_container_instances(cluster=world.name)["containerInstanceArns"] == [world.instance_arn]

    stopped = e2e.wait_status(ecs, world.name, victim, "STOPPED", timeout=120)
    assert stopped["containers"][0]["exitCode"] == 137, stopped["containers"][0]
    assert stopped["stopCode"] == "EssentialContainerExited"

    survivor_task = e2e.describe_task(ecs, world.name, survivor)
    assert survivor_task["lastStatus"] == "RUNNING" and survivor_task["desiredStatus"] == "RUNNING"
    after = assert_one_container_per_task([survivor])
    assert after[survivor] == before[survivor], "the surviving container was restarted or replaced"
    # The killed task's container is never started again nor replaced (it may be cleaned up).
    victim_containers = docker_view([victim])[victim]
    assert len(victim_containers) <= 1, victim_containers
    for container_id, _, running in victim_containers:
        assert container_id == before[victim][0], "the killed task's container was replaced"
        assert running is False, "the killed task's container was started again"
    # The task is not run a second time elsewhere.
    assert victim not in ecs.list_tasks(cluster=world.name, desiredStatus="RUNNING")["taskArns"]

    ecs.stop_task(cluster=world.name, task=survivor)
    e2e.wait_status(ecs, world.name, survivor, "STOPPED")


def test_two_agents_with_their_own_data_dirs_are_two_instances(processes):
    world = Cluster(processes, agent_name="first")
    processes.agent(world.server.url, world.name, "second")
    instances = e2e.wait_for_instances(world.ecs, world.name, 2)
    arns = sorted(instance["containerInstanceArn"] for instance in instances)
    assert len(set(arns)) == 2 and world.instance_arn in arns
    assert all(instance["status"] == "ACTIVE" for instance in instances)

    # Tasks started on each instance run on that instance's agent.
    family = e2e.unique_name("sleep")
    world.ecs.register_task_definition(**sleeper(family))
    started = world.ecs.start_task(cluster=world.name, taskDefinition=family, containerInstances=arns)
    assert started["failures"] == []
    task_arns = [task["taskArn"] for task in started["tasks"]]
    assert sorted(task["containerInstanceArn"] for task in started["tasks"]) == arns
    world.wait_running(task_arns)
    containers = assert_one_container_per_task(task_arns)
    by_arn = {instance["containerInstanceArn"]: instance for instance in instances}
    owners = set()
    for task in started["tasks"]:
        labels = e2e.inspect_container(containers[task["taskArn"]][0])["Config"]["Labels"]
        owner = labels.get(e2e.LABEL_CONTAINER_INSTANCE, "")
        instance = by_arn[task["containerInstanceArn"]]
        # The label names the owning instance: its ARN, its ID or its (EC2-style) instance ID.
        assert owner in (instance["containerInstanceArn"], instance["containerInstanceArn"].rsplit("/", 1)[1],
                         instance.get("ec2InstanceId")), (labels, instance)
        owners.add(owner)
    assert len(owners) == 2, "both agents label their containers alike"
    for arn in task_arns:
        world.ecs.stop_task(cluster=world.name, task=arn)
    for arn in task_arns:
        e2e.wait_status(world.ecs, world.name, arn, "STOPPED")


def test_agent_attributes_and_disconnection(processes):
    server = processes.server(["--agent-timeout", "3s"])
    ecs = e2e.ecs_client(server.url)
    name = e2e.unique_name("attrs")
    ecs.create_cluster(clusterName=name)
    agent = processes.agent(server.url, name, "attrs", ["--attribute", "stack=blue", "--attribute", "tier=web"])
    instance = e2e.wait_for_instances(ecs, name, 1)[0]
    attributes = {a["name"]: a.get("value") for a in instance["attributes"]}
    assert attributes.get("stack") == "blue" and attributes.get("tier") == "web", instance["attributes"]

    agent.kill(signal.SIGKILL)
    e2e.wait_until(lambda: e2e.container_instances(ecs, name),
                   lambda found: len(found) == 1 and found[0]["agentConnected"] is False, timeout=60,
                   what="agentConnected to turn false after --agent-timeout")
    # Only instances connected to an agent accept placements (ECS: reason AGENT).
    family = e2e.unique_name("sleep")
    ecs.register_task_definition(**sleeper(family))
    response = ecs.run_task(cluster=name, taskDefinition=family)
    assert response["tasks"] == [] and len(response["failures"]) == 1, response
    assert response["failures"][0]["reason"] == "AGENT", response["failures"]

    agent.restart()
    e2e.wait_for_instances(ecs, name, 1)
    assert ecs.list_container_instances(cluster=name)["containerInstanceArns"] == [instance["containerInstanceArn"]]
