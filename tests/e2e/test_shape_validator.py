"""Unit tests of the strict response validator itself (no server needed)."""

import json

import shape_validator as sv


def problems(operation, body):
    return sv.validate_output(operation, json.dumps(body))


def test_a_realistic_run_task_response_is_accepted():
    body = {
        "tasks": [{
            "taskArn": "arn:aws:ecs:us-east-1:000000000000:task/default/0123456789abcdef0123456789abcdef",
            "clusterArn": "arn:aws:ecs:us-east-1:000000000000:cluster/default",
            "lastStatus": "PENDING",
            "desiredStatus": "RUNNING",
            "launchType": "EC2",
            "cpu": "128",
            "memory": "64",
            "version": 1,
            "createdAt": 1732600000.123,
            "containers": [{
                "name": "web", "lastStatus": "PENDING", "exitCode": 3,
                "networkBindings": [{"bindIP": "0.0.0.0", "containerPort": 8080, "hostPort": 49153,
                                      "protocol": "tcp"}],
            }],
            "overrides": {"containerOverrides": [], "inferenceAcceleratorOverrides": []},
            "tags": [{"key": "a", "value": "b"}],
        }],
        "failures": [{"arn": "arn:aws:ecs:…", "reason": "RESOURCE:MEMORY"}],
    }
    assert problems("RunTask", body) == []


def test_unknown_key_is_named_with_its_path():
    body = {"tasks": [{"taskArn": "x", "containers": [{"name": "a", "exit_code": 1}]}]}
    found = problems("DescribeTasks", body)
    assert len(found) == 1, found
    assert "tasks[0].containers[0].exit_code" in found[0]
    assert "unknown member of Container" in found[0]


def test_wrong_types_enums_and_nulls_are_rejected():
    body = {
        "tasks": [{
            "version": "3",                 # long as a string
            "lastStatus": 7,                # string as a number
            "desiredStatus": "RUNNING",
            "launchType": "SPACESHIP",      # not in LaunchType
            "createdAt": "2024-11-26T00:00:00Z",  # timestamps are epoch seconds
            "enableExecuteCommand": "false",       # boolean as a string
            "containers": {"name": "a"},    # list as an object
            "stoppedReason": None,          # null is never sent
        }],
    }
    found = "\n".join(problems("DescribeTasks", body))
    for path in ("tasks[0].version: expected long", "tasks[0].lastStatus: expected string",
                 "tasks[0].launchType: 'SPACESHIP' is not a value of enum",
                 "tasks[0].createdAt: expected timestamp", "tasks[0].enableExecuteCommand: expected boolean",
                 "tasks[0].containers: expected list", "tasks[0].stoppedReason: null"):
        assert path in found, f"{path!r} not in:\n{found}"
    assert "desiredStatus" not in found


def test_integer_rejects_booleans_and_floats():
    found = problems("ListContainerInstances", {"containerInstanceArns": ["a", 1]})
    assert found and "containerInstanceArns[1]: expected string" in found[0]
    found = problems("DescribeContainerInstances",
                     {"containerInstances": [{"runningTasksCount": True, "pendingTasksCount": 1.5}]})
    assert len(found) == 2, found


def test_maps_and_nested_structures_recurse():
    good = {"taskDefinition": {"family": "web", "revision": 1, "status": "ACTIVE",
                               "containerDefinitions": [{"name": "a", "dockerLabels": {"k": "v"},
                                                         "environment": [{"name": "A", "value": "1"}]}]}}
    assert problems("DescribeTaskDefinition", good) == []
    bad = {"taskDefinition": {"containerDefinitions": [{"dockerLabels": {"k": 1}}]}}
    found = problems("DescribeTaskDefinition", bad)
    assert len(found) == 1 and "dockerLabels['k']: expected string" in found[0], found


def test_top_level_body_must_be_an_object_of_json():
    assert sv.validate_output("ListClusters", b"[]")
    assert sv.validate_output("ListClusters", b"{nope")
    assert sv.validate_output("ListClusters", b"{}") == []


def test_error_bodies():
    assert sv.validate_error("RunTask", json.dumps({"__type": "ClientException", "message": "bad"})) == []
    assert sv.validate_error("RunTask", json.dumps(
        {"__type": "ConflictException", "message": "token", "resourceIds": ["arn:a"]})) == []
    found = sv.validate_error("RunTask", json.dumps({"__type": "ClientException", "msg": "bad"}))
    assert any("message: must be a string" in p for p in found), found
    assert any("msg: unknown member" in p for p in found), found
    assert sv.validate_error("RunTask", json.dumps({"message": "no type"}))
    assert sv.validate_response("RunTask", 500, json.dumps({"__type": "ServerException", "message": "x"}))
    assert sv.error_code("com.amazon.coral.validate#ValidationException") == "ValidationException"
    # An error code the operation does not declare in the model.
    found = sv.validate_error("ListTagsForResource", json.dumps({"__type": "ResourceNotFoundException", "message": "x"}))
    assert any("not an error ListTagsForResource can return" in p for p in found), found
    assert sv.validate_error("ListTagsForResource", json.dumps({"__type": "SerializationException", "message": "x"})) == []
    assert sv.error_code("ClientException:http://internal") == "ClientException"
