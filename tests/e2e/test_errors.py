"""Client mistakes get a 400 with an AWS error body (`__type`, `message` naming the field),
the error codes ECS uses, and never a 500. Raw HTTP, so nothing client-side smooths them."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

import berth_e2e as e2e
import shape_validator

# What AWS services answer for a body that does not decode or validate.
REQUEST_ERRORS = ("SerializationException", "ClientException", "InvalidParameterException", "ValidationException")


def expect_error(url: str, operation: str | None, body, *, types=REQUEST_ERRORS, mentions: tuple = (),
                 target: str | None = None, headers: dict | None = None) -> dict:
    status, parsed, raw = e2e.raw_call(url, operation, body, target=target, headers=headers)
    assert status == 400, f"{operation} {body!r}: expected HTTP 400, got {status}: {raw[:500]!r}"
    assert isinstance(parsed, dict), f"error body is not a JSON object: {raw[:500]!r}"
    known = operation in shape_validator.ecs_model().operation_names
    problems = shape_validator.validate_error(operation if known else "ListClusters", raw)
    assert problems == [], problems
    code = shape_validator.error_code(parsed["__type"])
    assert code in types, f"{operation} {body!r}: __type {parsed['__type']!r} is not one of {types}; {parsed}"
    for word in mentions:
        assert word.lower() in parsed["message"].lower(), f"message {parsed['message']!r} does not mention {word!r}"
    return parsed


def test_malformed_json_is_a_400(berth):
    for body in (b"{", b"{\"cluster\": }", b"[1, 2", b"\xff\xfe\x00garbage", b"{} {}", b"nope"):
        expect_error(berth.url, "ListTasks", body)


def test_a_body_that_is_not_an_object_is_a_400(berth):
    # AWS JSON 1.1 request bodies are objects; a JSON array is not a positional struct.
    for operation, body in (("ListClusters", b"42"), ("ListClusters", b"\"text\""), ("ListClusters", b"null"),
                            ("ListClusters", b"[]"), ("DescribeClusters", b"[[\"x\"]]")):
        status, parsed, raw = e2e.raw_call(berth.url, operation, body)
        assert status == 400, (operation, body, status, raw)


def test_wrong_types_name_the_field(berth):
    expect_error(berth.url, "RunTask", {"taskDefinition": 5}, mentions=("taskDefinition",))
    expect_error(berth.url, "ListTasks", {"maxResults": "ten"}, mentions=("maxResults",))
    expect_error(berth.url, "RegisterTaskDefinition",
                 {"family": "x", "containerDefinitions": [{"name": "a", "image": "i", "memory": "lots"}]},
                 mentions=("memory",))
    expect_error(berth.url, "DescribeTasks", {"tasks": "not-a-list"}, mentions=("tasks",))
    expect_error(berth.url, "UpdateContainerInstancesState",
                 {"containerInstances": ["x"], "status": "BOGUS"}, mentions=("status",))
    expect_error(berth.url, "RunTask", {"taskDefinition": "x", "count": 1.5}, mentions=("count",))


def test_missing_required_fields_are_named(berth):
    expect_error(berth.url, "RunTask", {}, mentions=("taskDefinition",))
    expect_error(berth.url, "DescribeTasks", {"cluster": "default"}, mentions=("tasks",))
    expect_error(berth.url, "RegisterTaskDefinition", {"family": "x"}, mentions=("containerDefinitions",))
    expect_error(berth.url, "StartTask", {"taskDefinition": "x"}, mentions=("containerInstances",))
    expect_error(berth.url, "TagResource", {"resourceArn": "arn:aws:ecs:us-east-1:000000000000:cluster/x"},
                 mentions=("tags",))


def test_unknown_operations_and_targets(berth):
    unknown = ("UnknownOperationException",)
    expect_error(berth.url, "FlyToTheMoon", {}, types=unknown)
    expect_error(berth.url, None, {}, target="SomethingElse_20200101.ListClusters", types=unknown)
    status, parsed, raw = e2e.raw_call(berth.url, None, {})  # no X-Amz-Target at all
    assert status == 400, (status, raw)
    assert isinstance(parsed, dict) and parsed.get("__type"), raw


def test_over_limit_values(berth, cluster):
    expect_error(berth.url, "RunTask", {"cluster": cluster, "taskDefinition": "x", "count": 11},
                 types=("InvalidParameterException",), mentions=("count",))
    expect_error(berth.url, "RunTask", {"cluster": cluster, "taskDefinition": "x", "count": 0},
                 types=("InvalidParameterException",), mentions=("count",))
    arns = [f"arn:aws:ecs:us-east-1:000000000000:task/{cluster}/{index:032x}" for index in range(101)]
    expect_error(berth.url, "DescribeTasks", {"cluster": cluster, "tasks": arns},
                 types=("InvalidParameterException", "ClientException"), mentions=("tasks",))
    expect_error(berth.url, "ListTasks", {"cluster": cluster, "maxResults": 101},
                 types=("InvalidParameterException", "ClientException"), mentions=("maxResults",))


def test_unknown_cluster(berth, ecs):
    missing = ("ClusterNotFoundException",)
    family = e2e.unique_name("nocluster")
    ecs.register_task_definition(**e2e.busybox_task_definition(family, ["true"]))
    for operation, body in [
        ("ListTasks", {"cluster": "e2e-no-such-cluster"}),
        ("RunTask", {"cluster": "e2e-no-such-cluster", "taskDefinition": family}),
        ("StartTask", {"cluster": "e2e-no-such-cluster", "taskDefinition": family, "containerInstances": ["0" * 32]}),
        ("DescribeTasks", {"cluster": "e2e-no-such-cluster", "tasks": ["0" * 32]}),
        ("StopTask", {"cluster": "e2e-no-such-cluster", "task": "0" * 32}),
        ("ListContainerInstances", {"cluster": "e2e-no-such-cluster"}),
        ("DescribeContainerInstances", {"cluster": "e2e-no-such-cluster", "containerInstances": ["0" * 32]}),
        ("UpdateCluster", {"cluster": "e2e-no-such-cluster", "settings": []}),
        ("DeleteCluster", {"cluster": "e2e-no-such-cluster"}),
    ]:
        parsed = expect_error(berth.url, operation, body, types=missing)
        assert parsed["message"], parsed


def test_unknown_task_definition_and_task(berth, cluster):
    expect_error(berth.url, "DescribeTaskDefinition", {"taskDefinition": "e2e-no-such-family"},
                 types=("ClientException",))
    expect_error(berth.url, "DescribeTaskDefinition", {"taskDefinition": "e2e-no-such-family:7"},
                 types=("ClientException",))
    expect_error(berth.url, "RunTask", {"cluster": cluster, "taskDefinition": "e2e-no-such-family"},
                 types=("ClientException", "InvalidParameterException"))
    expect_error(berth.url, "StopTask", {"cluster": cluster, "task": "0" * 32},
                 types=("InvalidParameterException",))
    expect_error(berth.url, "DeregisterTaskDefinition", {"taskDefinition": "e2e-no-such-family:1"},
                 types=("ClientException", "InvalidParameterException"))
    expect_error(berth.url, "DeregisterTaskDefinition", {"taskDefinition": "no-revision"},
                 types=("ClientException", "InvalidParameterException"))


def test_errors_through_boto3_and_the_cli(ecs, aws):
    with pytest.raises(ClientError) as raised:
        ecs.list_tasks(cluster="e2e-no-such-cluster")
    assert raised.value.response["Error"]["Code"] == "ClusterNotFoundException"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    result = aws.fails("list-tasks", "--cluster", "e2e-no-such-cluster")
    assert "ClusterNotFoundException" in result.stderr, result.stderr
    result = aws.fails("describe-task-definition", "--task-definition", "e2e-no-such-family", via_env=True)
    assert "ClientException" in result.stderr, result.stderr


def register_fake_instance(ecs, cluster: str) -> str:
    return e2e.register_fake_instance(ecs, cluster)["containerInstanceArn"]


def test_delete_cluster_with_container_instances(berth, ecs):
    name = e2e.unique_name("del-ci")
    ecs.create_cluster(clusterName=name)
    instance_arn = register_fake_instance(ecs, name)
    expect_error(berth.url, "DeleteCluster", {"cluster": name},
                 types=("ClusterContainsContainerInstancesException",))
    assert ecs.describe_clusters(clusters=[name])["clusters"][0]["status"] == "ACTIVE"
    ecs.deregister_container_instance(cluster=name, containerInstance=instance_arn)
    assert ecs.delete_cluster(cluster=name)["cluster"]["status"] == "INACTIVE"


def test_force_deregistration_stops_the_instances_tasks(berth, ecs):
    """Berth deviates from ECS here on purpose (ARCHITECTURE.md): ECS leaves the tasks of a
    force-deregistered instance running as orphans; Berth records them STOPPED (its agent
    removes their containers), so nothing keeps running that no API can see or stop."""
    name = e2e.unique_name("del-tasks")
    ecs.create_cluster(clusterName=name)
    instance_arn = register_fake_instance(ecs, name)
    family = e2e.unique_name("del-td")
    ecs.register_task_definition(**e2e.busybox_task_definition(family, ["sleep", "60"], memory=16))
    started = ecs.start_task(cluster=name, taskDefinition=family, containerInstances=[instance_arn])
    task_arn = started["tasks"][0]["taskArn"]
    expect_error(berth.url, "DeleteCluster", {"cluster": name}, types=("ClusterContainsContainerInstancesException",))
    expect_error(berth.url, "DeregisterContainerInstance", {"cluster": name, "containerInstance": instance_arn},
                 types=("InvalidParameterException",))
    ecs.deregister_container_instance(cluster=name, containerInstance=instance_arn, force=True)
    task = ecs.describe_tasks(cluster=name, tasks=[task_arn])["tasks"][0]
    assert task["lastStatus"] == "STOPPED" and task["desiredStatus"] == "STOPPED"
    assert task["stoppedReason"] == "Container instance deregistered"
    assert task_arn not in ecs.list_tasks(cluster=name)["taskArns"]
    assert ecs.delete_cluster(cluster=name)["cluster"]["status"] == "INACTIVE"


def test_error_responses_through_boto3_are_validated_too(ecs):
    """The after-call hook also checks error bodies (only `__type`, `message`, and members of
    the error shape)."""
    with pytest.raises(ClientError) as raised:
        ecs.describe_task_definition(taskDefinition="e2e-no-such-family")
    assert raised.value.response["Error"]["Code"] == "ClientException"
    assert raised.value.response["Error"]["Message"]
