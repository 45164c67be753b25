"""ECS daemons across separate `berth server` and `berth agent` processes with real Docker:
a daemon task definition, a daemon on one capacity provider (one task per instance of it,
joining instances included, none elsewhere), an UpdateDaemon roll with its deployment and
revisions, a server `kill -9` and restart, and DeleteDaemon stopping the tasks. Every response
goes through the strict shape validator (`e2e.ecs_client`)."""

from __future__ import annotations

import signal

import pytest
from botocore.exceptions import ClientError

import berth_e2e as e2e

pytestmark = pytest.mark.docker

PREFIX = f"arn:aws:ecs:{e2e.REGION}:{e2e.ACCOUNT}"


def daemon_definition(family: str, marker: str) -> dict:
    return {
        "family": family,
        "containerDefinitions": [{
            "name": "main", "image": e2e.TEST_IMAGE, "command": ["sleep", "3600"], "memory": 16,
            "stopTimeout": 2, "environment": [{"name": "MARKER", "value": marker}],
        }],
    }


def client_error(call, **kwargs) -> tuple[str, str]:
    with pytest.raises(ClientError) as raised:
        call(**kwargs)
    error = raised.value.response["Error"]
    return error["Code"], error["Message"]


class World:
    """A server, a cluster with two capacity providers, and agents joining them."""

    def __init__(self, processes):
        self.processes = processes
        self.server = processes.server(["--service-settle-time", "1s", "--service-throttle-delay", "1s"])
        self.ecs = e2e.ecs_client(self.server.url)
        self.cluster = e2e.unique_name("daemons")
        self.ecs.create_cluster(clusterName=self.cluster)
        self.pool, self.other = e2e.unique_name("pool"), e2e.unique_name("other")
        for provider in (self.pool, self.other):
            self.ecs.create_capacity_provider(name=provider)
        self.ecs.put_cluster_capacity_providers(cluster=self.cluster, capacityProviders=[self.pool, self.other],
                                                defaultCapacityProviderStrategy=[])

    def add_agent(self, name: str, provider: str) -> str:
        known = {i["containerInstanceArn"] for i in e2e.container_instances(self.ecs, self.cluster)}
        self.processes.agent(self.server.url, self.cluster, name, ["--capacity-provider", provider])
        instances = e2e.wait_for_instances(self.ecs, self.cluster, len(known) + 1)
        (arn,) = {i["containerInstanceArn"] for i in instances} - known
        return arn

    def daemon_tasks(self, daemon: str, desired_status: str = "RUNNING") -> list[dict]:
        arns = self.ecs.list_tasks(cluster=self.cluster, desiredStatus=desired_status)["taskArns"]
        tasks = e2e.describe_tasks_of(self.ecs, self.cluster, arns)
        return [task for task in tasks if task["group"] == f"daemon:{daemon}"]

    def wait_running_on(self, daemon: str, instances: set[str], definition: str, timeout: float = 120.0) -> list[dict]:
        """Waits until the daemon's RUNNING tasks are exactly one per instance in `instances`,
        all of `definition`."""
        def done(tasks: list[dict]) -> bool:
            return (sorted(t["containerInstanceArn"] for t in tasks) == sorted(instances)
                    and all(t["lastStatus"] == "RUNNING" and t["taskDefinitionArn"] == definition for t in tasks))
        return e2e.wait_until(lambda: self.daemon_tasks(daemon), done, timeout=timeout, interval=0.5,
                              what=f"one RUNNING task of {definition} on each of {sorted(instances)}")

    def deployment(self, arn: str) -> dict:
        answer = self.ecs.describe_daemon_deployments(daemonDeploymentArns=[arn])
        assert answer["failures"] == [], answer
        return answer["daemonDeployments"][0]

    def wait_deployment(self, arn: str, status: str, timeout: float = 120.0) -> dict:
        return e2e.wait_until(lambda: self.deployment(arn), lambda deployment: deployment["status"] == status,
                              timeout=timeout, interval=0.5, what=f"daemon deployment {arn} to be {status}")


def test_a_daemon_runs_once_per_instance_of_its_capacity_provider(processes):
    world = World(processes)
    ecs, cluster = world.ecs, world.cluster
    first = world.add_agent("pool-one", world.pool)

    family = e2e.unique_name("shipper")
    first_definition = ecs.register_daemon_task_definition(**daemon_definition(family, "v1"))["daemonTaskDefinitionArn"]
    assert first_definition == f"{PREFIX}:daemon-task-definition/{family}:1"
    described = ecs.describe_daemon_task_definition(daemonTaskDefinition=family)["daemonTaskDefinition"]
    assert (described["status"], described["revision"], described["family"]) == ("ACTIVE", 1, family), described
    assert described["containerDefinitions"][0]["image"] == e2e.TEST_IMAGE
    listed = ecs.list_daemon_task_definitions(family=family)["daemonTaskDefinitions"]
    assert [summary["arn"] for summary in listed] == [first_definition]

    name = e2e.unique_name("daemon")
    created = ecs.create_daemon(daemonName=name, clusterArn=e2e.cluster_arn(cluster),
                                daemonTaskDefinitionArn=first_definition,
                                capacityProviderArns=[f"{PREFIX}:capacity-provider/{world.pool}"],
                                propagateTags="DAEMON", tags=[{"key": "team", "value": "ops"}])
    daemon_arn = created["daemonArn"]
    assert daemon_arn == f"{PREFIX}:daemon/{cluster}/{name}"
    assert created["status"] == "ACTIVE"
    first_deployment = created["deploymentArn"]

    (task,) = world.wait_running_on(name, {first}, first_definition)
    assert task["startedBy"].startswith("ecs-svc/"), task
    assert e2e.containers_for_task(task["taskArn"], all_states=False), "the daemon task runs in Docker"
    world.wait_deployment(first_deployment, "SUCCESSFUL")

    # An instance of another provider gets no daemon task: it joins first, so the passes that
    # place the second pool instance's task have seen it.
    outsider = world.add_agent("other-one", world.other)
    second = world.add_agent("pool-two", world.pool)
    tasks = world.wait_running_on(name, {first, second}, first_definition)
    assert all(t["containerInstanceArn"] != outsider for t in world.daemon_tasks(name))
    daemon = e2e.wait_until(lambda: ecs.describe_daemon(daemonArn=daemon_arn)["daemon"],
                            lambda d: d["currentRevisions"][0]["totalRunningCount"] == 2,
                            timeout=60, interval=0.5, what="DescribeDaemon to count two running tasks")
    assert daemon["status"] == "ACTIVE" and daemon["deploymentArn"] == first_deployment, daemon
    first_revision = daemon["currentRevisions"][0]["arn"]
    assert first_revision.startswith(f"{PREFIX}:daemon-revision/{cluster}/{name}/"), first_revision
    assert [d["daemonArn"] for d in ecs.list_daemons(clusterArn=cluster)["daemonSummariesList"]] == [daemon_arn]

    # UpdateDaemon with a new definition rolls both instances.
    second_definition = ecs.register_daemon_task_definition(**daemon_definition(family, "v2"))["daemonTaskDefinitionArn"]
    assert second_definition == f"{PREFIX}:daemon-task-definition/{family}:2"
    updated = ecs.update_daemon(daemonArn=daemon_arn, daemonTaskDefinitionArn=second_definition,
                                capacityProviderArns=[world.pool], deploymentConfiguration={"drainPercent": 50.0})
    second_deployment = updated["deploymentArn"]
    assert second_deployment != first_deployment
    rolled = world.wait_running_on(name, {first, second}, second_definition)
    for old in tasks:
        e2e.wait_status(ecs, cluster, old["taskArn"], "STOPPED")
    deployment = world.wait_deployment(second_deployment, "SUCCESSFUL")
    assert deployment["deploymentConfiguration"]["drainPercent"] == 50.0, deployment
    second_revision = deployment["targetDaemonRevision"]["arn"]
    assert second_revision != first_revision
    assert [source["arn"] for source in deployment["sourceDaemonRevisions"]] == [first_revision], deployment
    listed = ecs.list_daemon_deployments(daemonArn=daemon_arn)["daemonDeployments"]
    assert [d["daemonDeploymentArn"] for d in listed] == [second_deployment, first_deployment], listed
    assert listed[0]["targetDaemonRevisionArn"] == second_revision
    successful = ecs.list_daemon_deployments(daemonArn=daemon_arn, status=["SUCCESSFUL"])["daemonDeployments"]
    assert len(successful) == 2, successful
    missing = f"{PREFIX}:daemon-revision/{cluster}/{name}/0123456789abcdef"
    revisions = ecs.describe_daemon_revisions(daemonRevisionArns=[first_revision, second_revision, missing])
    assert [r["daemonTaskDefinitionArn"] for r in revisions["daemonRevisions"]] == [first_definition, second_definition]
    assert revisions["daemonRevisions"][1]["containerImages"][0]["image"] == e2e.TEST_IMAGE
    assert revisions["daemonRevisions"][1]["propagateTags"] == "DAEMON"
    assert revisions["failures"] == [{"arn": missing, "reason": "MISSING"}], revisions

    # Definitions and the daemon survive a kill -9 of the server; its tasks keep running.
    world.server.process.kill(signal.SIGKILL)
    world.server.process.restart()
    world.server.wait_ready()
    after = ecs.describe_daemon(daemonArn=daemon_arn)["daemon"]
    assert (after["status"], after["deploymentArn"]) == ("ACTIVE", second_deployment), after
    assert ecs.describe_daemon_task_definition(daemonTaskDefinition=f"{family}:1")["daemonTaskDefinition"]["revision"] == 1
    survivors = world.wait_running_on(name, {first, second}, second_definition)
    assert {t["taskArn"] for t in survivors} == {t["taskArn"] for t in rolled}, "the same tasks, not new ones"

    # DeleteDaemon stops the tasks; then the daemon is gone and its deletion deployment succeeded.
    deleted = ecs.delete_daemon(daemonArn=daemon_arn)
    assert deleted["status"] == "DELETE_IN_PROGRESS"
    for task in rolled:
        e2e.wait_status(ecs, cluster, task["taskArn"], "STOPPED")

    def gone() -> str | None:
        try:
            ecs.describe_daemon(daemonArn=daemon_arn)
            return None
        except ClientError as error:
            return error.response["Error"]["Code"]
    e2e.wait_until(gone, lambda code: code == "DaemonNotFoundException", timeout=60, interval=0.5,
                   what="the deleted daemon to be gone")
    world.wait_deployment(deleted["deploymentArn"], "SUCCESSFUL")
    e2e.wait_until(lambda: e2e.running_containers_of_cluster(cluster), lambda running: running == {},
                   timeout=60, interval=0.5, what="no daemon container left running")


def test_daemon_requests_are_validated(processes):
    world = World(processes)
    ecs = world.ecs
    code, message = client_error(ecs.register_daemon_task_definition, family="f",
                                 containerDefinitions=[{"name": "a", "image": e2e.TEST_IMAGE}])
    assert code == "ClientException" and message.startswith("containerDefinitions[0]"), message
    code, message = client_error(ecs.register_daemon_task_definition, pidMode="shared",
                                 **daemon_definition(e2e.unique_name("f"), "x"))
    assert code == "InvalidParameterException" and message.startswith("pidMode"), message
    family = e2e.unique_name("valid")
    definition = ecs.register_daemon_task_definition(**daemon_definition(family, "x"))["daemonTaskDefinitionArn"]

    create = {"clusterArn": world.cluster, "daemonTaskDefinitionArn": definition,
              "capacityProviderArns": [world.pool]}
    code, message = client_error(ecs.create_daemon, daemonName="has space", **create)
    assert code == "InvalidParameterException" and message.startswith("daemonName"), message
    code, message = client_error(ecs.create_daemon, daemonName="d", **{**create, "capacityProviderArns": ["nope"]})
    assert code == "InvalidParameterException" and message.startswith("capacityProviderArns[0]"), message
    code, message = client_error(ecs.create_daemon, daemonName="d",
                                 **{**create, "deploymentConfiguration": {"drainPercent": 120.0}})
    assert code == "InvalidParameterException" and "drainPercent" in message, message
    code, _ = client_error(ecs.create_daemon, daemonName="d", **{**create, "clusterArn": "missing-cluster"})
    assert code == "ClusterNotFoundException"
    unknown = f"{PREFIX}:daemon/{world.cluster}/nobody"
    code, _ = client_error(ecs.describe_daemon, daemonArn=unknown)
    assert code == "DaemonNotFoundException"
    code, message = client_error(ecs.describe_daemon, daemonArn="not-an-arn")
    assert code == "InvalidParameterException" and message.startswith("daemonArn"), message
    code, message = client_error(ecs.describe_daemon_deployments, daemonDeploymentArns=[unknown])
    assert code == "InvalidParameterException" and message.startswith("daemonDeploymentArns[0]"), message

    # Deleting a definition: DELETED when no daemon uses it; only ACTIVE ones can be deleted.
    deleted = ecs.delete_daemon_task_definition(daemonTaskDefinition=f"{family}:1")
    assert deleted["daemonTaskDefinitionArn"] == definition
    described = ecs.describe_daemon_task_definition(daemonTaskDefinition=definition)["daemonTaskDefinition"]
    assert described["status"] == "DELETED" and "deleteRequestedAt" in described, described
    code, _ = client_error(ecs.delete_daemon_task_definition, daemonTaskDefinition=definition)
    assert code == "ClientException"
    code, _ = client_error(ecs.create_daemon, daemonName="d", **create)
    assert code == "ClientException"
    everything = ecs.list_daemon_task_definitions(family=family, status="ALL")["daemonTaskDefinitions"]
    assert [d["status"] for d in everything] == ["DELETED"], everything
