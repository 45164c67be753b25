"""Services across separate `berth server` and `berth agent` processes: a server `kill -9`ed
in the middle of a rolling deployment, DAEMON services on instances that join later, and
service tasks replaced when their instance is lost (and not run twice when it returns)."""

from __future__ import annotations

import signal

import pytest
from botocore.exceptions import ClientError

import berth_e2e as e2e

pytestmark = pytest.mark.docker


def sleeper(family: str, **extra) -> dict:
    return e2e.busybox_task_definition(family, ["sleep", "3600"], memory=16, stop_timeout=2, **extra)


class World:
    """A `berth server` with service flags, a cluster on it, and agents joining it."""

    def __init__(self, processes, server_extra=()):
        self.processes = processes
        self.server = processes.server(list(server_extra))
        self.name = e2e.unique_name("svc-crash")
        self.ecs = e2e.ecs_client(self.server.url)
        self.ecs.create_cluster(clusterName=self.name)
        self.agents: dict[str, e2e.BerthProcess] = {}  # container instance ARN -> agent

    def add_agent(self, agent_name: str) -> str:
        known = {i["containerInstanceArn"] for i in e2e.container_instances(self.ecs, self.name)}
        agent = self.processes.agent(self.server.url, self.name, agent_name)
        instances = e2e.wait_for_instances(self.ecs, self.name, len(known) + 1)
        (arn,) = {i["containerInstanceArn"] for i in instances} - known
        self.agents[arn] = agent
        return arn

    def register(self, definition: dict) -> str:
        return self.ecs.register_task_definition(**definition)["taskDefinition"]["taskDefinitionArn"]

    def steady_sleeper_service(self, prefix: str, desired: int, **create) -> tuple[str, str, str]:
        """Registers a sleeper family, creates a replica service of it and waits until it is
        steady; returns (family, task definition ARN, service name)."""
        family = e2e.unique_name(prefix)
        definition = self.register(sleeper(family))
        name = e2e.unique_name(f"{prefix}svc")
        self.ecs.create_service(cluster=self.name, serviceName=name, taskDefinition=definition,
                                desiredCount=desired, **create)
        e2e.wait_service_steady(self.ecs, self.name, name, desired, definition)
        return family, definition, name


def assert_each_task_has_one_container(task_arns) -> None:
    for arn in task_arns:
        containers = e2e.containers_for_task(arn)
        assert len(containers) <= 1, f"{arn} has {len(containers)} containers (a task must never run twice)"


def wait_docker_matches(cluster: str, task_arns: set[str], timeout: float = 90.0) -> dict:
    """Waits until the running Docker containers of the cluster are exactly one per task in
    `task_arns`."""
    return e2e.wait_until(
        lambda: e2e.running_containers_of_cluster(cluster),
        lambda running: set(running) == task_arns and all(len(ids) == 1 for ids in running.values()),
        timeout=timeout, interval=0.5, what=f"exactly one running container per service task {sorted(task_arns)}")


# --------------------------------------------------------------------------------------------
# 6. Server kill -9 during a rolling deployment


def test_server_killed_mid_rolling_deployment(processes):
    # A longer settle time widens the window in which both deployments have tasks.
    world = World(processes, ["--service-settle-time", "4s", "--service-throttle-delay", "1s"])
    world.add_agent("a")
    ecs, cluster = world.ecs, world.name
    desired = 3
    family, first, name = world.steady_sleeper_service(
        "roll", desired, deploymentConfiguration={"maximumPercent": 200, "minimumHealthyPercent": 100})
    old_tasks = {t["taskArn"] for t in e2e.service_tasks(ecs, cluster, name)}

    second = world.register(sleeper(family, environment=[{"name": "REVISION", "value": "2"}]))
    ecs.update_service(cluster=cluster, service=name, taskDefinition=second)

    def mid_deployment(service: dict) -> bool:
        by_definition = {d["taskDefinition"]: d for d in service["deployments"]}
        new, old = by_definition.get(second), by_definition.get(first)
        return (new is not None and old is not None and new["status"] == "PRIMARY"
                and new["runningCount"] + new["pendingCount"] >= 1 and old["runningCount"] >= 1)

    e2e.wait_until(lambda: e2e.describe_service(ecs, cluster, name), mid_deployment, timeout=90, interval=0.2,
                   what="the new deployment to have started tasks while the old one still runs")
    world.server.process.kill(signal.SIGKILL)
    world.server.process.restart()
    world.server.wait_ready()

    service = e2e.wait_service_steady(ecs, cluster, name, desired, second, timeout=180)
    assert e2e.primary_deployment(service)["rolloutState"] == "COMPLETED"
    live = e2e.wait_service_running(ecs, cluster, name, desired, second, timeout=60)
    live_arns = {t["taskArn"] for t in live}
    assert not live_arns & old_tasks
    running = wait_docker_matches(cluster, live_arns)
    assert sum(len(ids) for ids in running.values()) == desired
    # Every task the service ever had has at most one container; the old ones are STOPPED.
    every = set(e2e.list_service_task_arns(ecs, cluster, name, "STOPPED")) | live_arns | old_tasks
    assert_each_task_has_one_container(every)
    for task in e2e.describe_tasks_of(ecs, cluster, old_tasks):
        assert task["lastStatus"] == "STOPPED", task
    # Still exactly desiredCount after everything settled (a late duplicate would show here).
    again = e2e.describe_service(ecs, cluster, name)
    assert e2e.is_steady(again, desired, second), again
    assert {t["taskArn"] for t in e2e.service_tasks(ecs, cluster, name)} == live_arns
    assert set(e2e.running_containers_of_cluster(cluster)) == live_arns


# --------------------------------------------------------------------------------------------
# 8. DAEMON


def test_daemon_service_runs_one_task_per_instance_including_late_joiners(processes):
    world = World(processes, ["--service-settle-time", "1s", "--service-throttle-delay", "1s"])
    first_instance = world.add_agent("one")
    ecs, cluster = world.ecs, world.name
    family = e2e.unique_name("daemon")
    definition = world.register(sleeper(family))
    name = e2e.unique_name("daemonsvc")
    created = ecs.create_service(cluster=cluster, serviceName=name, taskDefinition=definition,
                                 schedulingStrategy="DAEMON")["service"]
    assert created["schedulingStrategy"] == "DAEMON"
    configuration = created["deploymentConfiguration"]
    assert (configuration["maximumPercent"], configuration["minimumHealthyPercent"]) == (100, 0), configuration

    tasks = e2e.wait_service_running(ecs, cluster, name, 1, definition)
    assert [t["containerInstanceArn"] for t in tasks] == [first_instance]
    e2e.wait_service_steady(ecs, cluster, name, 1, definition)

    second_instance = world.add_agent("two")
    tasks = e2e.wait_service_running(ecs, cluster, name, 2, definition, timeout=90)
    assert sorted(t["containerInstanceArn"] for t in tasks) == sorted([first_instance, second_instance])
    for task in tasks:
        assert task["group"] == f"service:{name}" and task["startedBy"].startswith("ecs-svc/"), task
    service = e2e.wait_service_steady(ecs, cluster, name, 2, definition, timeout=60)
    assert service["desiredCount"] == 2
    wait_docker_matches(cluster, {t["taskArn"] for t in tasks})

    # A DAEMON service has no desired count to update (ECS: "The daemon scheduling strategy does
    # not support a desired count for services. ..."). Checked at the end so the deletion below
    # is exercised either way.
    try:
        ecs.update_service(cluster=cluster, service=name, desiredCount=5)
        update_problem = "UpdateService desiredCount=5 on a DAEMON service succeeded"
    except ClientError as error:
        code = error.response["Error"]["Code"]
        update_problem = None if code == "InvalidParameterException" else f"UpdateService desiredCount: {code}"

    deleted = ecs.delete_service(cluster=cluster, service=name, force=True)["service"]
    assert deleted["status"] in ("DRAINING", "INACTIVE")
    e2e.wait_until(lambda: e2e.describe_service(ecs, cluster, name), lambda s: s["status"] == "INACTIVE",
                   timeout=60, interval=0.5, what="the DAEMON service to become INACTIVE")
    for task in tasks:
        e2e.wait_status(ecs, cluster, task["taskArn"], "STOPPED", timeout=60)
    assert update_problem is None, update_problem


# --------------------------------------------------------------------------------------------
# Lost instances


def test_tasks_on_a_lost_instance_are_replaced_and_not_run_twice(processes):
    world = World(processes, ["--service-settle-time", "1s", "--service-throttle-delay", "1s",
                              "--agent-timeout", "2s", "--instance-lost-after", "4s"])
    world.add_agent("left")
    world.add_agent("right")
    ecs, cluster = world.ecs, world.name
    _, definition, name = world.steady_sleeper_service("lost", 4,
                                                       placementStrategy=[{"type": "spread", "field": "instanceId"}])
    originals = e2e.service_tasks(ecs, cluster, name)
    lost_instance = originals[0]["containerInstanceArn"]
    on_lost = sorted(t["taskArn"] for t in originals if t["containerInstanceArn"] == lost_instance)
    assert len(on_lost) == 2, originals
    lost_agent = world.agents[lost_instance]
    lost_agent.kill(signal.SIGKILL)  # its containers keep running in Docker

    def view():
        service = e2e.describe_service(ecs, cluster, name)
        return {
            "service": {key: service[key] for key in ("desiredCount", "runningCount", "pendingCount")},
            "live": e2e.service_tasks(ecs, cluster, name),
            "lost": {t["taskArn"]: t for t in e2e.describe_tasks_of(ecs, cluster, on_lost)},
            "events": e2e.event_messages(service)[:8],
        }

    def replaced(v) -> bool:
        elsewhere = [t for t in v["live"] if t["containerInstanceArn"] != lost_instance and t["lastStatus"] == "RUNNING"]
        return len(elsewhere) == 4

    # While the agent is away: its two tasks are desired STOPPED with a reason that says why,
    # replaced on the other instance, out of runningCount, and an event tells the story.
    away = e2e.wait_until(view, replaced, timeout=90, interval=0.5, what="four tasks on the surviving instance")
    for arn, task in away["lost"].items():
        assert task["desiredStatus"] == "STOPPED", task
        assert task["stopCode"] == "ServiceSchedulerInitiated", task
        assert "container instance was lost" in task["stoppedReason"].lower(), task
    assert {t["taskArn"] for t in away["live"]}.isdisjoint(on_lost)
    steady_away = e2e.wait_service_steady(ecs, cluster, name, 4, definition, timeout=60)
    assert steady_away["runningCount"] == 4, "the lost instance's tasks no longer count"
    lost_id = lost_instance.rsplit("/", 1)[1]
    assert any(f"(container-instance {lost_id}) was lost" in m for m in e2e.event_messages(steady_away)), \
        e2e.event_messages(steady_away)

    # When the agent comes back it stops its two tasks at once; none runs twice.
    lost_agent.restart()
    survivors = {t["taskArn"] for t in away["live"]}
    back = e2e.wait_until(view, lambda v: all(t["lastStatus"] == "STOPPED" for t in v["lost"].values()),
                          timeout=90, interval=0.5, what="the returning agent to stop its replaced tasks")
    assert {t["taskArn"] for t in back["live"]} == survivors
    wait_docker_matches(cluster, survivors)
    service = e2e.wait_service_steady(ecs, cluster, name, 4, definition, timeout=60)
    assert service["runningCount"] == 4
    assert_each_task_has_one_container(on_lost + sorted(survivors))
    ecs.delete_service(cluster=cluster, service=name, force=True)


# --------------------------------------------------------------------------------------------
# Draining


def test_draining_instance_moves_service_tasks_within_bounds(processes):
    world = World(processes, ["--service-settle-time", "1s", "--service-throttle-delay", "1s"])
    first_instance = world.add_agent("first")
    second_instance = world.add_agent("second")
    ecs, cluster = world.ecs, world.name
    desired = 2
    _, definition, name = world.steady_sleeper_service(
        "drain", desired, deploymentConfiguration={"maximumPercent": 200, "minimumHealthyPercent": 100})
    before = e2e.service_tasks(ecs, cluster, name)
    counts = {first_instance: 0, second_instance: 0}
    for task in before:
        counts[task["containerInstanceArn"]] += 1
    draining = max(counts, key=counts.get)
    other = second_instance if draining == first_instance else first_instance

    response = ecs.update_container_instances_state(cluster=cluster, containerInstances=[draining], status="DRAINING")
    assert response["failures"] == [] and response["containerInstances"][0]["status"] == "DRAINING"

    def sample():
        service = e2e.describe_service(ecs, cluster, name)
        assert service["runningCount"] >= desired, f"below minimumHealthyPercent while draining: {service}"
        assert service["runningCount"] + service["pendingCount"] <= 2 * desired, service
        return service, e2e.service_tasks(ecs, cluster, name)

    def moved(observed) -> bool:
        service, tasks = observed
        return (e2e.is_steady(service, desired, definition) and len(tasks) == desired
                and all(t["containerInstanceArn"] == other and t["lastStatus"] == "RUNNING" for t in tasks))

    e2e.wait_until(sample, moved, timeout=120, interval=0.3, what="the service tasks to leave the DRAINING instance")
    drained = e2e.wait_until(
        lambda: ecs.describe_container_instances(cluster=cluster, containerInstances=[draining])["containerInstances"][0],
        lambda instance: instance["runningTasksCount"] == 0 and instance["pendingTasksCount"] == 0,
        timeout=60, interval=0.5, what="the DRAINING instance to have no tasks")
    assert drained["status"] == "DRAINING"
    for task in before:
        if task["containerInstanceArn"] == draining:
            stopped = e2e.wait_status(ecs, cluster, task["taskArn"], "STOPPED", timeout=60)
            assert stopped["stopCode"] == "ServiceSchedulerInitiated", stopped
    live = {t["taskArn"] for t in e2e.service_tasks(ecs, cluster, name)}
    wait_docker_matches(cluster, live)
    ecs.delete_service(cluster=cluster, service=name, force=True)
