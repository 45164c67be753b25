"""Tasks on the real Docker Engine through `berth up`: what a user sees in DescribeTasks, on
the host ports, in `docker ps`, and in the container instance's resources."""

from __future__ import annotations

import socket

import pytest

import berth_e2e as e2e
from berth_e2e import TASK_STATUS_ORDER, TEST_IMAGE

pytestmark = pytest.mark.docker

HTTPD = ["httpd", "-f", "-p", "8080", "-h", "/www"]


def web_definition(family: str) -> dict:
    return e2e.busybox_task_definition(
        family, HTTPD, memory=32,
        port_mappings=[{"containerPort": 8080, "hostPort": 0, "protocol": "tcp"}],
    )


def wait_http(port: int) -> tuple[int, str]:
    return e2e.wait_until(lambda: e2e.http_get(port), lambda r: r is not None and r[0] == 200, timeout=60,
                          what=f"HTTP 200 from 127.0.0.1:{port}")


def resources(ecs, cluster: str, instance_arn: str) -> dict:
    found = ecs.describe_container_instances(cluster=cluster, containerInstances=[instance_arn])
    assert found["failures"] == [], found
    described = found["containerInstances"][0]
    return {
        "registered": {name: e2e.resource_value(described["registeredResources"], name) for name in ("CPU", "MEMORY")},
        "remaining": {name: e2e.resource_value(described["remainingResources"], name) for name in ("CPU", "MEMORY")},
        "runningTasksCount": described["runningTasksCount"],
    }


def run_one(ecs, cluster, cleanup_tasks, family, **extra) -> dict:
    response = ecs.run_task(cluster=cluster, taskDefinition=family, **extra)
    assert response["failures"] == [], response["failures"]
    for task in response["tasks"]:
        cleanup_tasks.append((ecs, cluster, task["taskArn"]))
    return response["tasks"][0]


def test_two_web_tasks_serve_on_their_own_ports_and_stop(ecs, cluster, instance, cleanup_tasks):
    instance_arn = instance["containerInstanceArn"]
    before = resources(ecs, cluster, instance_arn)
    family = e2e.unique_name("web")
    ecs.register_task_definition(**web_definition(family))

    response = ecs.run_task(cluster=cluster, taskDefinition=family, count=2)
    assert response["failures"] == []
    arns = [task["taskArn"] for task in response["tasks"]]
    cleanup_tasks.extend((ecs, cluster, arn) for arn in arns)
    assert len(set(arns)) == 2
    for task in response["tasks"]:
        assert task["desiredStatus"] == "RUNNING"
        assert task["lastStatus"] in ("PROVISIONING", "PENDING")

    running = [e2e.wait_status(ecs, cluster, arn, "RUNNING") for arn in arns]
    ports = []
    for task in running:
        container = task["containers"][0]
        assert container["lastStatus"] == "RUNNING"
        bindings = container["networkBindings"]
        assert len(bindings) == 1, bindings
        assert bindings[0]["containerPort"] == 8080
        assert bindings[0]["protocol"] == "tcp"
        assert bindings[0]["hostPort"] > 0
        ports.append(bindings[0]["hostPort"])
        # The container the user can find in Docker is the one ECS reports.
        docker_ids = e2e.containers_for_task(task["taskArn"])
        assert len(docker_ids) == 1, docker_ids
        assert docker_ids[0].startswith(container["runtimeId"]) or container["runtimeId"].startswith(docker_ids[0])
        assert task["startedAt"] >= task["createdAt"]
    assert len(set(ports)) == 2, f"both tasks got the same host port: {ports}"
    for port in ports:
        status, body = wait_http(port)
        assert body.strip() == "berth"

    during = e2e.wait_until(lambda: resources(ecs, cluster, instance_arn),
                            lambda r: r["remaining"]["MEMORY"] == before["registered"]["MEMORY"] - 64,
                            timeout=30, what="remaining MEMORY to account for two 32 MiB tasks")
    assert during["remaining"]["CPU"] == before["registered"]["CPU"] - 128
    assert during["runningTasksCount"] == 2

    reason = "e2e: scaling down"
    stopped_response = ecs.stop_task(cluster=cluster, task=arns[0], reason=reason)["task"]
    assert stopped_response["desiredStatus"] == "STOPPED"
    stopped = e2e.wait_status(ecs, cluster, arns[0], "STOPPED")
    assert stopped["stopCode"] == "UserInitiated"
    assert stopped["stoppedReason"] == reason
    assert isinstance(stopped["containers"][0].get("exitCode"), int), stopped["containers"][0]
    assert stopped["containers"][0]["lastStatus"] == "STOPPED"
    assert stopped["createdAt"] <= stopped["startedAt"] <= stopped["stoppingAt"] <= stopped["stoppedAt"]
    e2e.wait_until(lambda: e2e.containers_for_task(arns[0], all_states=False), lambda ids: ids == [], timeout=30,
                   what="the stopped task's container to leave `docker ps`")
    assert e2e.http_get(ports[0]) is None or e2e.http_get(ports[0])[0] != 200

    # The other task is untouched.
    other = e2e.describe_task(ecs, cluster, arns[1])
    assert other["lastStatus"] == "RUNNING" and other["desiredStatus"] == "RUNNING"
    assert wait_http(ports[1])[1].strip() == "berth"

    ecs.stop_task(cluster=cluster, task=arns[1])
    stopped_second = e2e.wait_status(ecs, cluster, arns[1], "STOPPED")
    assert stopped_second["stopCode"] == "UserInitiated"
    assert stopped_second["stoppedReason"]  # ECS fills in a default ("Task stopped by user")

    after = e2e.wait_until(lambda: resources(ecs, cluster, instance_arn),
                           lambda r: r["remaining"] == r["registered"], timeout=60,
                           what="remaining CPU/MEMORY to return to the registered values")
    assert after["registered"] == before["registered"]
    assert after["runningTasksCount"] == 0


def test_essential_container_exit_stops_the_task(ecs, cluster, cleanup_tasks):
    family = e2e.unique_name("exit3")
    ecs.register_task_definition(**e2e.busybox_task_definition(family, ["sh", "-c", "exit 3"]))
    task = run_one(ecs, cluster, cleanup_tasks, family)
    stopped = e2e.wait_status(ecs, cluster, task["taskArn"], "STOPPED")
    assert stopped["stopCode"] == "EssentialContainerExited"
    assert stopped["stoppedReason"] == "Essential container in task exited"
    assert stopped["containers"][0]["exitCode"] == 3
    assert stopped["desiredStatus"] == "STOPPED"


def test_non_essential_container_exit_does_not_stop_the_task(ecs, cluster, cleanup_tasks):
    family = e2e.unique_name("sidecar")
    definition = e2e.busybox_task_definition(family, ["sleep", "3600"])
    definition["containerDefinitions"].append(
        {"name": "helper", "image": TEST_IMAGE, "memory": 16, "essential": False, "command": ["sh", "-c", "exit 0"]})
    ecs.register_task_definition(**definition)
    task = run_one(ecs, cluster, cleanup_tasks, family)

    def helper(t):
        return next(c for c in t["containers"] if c["name"] == "helper")

    seen = e2e.wait_task(ecs, cluster, task["taskArn"], lambda t: helper(t)["lastStatus"] == "STOPPED",
                         what="the non-essential helper to stop")
    assert helper(seen).get("exitCode") == 0
    assert seen["lastStatus"] == "RUNNING" and seen["desiredStatus"] == "RUNNING", seen
    main = next(c for c in seen["containers"] if c["name"] == "main")
    assert main["lastStatus"] == "RUNNING"
    ecs.stop_task(cluster=cluster, task=task["taskArn"])
    e2e.wait_status(ecs, cluster, task["taskArn"], "STOPPED")


def test_image_that_does_not_exist_fails_to_start(ecs, cluster, cleanup_tasks):
    family = e2e.unique_name("noimage")
    ecs.register_task_definition(**e2e.busybox_task_definition(family, ["true"], image="berth-test/does-not-exist:1"))
    task = run_one(ecs, cluster, cleanup_tasks, family)
    stopped = e2e.wait_status(ecs, cluster, task["taskArn"], "STOPPED", timeout=180)
    assert stopped["stopCode"] == "TaskFailedToStart"
    assert stopped["stoppedReason"].startswith("CannotPullContainerError"), stopped["stoppedReason"]
    assert stopped["containers"][0]["reason"].startswith("CannotPullContainerError"), stopped["containers"][0]
    assert e2e.containers_for_task(task["taskArn"], all_states=False) == []


def test_out_of_memory_kill(ecs, cluster, cleanup_tasks):
    family = e2e.unique_name("oom")
    ecs.register_task_definition(**e2e.busybox_task_definition(
        family, ["sh", "-c", "x=a; while true; do x=$x$x; done"], memory=8))
    task = run_one(ecs, cluster, cleanup_tasks, family)
    stopped = e2e.wait_status(ecs, cluster, task["taskArn"], "STOPPED", timeout=180)
    container = stopped["containers"][0]
    assert container["exitCode"] == 137, container
    assert container["reason"] == "OutOfMemoryError: Container killed due to memory usage", container
    assert stopped["stopCode"] == "EssentialContainerExited"


def test_stop_sends_sigterm_before_sigkill(ecs, cluster, cleanup_tasks):
    family = e2e.unique_name("term")
    polite = e2e.busybox_task_definition(
        family, ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"], stop_timeout=30)
    ecs.register_task_definition(**polite)
    stubborn_family = e2e.unique_name("kill")
    ecs.register_task_definition(**e2e.busybox_task_definition(
        stubborn_family, ["sh", "-c", "trap '' TERM; while true; do sleep 1; done"], stop_timeout=2))
    tasks = [run_one(ecs, cluster, cleanup_tasks, name) for name in (family, stubborn_family)]
    for task in tasks:
        e2e.wait_status(ecs, cluster, task["taskArn"], "RUNNING")
        ecs.stop_task(cluster=cluster, task=task["taskArn"])
    polite_stopped, stubborn_stopped = (e2e.wait_status(ecs, cluster, t["taskArn"], "STOPPED") for t in tasks)
    assert polite_stopped["containers"][0]["exitCode"] == 0, "the container's SIGTERM handler did not run"
    assert stubborn_stopped["containers"][0]["exitCode"] == 137, "SIGKILL after stopTimeout expected"


def test_unplaceable_tasks_come_back_in_failures(ecs, cluster, instance, cleanup_tasks):
    instance_arn = instance["containerInstanceArn"]
    big_memory = e2e.unique_name("bigmem")
    ecs.register_task_definition(**e2e.busybox_task_definition(big_memory, ["true"], memory=1_000_000))
    response = ecs.run_task(cluster=cluster, taskDefinition=big_memory)
    assert response["tasks"] == []
    assert [f["reason"] for f in response["failures"]] == ["RESOURCE:MEMORY"]
    assert response["failures"][0]["arn"] == instance_arn

    big_cpu = e2e.unique_name("bigcpu")
    definition = e2e.busybox_task_definition(big_cpu, ["true"])
    definition["containerDefinitions"][0]["cpu"] = 65536
    ecs.register_task_definition(**definition)
    response = ecs.run_task(cluster=cluster, taskDefinition=big_cpu)
    assert response["tasks"] == []
    assert [f["reason"] for f in response["failures"]] == ["RESOURCE:CPU"]

    # A static host port can be held by one task only.
    port = free_static_port()
    static = e2e.unique_name("static")
    ecs.register_task_definition(**e2e.busybox_task_definition(
        static, HTTPD, port_mappings=[{"containerPort": 8080, "hostPort": port, "protocol": "tcp"}]))
    first = run_one(ecs, cluster, cleanup_tasks, static)
    response = ecs.run_task(cluster=cluster, taskDefinition=static)
    assert response["tasks"] == []
    assert [f["reason"] for f in response["failures"]] == ["RESOURCE:PORTS"]
    running = e2e.wait_status(ecs, cluster, first["taskArn"], "RUNNING")
    assert running["containers"][0]["networkBindings"][0]["hostPort"] == port
    assert wait_http(port)[1].strip() == "berth"
    ecs.stop_task(cluster=cluster, task=first["taskArn"])
    e2e.wait_status(ecs, cluster, first["taskArn"], "STOPPED")


def free_static_port() -> int:
    """A free TCP port below the usual ephemeral range (ECS advises static ports outside it)."""
    for candidate in range(20000, 30000, 37):
        with socket.socket() as sock:
            try:
                sock.bind(("0.0.0.0", candidate))
                return candidate
            except OSError:
                continue
    raise AssertionError("no free static port found")


def test_lifecycle_never_goes_backwards(ecs, cluster, cleanup_tasks):
    family = e2e.unique_name("life")
    ecs.register_task_definition(**e2e.busybox_task_definition(family, ["sleep", "3600"]))
    task = run_one(ecs, cluster, cleanup_tasks, family)
    observed = [(task["lastStatus"], task["version"], task["desiredStatus"])]

    def record():
        current = e2e.describe_task(ecs, cluster, task["taskArn"])
        observed.append((current["lastStatus"], current["version"], current["desiredStatus"]))
        return current

    e2e.wait_until(record, lambda t: t["lastStatus"] == "RUNNING", timeout=120, interval=0.05,
                   what="RUNNING while recording the lifecycle")
    ecs.stop_task(cluster=cluster, task=task["taskArn"])
    e2e.wait_until(record, lambda t: t["lastStatus"] == "STOPPED", timeout=120, interval=0.05,
                   what="STOPPED while recording the lifecycle")

    for (status_a, version_a, desired_a), (status_b, version_b, desired_b) in zip(observed, observed[1:]):
        assert TASK_STATUS_ORDER.index(status_b) >= TASK_STATUS_ORDER.index(status_a), observed
        assert version_b >= version_a, f"version went backwards: {observed}"
        if (status_b, desired_b) != (status_a, desired_a):
            assert version_b > version_a, f"{status_a}->{status_b} without a new version: {observed}"
        assert not (desired_a == "STOPPED" and desired_b == "RUNNING"), observed
    statuses = [status for status, _, _ in observed]
    assert "RUNNING" in statuses and statuses[-1] == "STOPPED"
    assert observed[-1][1] > observed[0][1]


def test_quickstart_with_the_aws_cli(aws, cluster, cleanup_tasks, ecs):
    family = e2e.unique_name("quickstart")
    web = aws.write_json("web.json", {
        "family": family,
        "containerDefinitions": [{
            "name": "web", "image": TEST_IMAGE, "memory": 32, "essential": True, "stopTimeout": 2,
            "command": HTTPD,
            "portMappings": [{"containerPort": 8080, "hostPort": 0}],
        }],
    })
    aws("register-task-definition", "--cli-input-json", web)
    run = aws("run-task", "--cluster", cluster, "--task-definition", family, "--count", "1")
    assert run["failures"] == []
    task_arn = run["tasks"][0]["taskArn"]
    cleanup_tasks.append((ecs, cluster, task_arn))

    # The CLI's own waiter: polls describe-tasks (bounded: 100 attempts).
    waited = aws.run("wait", "tasks-running", "--cluster", cluster, "--tasks", task_arn)
    assert waited.returncode == 0, waited.stderr
    described = aws("describe-tasks", "--cluster", cluster, "--tasks", task_arn)
    task = described["tasks"][0]
    assert task["lastStatus"] == "RUNNING"
    port = task["containers"][0]["networkBindings"][0]["hostPort"]
    assert wait_http(port)[1].strip() == "berth"

    stopped = aws("stop-task", "--cluster", cluster, "--task", task_arn, "--reason", "quickstart done", via_env=True)
    assert stopped["task"]["desiredStatus"] == "STOPPED"
    waited = aws.run("wait", "tasks-stopped", "--cluster", cluster, "--tasks", task_arn, via_env=True)
    assert waited.returncode == 0, waited.stderr
    final = aws("describe-tasks", "--cluster", cluster, "--tasks", task_arn)["tasks"][0]
    assert final["lastStatus"] == "STOPPED"
    assert final["stoppedReason"] == "quickstart done"
    listed = aws("list-tasks", "--cluster", cluster, "--family", family, "--desired-status", "STOPPED")
    assert task_arn in listed["taskArns"]


def test_run_task_client_token_is_idempotent(ecs, cluster, cleanup_tasks):
    family = e2e.unique_name("token")
    ecs.register_task_definition(**e2e.busybox_task_definition(family, ["sleep", "3600"], memory=16))
    token = e2e.unique_name("token")
    first = ecs.run_task(cluster=cluster, taskDefinition=family, count=2, clientToken=token)
    cleanup_tasks.extend((ecs, cluster, task["taskArn"]) for task in first["tasks"])
    assert first["failures"] == [] and len(first["tasks"]) == 2
    again = ecs.run_task(cluster=cluster, taskDefinition=family, count=2, clientToken=token)
    assert sorted(t["taskArn"] for t in again["tasks"]) == sorted(t["taskArn"] for t in first["tasks"])
    assert len(ecs.list_tasks(cluster=cluster, family=family)["taskArns"]) == 2
    from botocore.exceptions import ClientError
    with pytest.raises(ClientError) as raised:
        ecs.run_task(cluster=cluster, taskDefinition=family, count=1, clientToken=token)
    assert raised.value.response["Error"]["Code"] == "ConflictException"
    assert sorted(raised.value.response.get("resourceIds", [])) == sorted(t["taskArn"] for t in first["tasks"])
    for task in first["tasks"]:
        ecs.stop_task(cluster=cluster, task=task["taskArn"])
    for task in first["tasks"]:
        e2e.wait_status(ecs, cluster, task["taskArn"], "STOPPED")
