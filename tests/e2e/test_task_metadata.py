"""The task metadata endpoint inside containers and task scale-in protection, on the real
Docker Engine through `berth up`.

A busybox service task reads `$ECS_CONTAINER_METADATA_URI_V4/task` and `/stats` with wget and
prints them (read back with `docker logs`); it cannot read another task's metadata by that
task's ID; it protects itself through `$ECS_AGENT_URI/task-protection/v1/state`, which
GetTaskProtection then shows. A protected service task survives a scale-in while unprotected
ones stop, the service says why it cannot scale in further, and the task stops once its
protection is disabled.

busybox's wget cannot send PUT, so the protection request is written with nc; and its
`wget -O -` crashes in this image, so responses go to a file first.
"""

from __future__ import annotations

import json
import subprocess

import pytest

import berth_e2e as e2e

pytestmark = pytest.mark.docker

BERTH_UP_EXTRA = ["--service-settle-time", "2s", "--service-throttle-delay", "1s"]

# Reads its own metadata once, prints it on marked lines, then idles.
READ_METADATA = (
    'wget -q -O /tmp/task "$ECS_CONTAINER_METADATA_URI_V4/task" && echo "TASK $(cat /tmp/task)"; '
    'wget -q -O /tmp/container "$ECS_CONTAINER_METADATA_URI_V4" && echo "CONTAINER $(cat /tmp/container)"; '
    'wget -q -O /tmp/stats "$ECS_CONTAINER_METADATA_URI_V4/stats" && echo "STATS $(cat /tmp/stats)"; '
    'exec sleep 3600'
)


def create_service(ecs, cluster, services, command: list[str], count: int) -> str:
    family = e2e.unique_name("meta")
    ecs.register_task_definition(**e2e.busybox_task_definition(family, command, memory=16))
    name = e2e.unique_name("metasvc")
    ecs.create_service(cluster=cluster, serviceName=name, taskDefinition=family, desiredCount=count)
    services.append(name)
    return name


def container_of(task_arn: str) -> str:
    return e2e.wait_until(lambda: e2e.containers_for_task(task_arn), lambda ids: len(ids) == 1,
                          timeout=60, what=f"the container of {task_arn}")[0]


def marked_line(container_id: str, marker: str) -> dict:
    """The JSON the container printed after `marker`, once it has printed it."""

    def probe():
        logs = e2e.docker("logs", container_id, check=False).stdout
        for line in logs.splitlines():
            if line.startswith(marker + " "):
                return json.loads(line[len(marker) + 1:])
        return None

    return e2e.wait_until(probe, lambda found: found is not None, timeout=60,
                          what=f"{marker} line in the logs of {container_id}")


def environment_of(container_id: str) -> dict[str, str]:
    variables = e2e.inspect_container(container_id)["Config"]["Env"]
    return dict(variable.split("=", 1) for variable in variables)


def exec_sh(container_id: str, script: str) -> tuple[int, str]:
    result = e2e.docker("exec", container_id, "sh", "-c", script, check=False)
    return result.returncode, result.stdout


def wget_status(container_id: str, url: str) -> tuple[int, str]:
    """(exit status, body) of a wget of `url` from inside the container."""
    return exec_sh(container_id, f'rm -f /tmp/probe; wget -q -O /tmp/probe "{url}"; s=$?; cat /tmp/probe 2>/dev/null; exit $s')


def agent_call(container_id: str, method: str, body: str = "") -> dict:
    """A request to `$ECS_AGENT_URI/task-protection/v1/state`, sent from inside the container
    with nc (the request is written here and piped to it)."""
    agent_uri = environment_of(container_id)["ECS_AGENT_URI"]
    host_port, _, path = agent_uri.removeprefix("http://").partition("/")
    host, _, port = host_port.partition(":")
    request = (f"{method} /{path}/task-protection/v1/state HTTP/1.0\r\nHost: {host_port}\r\n"
               f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n{body}")
    result = subprocess.run(["docker", "exec", "-i", container_id, "nc", "-w", "10", host, port],
                            input=request, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout, (result.returncode, result.stdout, result.stderr)
    # Text mode has turned the response's CRLFs into newlines.
    head, _, payload = result.stdout.partition("\n\n")
    assert head.split(" ")[1] == "200" and payload, repr(result.stdout)
    return json.loads(payload)


def test_a_task_reads_only_its_own_metadata_and_protects_itself(ecs, cluster, services):
    name = create_service(ecs, cluster, services, ["sh", "-c", READ_METADATA], 2)
    tasks = e2e.wait_service_running(ecs, cluster, name, 2)
    first, second = tasks[0], tasks[1]
    first_container = container_of(first["taskArn"])
    second_container = container_of(second["taskArn"])

    environment = environment_of(first_container)
    metadata_uri = environment["ECS_CONTAINER_METADATA_URI_V4"]
    task_id = first["taskArn"].rsplit("/", 1)[1]
    assert "/v4/" in metadata_uri and task_id not in metadata_uri, "the URI holds a token, not the task ID"
    assert environment["ECS_CONTAINER_METADATA_URI"].endswith(metadata_uri.rsplit("/", 1)[1])
    assert environment["ECS_AGENT_URI"].startswith(metadata_uri.split("/v4/")[0])

    task = marked_line(first_container, "TASK")
    assert task["TaskARN"] == first["taskArn"]
    assert task["Cluster"] == cluster
    assert task["Family"] == first["taskDefinitionArn"].rsplit("/", 1)[1].split(":")[0]
    assert task["Revision"] == "1"
    assert task["DesiredStatus"] == "RUNNING"
    assert task["LaunchType"] == "EC2"
    assert [container["Name"] for container in task["Containers"]] == ["main"]
    assert task["Containers"][0]["DockerId"] == first_container
    assert task["Containers"][0]["Labels"]["com.amazonaws.ecs.task-arn"] == first["taskArn"]
    assert task["KnownStatus"] in ("PENDING", "RUNNING")
    assert "PullStartedAt" not in task, "the image was already present: nothing was pulled"

    container = marked_line(first_container, "CONTAINER")
    assert container["DockerId"] == first_container
    assert container["Name"] == "main"
    assert container["Limits"]["Memory"] == 16

    stats = marked_line(first_container, "STATS")
    assert stats["id"] == first_container, "Docker's stats of this very container"
    assert "memory_stats" in stats and "cpu_stats" in stats

    status, body = wget_status(first_container, '$ECS_CONTAINER_METADATA_URI_V4/task/stats')
    assert status == 0
    assert list(json.loads(body)) == [first_container]

    # The second task's metadata is not reachable by its task ID, nor by a made-up token;
    # its own container reads its own.
    second_id = second["taskArn"].rsplit("/", 1)[1]
    base = metadata_uri.split("/v4/")[0]
    for url in (f"{base}/v4/{second_id}/task", f"{base}/v4/{second_id}", f"{base}/v4/{'0' * 32}/task",
                f"{base}/v4/", f"{base}/task"):
        status, body = wget_status(first_container, url)
        assert status != 0, f"{url} answered: {body}"
        assert second["taskArn"] not in body
    assert marked_line(second_container, "TASK")["TaskARN"] == second["taskArn"]

    # Protection from inside the container, then as GetTaskProtection shows it.
    state = agent_call(first_container, "GET")
    assert state["protection"]["ProtectionEnabled"] is False
    assert state["protection"]["TaskArn"] == first["taskArn"]
    protected = agent_call(first_container, "PUT", '{"ProtectionEnabled":true,"ExpiresInMinutes":60}')
    assert protected["protection"]["ProtectionEnabled"] is True
    assert protected["protection"]["TaskArn"] == first["taskArn"]
    assert protected["protection"]["ExpirationDate"].endswith("Z")
    shown = ecs.get_task_protection(cluster=cluster, tasks=[first["taskArn"], second["taskArn"]])
    by_arn = {entry["taskArn"]: entry for entry in shown["protectedTasks"]}
    assert by_arn[first["taskArn"]]["protectionEnabled"] is True
    assert "expirationDate" in by_arn[first["taskArn"]]
    assert by_arn[second["taskArn"]]["protectionEnabled"] is False
    assert shown["failures"] == []
    assert agent_call(first_container, "GET")["protection"]["ProtectionEnabled"] is True


def test_protection_api_answers_failures_and_errors_as_ecs(ecs, cluster, services):
    standalone_family = e2e.unique_name("alone")
    ecs.register_task_definition(**e2e.busybox_task_definition(standalone_family, ["sleep", "3600"], memory=16))
    standalone = ecs.run_task(cluster=cluster, taskDefinition=standalone_family)["tasks"][0]["taskArn"]
    try:
        answer = ecs.update_task_protection(cluster=cluster, tasks=[standalone], protectionEnabled=True)
        assert answer["protectedTasks"] == []
        assert [(failure["arn"], failure["reason"]) for failure in answer["failures"]] == [(standalone, "TASK_NOT_VALID")]
        missing = standalone.rsplit("/", 1)[0] + "/" + "f" * 32
        answer = ecs.get_task_protection(cluster=cluster, tasks=[missing])
        assert [(failure["arn"], failure["reason"]) for failure in answer["failures"]] == [(missing, "MISSING")]
        for minutes in (0, 2881):
            with pytest.raises(ecs.exceptions.InvalidParameterException) as raised:
                ecs.update_task_protection(cluster=cluster, tasks=[standalone], protectionEnabled=True,
                                           expiresInMinutes=minutes)
            assert "expiresInMinutes" in raised.value.response["Error"]["Message"]
        with pytest.raises(ecs.exceptions.ClusterNotFoundException):
            ecs.get_task_protection(cluster=e2e.unique_name("nowhere"), tasks=[standalone.rsplit("/", 1)[1]])
    finally:
        ecs.stop_task(cluster=cluster, task=standalone)


def test_a_protected_task_survives_scale_in_until_its_protection_is_disabled(ecs, cluster, services):
    name = create_service(ecs, cluster, services, ["sleep", "3600"], 3)
    e2e.wait_service_steady(ecs, cluster, name, 3)
    tasks = e2e.service_tasks(ecs, cluster, name)
    keeper = tasks[0]["taskArn"]
    answer = ecs.update_task_protection(cluster=cluster, tasks=[keeper], protectionEnabled=True, expiresInMinutes=30)
    assert answer["protectedTasks"][0]["protectionEnabled"] is True
    assert answer["failures"] == []

    ecs.update_service(cluster=cluster, service=name, desiredCount=1)
    e2e.wait_service_steady(ecs, cluster, name, 1)
    remaining = e2e.service_tasks(ecs, cluster, name)
    assert [task["taskArn"] for task in remaining] == [keeper], "the unprotected tasks were the ones stopped"
    assert remaining[0]["lastStatus"] == "RUNNING"

    # Scaling in further waits for the protected task and says so.
    ecs.update_service(cluster=cluster, service=name, desiredCount=0)
    e2e.wait_until(lambda: e2e.event_messages(e2e.describe_service(ecs, cluster, name)),
                   lambda messages: any(f"(service {name}) was unable to scale in due to (reason: 1 tasks were protected)."
                                        == message for message in messages),
                   timeout=60, what="the protected-tasks event")
    assert [task["taskArn"] for task in e2e.service_tasks(ecs, cluster, name)] == [keeper]

    ecs.update_task_protection(cluster=cluster, tasks=[keeper], protectionEnabled=False)
    e2e.wait_status(ecs, cluster, keeper, "STOPPED", timeout=60)
    e2e.wait_service_steady(ecs, cluster, name, 0)
