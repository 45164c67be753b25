"""The EXTERNAL deployment controller on the real Docker Engine through `berth up`: an external
controller (here, the test with boto3 and the aws CLI) creates two task sets, shifts scale from
one to the other with real containers, swaps the primary task set and deletes the old one.
CODE_DEPLOY is refused naming the member, and the task set operations refuse ECS services.
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

import berth_e2e as e2e

pytestmark = pytest.mark.docker

BERTH_UP_EXTRA = ["--service-settle-time", "2s", "--service-throttle-delay", "1s"]


def sleeper(ecs, family: str, marker: str) -> str:
    definition = e2e.busybox_task_definition(
        family, ["sleep", "3600"], memory=16, stop_timeout=2, environment=[{"name": "MARKER", "value": marker}])
    return ecs.register_task_definition(**definition)["taskDefinition"]["taskDefinitionArn"]


def task_sets(ecs, cluster: str, service: str, **extra) -> dict[str, dict]:
    described = ecs.describe_task_sets(cluster=cluster, service=service, **extra)
    return {task_set["id"]: task_set for task_set in described["taskSets"]}


def running_tasks_by_definition(ecs, cluster: str, service: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for task in e2e.service_tasks(ecs, cluster, service):
        if task["lastStatus"] == "RUNNING":
            counts[task["taskDefinitionArn"]] = counts.get(task["taskDefinitionArn"], 0) + 1
    return counts


def docker_running_markers(cluster: str) -> list[str]:
    """The blue or green MARKER of every running container Berth started for the cluster."""
    markers = []
    for container_ids in e2e.running_containers_of_cluster(cluster).values():
        for container_id in container_ids:
            env = e2e.inspect_container(container_id)["Config"]["Env"]
            markers += [entry.split("=", 1)[1] for entry in env if entry in ("MARKER=blue", "MARKER=green")]
    return sorted(markers)


def wait_task_set(ecs, cluster: str, service: str, task_set_id: str, running: int, what: str) -> dict:
    def look():
        return task_sets(ecs, cluster, service, taskSets=[task_set_id])[task_set_id]

    return e2e.wait_until(
        look,
        lambda task_set: task_set["runningCount"] == running and task_set["pendingCount"] == 0
        and task_set["computedDesiredCount"] == running and task_set["stabilityStatus"] == "STEADY_STATE",
        timeout=120, what=what)


def test_an_external_service_shifts_scale_between_two_task_sets(ecs, aws, cluster, services):
    name = e2e.unique_name("ext")
    blue = sleeper(ecs, e2e.unique_name("blue"), "blue")
    green = sleeper(ecs, e2e.unique_name("green"), "green")
    service = ecs.create_service(cluster=cluster, serviceName=name, desiredCount=4,
                                 deploymentController={"type": "EXTERNAL"})["service"]
    services.append(name)
    assert service["deploymentController"] == {"type": "EXTERNAL"}
    assert service["deployments"] == [] and service["taskSets"] == []
    assert "taskDefinition" not in service, "no primary task set, so no task set fields"

    created = ecs.create_task_set(cluster=cluster, service=name, taskDefinition=blue,
                                  scale={"value": 100, "unit": "PERCENT"}, externalId="blue-v1")["taskSet"]
    blue_id = created["id"]
    assert blue_id.startswith("ecs-svc/") and len(blue_id) == len("ecs-svc/") + 19
    assert created["status"] == "ACTIVE" and created["computedDesiredCount"] == 4
    assert created["taskSetArn"].endswith(f":task-set/{cluster}/{name}/{blue_id}")
    assert created["externalId"] == "blue-v1"
    wait_task_set(ecs, cluster, name, blue_id, 4, "the blue task set to run 4 tasks")
    assert docker_running_markers(cluster) == ["blue"] * 4

    primary = ecs.update_service_primary_task_set(cluster=cluster, service=name, primaryTaskSet=blue_id)
    assert primary["taskSet"]["status"] == "PRIMARY"
    described = e2e.describe_service(ecs, cluster, name)
    assert described["taskDefinition"] == blue, "DescribeServices shows the primary task set's fields"

    # The aws CLI, as a deployment tool would call it: a green task set at 25 % (1 task).
    green_set = aws("create-task-set", "--cluster", cluster, "--service", name,
                    "--task-definition", green, "--scale", "value=25,unit=PERCENT")["taskSet"]
    green_id = green_set["id"]
    assert green_set["computedDesiredCount"] == 1
    wait_task_set(ecs, cluster, name, green_id, 1, "the green task set to run its one task")
    assert running_tasks_by_definition(ecs, cluster, name) == {blue: 4, green: 1}, \
        "a new task set never takes tasks from another"

    # Shift: green to 100 %, blue to 0 %.
    ecs.update_task_set(cluster=cluster, service=name, taskSet=green_id, scale={"value": 100, "unit": "PERCENT"})
    ecs.update_task_set(cluster=cluster, service=name, taskSet=blue_set_arn(created),
                        scale={"value": 0, "unit": "PERCENT"})
    wait_task_set(ecs, cluster, name, green_id, 4, "green to take all 4 tasks")
    wait_task_set(ecs, cluster, name, blue_id, 0, "blue to scale to zero")
    e2e.wait_until(lambda: docker_running_markers(cluster), lambda markers: markers == ["green"] * 4,
                   timeout=60, what="only green containers to run")

    swapped = ecs.update_service_primary_task_set(cluster=cluster, service=name, primaryTaskSet=green_id)
    assert swapped["taskSet"]["status"] == "PRIMARY"
    sets = task_sets(ecs, cluster, name)
    assert (sets[blue_id]["status"], sets[green_id]["status"]) == ("ACTIVE", "PRIMARY")
    described = e2e.describe_service(ecs, cluster, name)
    assert described["taskDefinition"] == green
    assert {task_set["id"] for task_set in described["taskSets"]} == {blue_id, green_id}
    assert described["runningCount"] == 4

    deleted = ecs.delete_task_set(cluster=cluster, service=name, taskSet=blue_id)["taskSet"]
    assert deleted["status"] == "DRAINING"
    e2e.wait_until(lambda: ecs.describe_task_sets(cluster=cluster, service=name, taskSets=[blue_id]),
                   lambda answer: answer["taskSets"] == [] and answer["failures"][0]["reason"] == "MISSING",
                   timeout=60, what="the drained task set to disappear")
    with pytest.raises(ClientError) as raised:
        ecs.update_task_set(cluster=cluster, service=name, taskSet=blue_id, scale={"value": 50, "unit": "PERCENT"})
    assert raised.value.response["Error"]["Code"] == "TaskSetNotFoundException"

    # The service's desired count drives every task set's computed count.
    ecs.update_service(cluster=cluster, service=name, desiredCount=2)
    wait_task_set(ecs, cluster, name, green_id, 2, "green to follow the service's desired count down to 2")


def blue_set_arn(task_set: dict) -> str:
    """Task sets may be named by ARN as well as by ID."""
    return task_set["taskSetArn"]


def test_a_task_set_replaces_a_task_whose_container_is_killed(ecs, cluster, services):
    name = e2e.unique_name("ext-kill")
    definition = sleeper(ecs, e2e.unique_name("kill"), "kill")
    ecs.create_service(cluster=cluster, serviceName=name, desiredCount=2, deploymentController={"type": "EXTERNAL"})
    services.append(name)
    task_set_id = ecs.create_task_set(cluster=cluster, service=name, taskDefinition=definition)["taskSet"]["id"]
    wait_task_set(ecs, cluster, name, task_set_id, 2, "the task set to run 2 tasks")
    victim = e2e.service_tasks(ecs, cluster, name)[0]
    for container_id in e2e.containers_for_task(victim["taskArn"], all_states=False):
        e2e.docker("kill", container_id)
    e2e.wait_status(ecs, cluster, victim["taskArn"], "STOPPED")
    replaced = wait_task_set(ecs, cluster, name, task_set_id, 2, "a replacement task in the task set")
    assert replaced["runningCount"] == 2
    arns = {task["taskArn"] for task in e2e.service_tasks(ecs, cluster, name)}
    assert victim["taskArn"] not in arns and len(arns) == 2
    assert all(task["startedBy"] == task_set_id for task in e2e.service_tasks(ecs, cluster, name))


def test_task_set_errors_name_the_member_at_fault(ecs, cluster, services):
    definition = sleeper(ecs, e2e.unique_name("errs"), "errs")
    with pytest.raises(ClientError) as raised:
        ecs.create_service(cluster=cluster, serviceName=e2e.unique_name("cd"), desiredCount=1,
                           deploymentController={"type": "CODE_DEPLOY"}, taskDefinition=definition)
    assert raised.value.response["Error"]["Code"] == "InvalidParameterException"
    assert "deploymentController" in raised.value.response["Error"]["Message"]

    rolling = e2e.unique_name("rolling")
    ecs.create_service(cluster=cluster, serviceName=rolling, desiredCount=0, taskDefinition=definition)
    services.append(rolling)
    with pytest.raises(ClientError) as raised:
        ecs.create_task_set(cluster=cluster, service=rolling, taskDefinition=definition)
    assert raised.value.response["Error"]["Code"] == "InvalidParameterException"
    assert "external deployment controllers" in raised.value.response["Error"]["Message"]

    external = e2e.unique_name("ext-err")
    ecs.create_service(cluster=cluster, serviceName=external, desiredCount=1, deploymentController={"type": "EXTERNAL"})
    services.append(external)
    with pytest.raises(ClientError) as raised:
        ecs.create_task_set(cluster=cluster, service=external, taskDefinition=definition,
                            scale={"value": 150, "unit": "PERCENT"})
    assert "scale.value" in raised.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as raised:
        ecs.update_service(cluster=cluster, service=external, taskDefinition=definition)
    assert "taskDefinition" in raised.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as raised:
        ecs.update_task_set(cluster=cluster, service=external, taskSet="ecs-svc/1234567890123456789",
                            scale={"value": 50, "unit": "PERCENT"})
    assert raised.value.response["Error"]["Code"] == "TaskSetNotFoundException"
    with pytest.raises(ClientError) as raised:
        ecs.delete_task_set(cluster=cluster, service=external, taskSet="not-a-task-set")
    assert "taskSet" in raised.value.response["Error"]["Message"]
    task_set_id = ecs.create_task_set(cluster=cluster, service=external, taskDefinition=definition,
                                      clientToken="same-token")["taskSet"]["id"]
    again = ecs.create_task_set(cluster=cluster, service=external, taskDefinition=definition,
                                clientToken="same-token")["taskSet"]["id"]
    assert again == task_set_id, "the same client token creates one task set"
    with pytest.raises(ClientError) as raised:
        ecs.delete_task_set(cluster=cluster, service=external, taskSet=task_set_id)
    assert "scaled above 0" in raised.value.response["Error"]["Message"]
    assert ecs.delete_task_set(cluster=cluster, service=external, taskSet=task_set_id,
                               force=True)["taskSet"]["status"] == "DRAINING"
