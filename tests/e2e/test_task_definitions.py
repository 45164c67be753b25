"""Task definitions: families and revisions, what describe shows back, and the validation
errors a user gets from the aws CLI and boto3."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

import berth_e2e as e2e
from berth_e2e import ACCOUNT, REGION, TEST_IMAGE


def web_definition(family: str) -> dict:
    return {
        "family": family,
        "networkMode": "bridge",
        "requiresCompatibilities": ["EC2"],
        "cpu": "256",
        "memory": "512",
        "containerDefinitions": [
            {
                "name": "web",
                "image": TEST_IMAGE,
                "cpu": 128,
                "memory": 64,
                "memoryReservation": 32,
                "essential": True,
                "command": ["httpd", "-f", "-p", "8080", "-h", "/www"],
                "workingDirectory": "/www",
                "environment": [{"name": "GREETING", "value": "hello"}],
                "dockerLabels": {"team": "berth"},
                "portMappings": [{"containerPort": 8080, "hostPort": 0, "protocol": "tcp"}],
                "stopTimeout": 5,
            },
            {
                "name": "sidecar",
                "image": TEST_IMAGE,
                "memory": 16,
                "essential": False,
                "entryPoint": ["sh", "-c"],
                "command": ["sleep 3600"],
            },
        ],
        "tags": [{"key": "app", "value": "web"}],
    }


def test_register_with_the_cli_and_describe_what_was_registered(aws):
    family = e2e.unique_name("web")
    document = web_definition(family)
    registered = aws("register-task-definition", "--cli-input-json", aws.write_json("web.json", document))
    definition = registered["taskDefinition"]
    assert definition["taskDefinitionArn"] == f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{family}:1"
    assert definition["revision"] == 1
    assert definition["status"] == "ACTIVE"

    described = aws("describe-task-definition", "--task-definition", family, "--include", "TAGS")
    assert described["tags"] == document["tags"]
    shown = described["taskDefinition"]
    assert shown["family"] == family
    assert shown["networkMode"] == "bridge"
    assert shown["cpu"] == "256" and shown["memory"] == "512"
    assert shown["requiresCompatibilities"] == ["EC2"]
    assert "EC2" in shown["compatibilities"]
    assert isinstance(shown["registeredAt"], (int, float, str))
    assert [c["name"] for c in shown["containerDefinitions"]] == ["web", "sidecar"]
    for sent, got in zip(document["containerDefinitions"], shown["containerDefinitions"]):
        for key, value in sent.items():
            if key == "portMappings":
                continue
            assert got.get(key) == value, f"{sent['name']}.{key}: registered {value!r}, described {got.get(key)!r}"
    mapping = shown["containerDefinitions"][0]["portMappings"][0]
    assert mapping["containerPort"] == 8080 and mapping.get("protocol", "tcp") == "tcp"
    assert mapping.get("hostPort", 0) == 0

    # The same through the AWS_ENDPOINT_URL_ECS variable instead of --endpoint-url.
    via_env = aws("describe-task-definition", "--task-definition", f"{family}:1", via_env=True)
    assert via_env["taskDefinition"]["taskDefinitionArn"] == definition["taskDefinitionArn"]


def test_defaults_are_filled_in(ecs):
    family = e2e.unique_name("defaults")
    definition = ecs.register_task_definition(
        family=family,
        containerDefinitions=[{"name": "only", "image": TEST_IMAGE, "memory": 16,
                               "portMappings": [{"containerPort": 80}]}],
    )["taskDefinition"]
    container = definition["containerDefinitions"][0]
    assert container["essential"] is True  # ECS: essential defaults to true
    assert container["portMappings"][0]["protocol"] == "tcp"
    assert definition["status"] == "ACTIVE"


def test_families_and_revisions(ecs):
    family, other = e2e.unique_name("fam"), e2e.unique_name("fam")
    revisions = [
        ecs.register_task_definition(**e2e.busybox_task_definition(family, ["sleep", str(n)]))["taskDefinition"]
        for n in range(3)
    ]
    assert [d["revision"] for d in revisions] == [1, 2, 3]
    # Revisions count per family.
    assert ecs.register_task_definition(**e2e.busybox_task_definition(other, ["true"]))["taskDefinition"]["revision"] == 1

    latest = ecs.describe_task_definition(taskDefinition=family)["taskDefinition"]
    assert latest["revision"] == 3
    assert latest["containerDefinitions"][0]["command"] == ["sleep", "2"]
    assert ecs.describe_task_definition(taskDefinition=f"{family}:2")["taskDefinition"]["containerDefinitions"][0][
        "command"] == ["sleep", "1"]

    ecs.deregister_task_definition(taskDefinition=f"{family}:3")
    # Describing a family gives its latest ACTIVE revision.
    assert ecs.describe_task_definition(taskDefinition=family)["taskDefinition"]["revision"] == 2
    # Registering again continues the numbering; revisions are never reused.
    assert ecs.register_task_definition(**e2e.busybox_task_definition(family, ["true"]))["taskDefinition"]["revision"] == 4


def invalid(ecs, aws, document: dict, types: tuple, mentions: str) -> None:
    """The registration fails the same way through boto3 and the aws CLI."""
    with pytest.raises(ClientError) as raised:
        ecs.register_task_definition(**document)
    error = raised.value.response["Error"]
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["Code"] in types, f"{error} not one of {types}"
    assert mentions.lower() in error["Message"].lower(), f"{error['Message']!r} does not mention {mentions!r}"
    result = aws.fails("register-task-definition", "--cli-input-json",
                       aws.write_json("invalid.json", document))
    # The CLI's exit code for a service error (254 in v2, 255 in v1).
    assert result.returncode in (254, 255), (result.returncode, result.stderr)
    assert error["Code"] in result.stderr, result.stderr
    # Nothing was registered.
    with pytest.raises(ClientError):
        ecs.describe_task_definition(taskDefinition=document["family"])


def container(name: str = "main", **extra) -> dict:
    return {"name": name, "image": TEST_IMAGE, "memory": 16, **extra}


CLIENT = ("ClientException",)
CLIENT_OR_PARAM = ("ClientException", "InvalidParameterException")


def test_no_essential_container(ecs, aws):
    invalid(ecs, aws, {"family": e2e.unique_name("bad"),
                       "containerDefinitions": [container("a", essential=False), container("b", essential=False)]},
            CLIENT, "essential")


def test_no_memory_at_task_or_container_level(ecs, aws):
    invalid(ecs, aws, {"family": e2e.unique_name("bad"),
                       "containerDefinitions": [{"name": "a", "image": TEST_IMAGE}]},
            CLIENT, "memory")
    # With task-level memory the container may omit it.
    ok = ecs.register_task_definition(family=e2e.unique_name("ok"), memory="128",
                                      containerDefinitions=[{"name": "a", "image": TEST_IMAGE}])
    assert ok["taskDefinition"]["memory"] == "128"


def test_memory_reservation_above_memory(ecs, aws):
    invalid(ecs, aws, {"family": e2e.unique_name("bad"),
                       "containerDefinitions": [container(memory=16, memoryReservation=64)]},
            CLIENT_OR_PARAM, "memory")


def test_duplicate_container_names(ecs, aws):
    invalid(ecs, aws, {"family": e2e.unique_name("bad"),
                       "containerDefinitions": [container("twin"), container("twin")]},
            CLIENT_OR_PARAM, "twin")


def test_bad_names(ecs, aws):
    invalid(ecs, aws, {"family": "bad family!", "containerDefinitions": [container()]},
            CLIENT_OR_PARAM, "family")
    invalid(ecs, aws, {"family": "x" * 256, "containerDefinitions": [container()]},
            CLIENT_OR_PARAM, "family")
    invalid(ecs, aws, {"family": e2e.unique_name("bad"), "containerDefinitions": [container("no spaces!")]},
            CLIENT_OR_PARAM, "name")


def test_host_port_conflicts(ecs, aws):
    mapping = [{"containerPort": 8080, "hostPort": 18080, "protocol": "tcp"}]
    invalid(ecs, aws, {"family": e2e.unique_name("bad"),
                       "containerDefinitions": [container("a", portMappings=mapping),
                                                container("b", portMappings=mapping)]},
            CLIENT_OR_PARAM, "port")
    same_container = [{"containerPort": 80, "hostPort": 18081}, {"containerPort": 81, "hostPort": 18081}]
    invalid(ecs, aws, {"family": e2e.unique_name("bad"),
                       "containerDefinitions": [container("a", portMappings=same_container)]},
            CLIENT_OR_PARAM, "port")
    # The same host port on different protocols is not a conflict.
    ok = [{"containerPort": 53, "hostPort": 18053, "protocol": "tcp"},
          {"containerPort": 53, "hostPort": 18053, "protocol": "udp"}]
    ecs.register_task_definition(family=e2e.unique_name("ok"), containerDefinitions=[container(portMappings=ok)])


def test_cli_inline_arguments(aws):
    family = e2e.unique_name("inline")
    definitions = json.dumps([container("a", command=["sleep", "1"])])
    registered = aws("register-task-definition", "--family", family, "--container-definitions", definitions)
    assert registered["taskDefinition"]["revision"] == 1
    listed = aws("list-task-definitions", "--family-prefix", family)
    assert listed["taskDefinitionArns"] == [registered["taskDefinition"]["taskDefinitionArn"]]
    families = aws("list-task-definition-families", "--family-prefix", family, via_env=True)
    assert families["families"] == [family]
    result = aws.fails("register-task-definition", "--family", e2e.unique_name("bad"), "--container-definitions",
                       json.dumps([container("a", essential=False)]))
    assert "ClientException" in result.stderr
