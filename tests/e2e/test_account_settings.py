"""Account settings, the ECS agent's own operations, and capability attributes, against real
`berth up` / `berth server` processes with boto3 and the aws CLI.

- Account settings round-trip, resolve effective values (principal, else account default, else
  AWS's default), refuse invalid values naming the field, and survive a `kill -9`.
- Submit*StateChange moves a task on an instance with no agent behind it through RUNNING to
  STOPPED, idempotently and never backwards.
- A definition requiring a capability no instance advertises is refused as ATTRIBUTE; one
  requiring a capability the Docker agent advertises runs.
"""

from __future__ import annotations

import signal

import pytest
from botocore.exceptions import ClientError

import berth_e2e as e2e

pytestmark = pytest.mark.docker

ROOT = f"arn:aws:iam::{e2e.ACCOUNT}:root"
EVERY_SETTING = {
    "serviceLongArnFormat", "taskLongArnFormat", "containerInstanceLongArnFormat", "awsvpcTrunking",
    "containerInsights", "fargateFIPSMode", "tagResourceAuthorization", "fargateTaskRetirementWaitPeriod",
    "guardDutyActivate", "defaultLogDriverMode", "fargateEventWindows",
}


def user(name: str) -> str:
    return f"arn:aws:iam::{e2e.ACCOUNT}:user/{name}"


def refused(call, **kwargs) -> tuple[str, str]:
    with pytest.raises(ClientError) as raised:
        call(**kwargs)
    error = raised.value.response["Error"]
    return error["Code"], error["Message"]


def effective(ecs, name: str, principal: str | None = None) -> dict:
    extra = {"principalArn": principal} if principal else {}
    settings = ecs.list_account_settings(name=name, effectiveSettings=True, **extra)["settings"]
    assert len(settings) == 1, settings
    return settings[0]


def all_pages(ecs, **kwargs) -> list[dict]:
    """Every setting of a listing, walked page by page (bounded: there are 11 names)."""
    collected, token = [], None
    for _ in range(20):
        page = ecs.list_account_settings(**kwargs, **({"nextToken": token} if token else {}))
        assert len(page["settings"]) <= kwargs.get("maxResults", 10)
        collected.extend(page["settings"])
        token = page.get("nextToken")
        if not token:
            return collected
    raise AssertionError("ListAccountSettings never stopped paging")


# --------------------------------------------------------------------------------------------
# Account settings


def test_defaults_principal_overrides_and_deletion(ecs, aws):
    alice, bob = user(e2e.unique_name("alice")), user(e2e.unique_name("bob"))
    # Before anything is set, every setting has AWS's default, attributed to the root user.
    listed = all_pages(ecs, effectiveSettings=True, principalArn=alice, maxResults=4)
    assert {setting["name"] for setting in listed} == EVERY_SETTING and len(listed) == len(EVERY_SETTING)
    by_name = {setting["name"]: setting for setting in listed}
    assert by_name["fargateTaskRetirementWaitPeriod"]["value"] == "7"
    assert by_name["defaultLogDriverMode"]["value"] == "non-blocking"
    assert by_name["guardDutyActivate"]["type"] == "aws_managed"
    assert by_name["awsvpcTrunking"] == {"name": "awsvpcTrunking", "value": "disabled", "principalArn": ROOT,
                                         "type": "user"}
    assert ecs.list_account_settings(principalArn=alice)["settings"] == [], "nothing set explicitly yet"

    # The account default (root's setting) applies to everyone without their own.
    put = ecs.put_account_setting_default(name="awsvpcTrunking", value="enabled")["setting"]
    assert put == {"name": "awsvpcTrunking", "value": "enabled", "principalArn": ROOT, "type": "user"}
    assert effective(ecs, "awsvpcTrunking", alice)["value"] == "enabled"

    # A principal's own setting wins for that principal only (set with the aws CLI).
    own = aws("put-account-setting", "--name", "awsvpcTrunking", "--value", "disabled", "--principal-arn", alice)
    assert own["setting"]["principalArn"] == alice and own["setting"]["value"] == "disabled"
    assert effective(ecs, "awsvpcTrunking", alice) == {"name": "awsvpcTrunking", "value": "disabled",
                                                       "principalArn": alice, "type": "user"}
    assert effective(ecs, "awsvpcTrunking", bob)["value"] == "enabled"
    cli_listing = aws("list-account-settings", "--principal-arn", alice)
    assert [(s["name"], s["value"]) for s in cli_listing["settings"]] == [("awsvpcTrunking", "disabled")]
    filtered = ecs.list_account_settings(name="awsvpcTrunking", value="enabled", effectiveSettings=True,
                                         principalArn=alice)["settings"]
    assert filtered == [], "the value filter applies to the effective value"

    # Deleting the principal's own setting falls back to the account default, then AWS's.
    deleted = ecs.delete_account_setting(name="awsvpcTrunking", principalArn=alice)["setting"]
    assert (deleted["value"], deleted["principalArn"]) == ("disabled", alice)
    assert effective(ecs, "awsvpcTrunking", alice)["value"] == "enabled"
    aws("delete-account-setting", "--name", "awsvpcTrunking")
    assert effective(ecs, "awsvpcTrunking", alice)["value"] == "disabled"
    assert ecs.list_account_settings()["settings"] == []


def test_invalid_values_are_refused_naming_the_field_and_change_nothing(ecs, aws):
    before = all_pages(ecs, effectiveSettings=True)
    cases = [
        ({"name": "containerInsights", "value": "maybe"}, "value"),
        ({"name": "awsvpcTrunking", "value": "enhanced"}, "value"),
        ({"name": "tagResourceAuthorization", "value": "enabled"}, "value"),
        ({"name": "fargateTaskRetirementWaitPeriod", "value": "3"}, "value"),
        ({"name": "fargateTaskRetirementWaitPeriod", "value": "14", "principalArn": user("carol")}, "principalArn"),
        ({"name": "guardDutyActivate", "value": "on"}, "name"),
        ({"name": "containerInsights", "value": "enabled", "principalArn": "arn:aws:iam::999999999999:root"},
         "principalArn"),
        ({"name": "containerInsights", "value": "enabled", "principalArn": "carol"}, "principalArn"),
        ({"name": "noSuchSetting", "value": "enabled"}, "name"),
    ]
    for request, field in cases:
        code, message = refused(ecs.put_account_setting, **request)
        assert code == "InvalidParameterException", (request, code, message)
        assert message.startswith(f"{field}:") or f"{field}" in message, (request, message)
    code, message = refused(ecs.delete_account_setting, name="guardDutyActivate")
    assert code == "InvalidParameterException" and "read-only" in message
    code, _ = refused(ecs.list_account_settings, value="enabled")
    assert code == "InvalidParameterException"
    code, message = refused(ecs.list_account_settings, maxResults=11)
    assert code == "InvalidParameterException" and "maxResults" in message
    failed = aws.fails("put-account-setting-default", "--name", "containerInsights", "--value", "on")
    assert "InvalidParameterException" in failed.stderr and "value" in failed.stderr
    assert all_pages(ecs, effectiveSettings=True) == before, "a refused request changes nothing"

    # The values that are valid are taken, including containerInsights' own `enhanced`.
    ecs.put_account_setting(name="fargateTaskRetirementWaitPeriod", value="14")
    assert effective(ecs, "fargateTaskRetirementWaitPeriod")["value"] == "14"
    ecs.delete_account_setting(name="fargateTaskRetirementWaitPeriod")


def test_container_insights_default_applies_to_new_clusters(ecs):
    plain = e2e.unique_name("ci-plain")
    ecs.create_cluster(clusterName=plain)
    settings = ecs.describe_clusters(clusters=[plain], include=["SETTINGS"])["clusters"][0]["settings"]
    assert settings == [{"name": "containerInsights", "value": "disabled"}]

    ecs.put_account_setting_default(name="containerInsights", value="enhanced")
    try:
        inherits, explicit = e2e.unique_name("ci-inherit"), e2e.unique_name("ci-explicit")
        ecs.create_cluster(clusterName=inherits)
        ecs.create_cluster(clusterName=explicit, settings=[{"name": "containerInsights", "value": "enabled"}])
        described = {c["clusterName"]: c["settings"]
                     for c in ecs.describe_clusters(clusters=[inherits, explicit, plain], include=["SETTINGS"])[
                         "clusters"]}
        assert described[inherits] == [{"name": "containerInsights", "value": "enhanced"}]
        assert described[explicit] == [{"name": "containerInsights", "value": "enabled"}], "the request wins"
        assert described[plain] == [{"name": "containerInsights", "value": "disabled"}], "existing ones keep theirs"
    finally:
        ecs.delete_account_setting(name="containerInsights")


def test_settings_survive_kill_9_of_the_server(processes):
    server = processes.server()
    ecs = e2e.ecs_client(server.url)
    dave = user(e2e.unique_name("dave"))
    ecs.put_account_setting_default(name="defaultLogDriverMode", value="blocking")
    ecs.put_account_setting(name="tagResourceAuthorization", value="off", principalArn=dave)
    ecs.put_account_setting_default(name="fargateEventWindows", value="enabled")
    ecs.delete_account_setting(name="fargateEventWindows")

    server.process.kill(signal.SIGKILL)
    server.process.restart()
    server.wait_ready()

    assert effective(ecs, "defaultLogDriverMode", dave)["value"] == "blocking"
    assert effective(ecs, "tagResourceAuthorization", dave) == {
        "name": "tagResourceAuthorization", "value": "off", "principalArn": dave, "type": "user"}
    assert effective(ecs, "fargateEventWindows")["value"] == "disabled", "the acknowledged delete held"
    assert [(s["name"], s["value"]) for s in ecs.list_account_settings()["settings"]] == [
        ("defaultLogDriverMode", "blocking")]


# --------------------------------------------------------------------------------------------
# The agent's operations


def describe(ecs, cluster: str, task_arn: str) -> dict:
    return e2e.describe_task(ecs, cluster, task_arn)


def test_submitted_state_changes_move_a_task_forward_only(ecs, aws):
    cluster = e2e.unique_name("submit")
    ecs.create_cluster(clusterName=cluster)
    instance = e2e.register_fake_instance(ecs, cluster)
    family = e2e.unique_name("submitted")
    ecs.register_task_definition(**e2e.busybox_task_definition(
        family, ["sleep", "3600"], port_mappings=[{"containerPort": 80, "hostPort": 0}]))
    run = ecs.run_task(cluster=cluster, taskDefinition=family)
    assert run["failures"] == [], run["failures"]
    task_arn = run["tasks"][0]["taskArn"]
    assert run["tasks"][0]["containerInstanceArn"] == instance["containerInstanceArn"]

    running = {
        "cluster": cluster, "task": task_arn, "status": "RUNNING",
        "containers": [{"containerName": "main", "runtimeId": "c0ffee", "status": "RUNNING",
                        "networkBindings": [{"bindIP": "0.0.0.0", "containerPort": 80, "hostPort": 32790,
                                             "protocol": "tcp"}]}],
        "pullStartedAt": 1_700_000_000, "pullStoppedAt": 1_700_000_002,
    }
    assert ecs.submit_task_state_change(**running)["acknowledgment"] == "ACK"
    task = describe(ecs, cluster, task_arn)
    assert task["lastStatus"] == "RUNNING" and "startedAt" in task
    assert task["pullStoppedAt"].timestamp() == 1_700_000_002
    container = task["containers"][0]
    assert (container["runtimeId"], container["networkBindings"][0]["hostPort"]) == ("c0ffee", 32790)

    # The same report again, or an older status, is acknowledged and changes nothing.
    assert ecs.submit_task_state_change(**running)["acknowledgment"] == "ACK"
    ecs.submit_task_state_change(cluster=cluster, task=task_arn, status="PENDING")
    assert describe(ecs, cluster, task_arn) == task

    # A container change (through the aws CLI) keeps what it does not mention.
    answer = aws("submit-container-state-change", "--cluster", cluster, "--task", task_arn,
                 "--container-name", "main", "--status", "STOPPED", "--exit-code", "3", "--reason", "done")
    assert answer["acknowledgment"] == "ACK"
    after_container = describe(ecs, cluster, task_arn)
    assert after_container["lastStatus"] == "RUNNING"
    container = after_container["containers"][0]
    assert (container["lastStatus"], container["exitCode"], container["runtimeId"]) == ("STOPPED", 3, "c0ffee")
    assert after_container["version"] == task["version"] + 1

    ecs.submit_task_state_change(cluster=cluster, task=task_arn, status="STOPPED",
                                 reason="Essential container in task exited", executionStoppedAt=1_700_000_100)
    stopped = describe(ecs, cluster, task_arn)
    assert (stopped["lastStatus"], stopped["desiredStatus"]) == ("STOPPED", "STOPPED")
    assert stopped["stopCode"] == "EssentialContainerExited"
    assert stopped["stoppedReason"] == "Essential container in task exited"
    assert stopped["executionStoppedAt"].timestamp() == 1_700_000_100
    ecs.submit_task_state_change(**running)
    assert describe(ecs, cluster, task_arn) == stopped, "a stopped task never runs again"

    # Unknown tasks, containers and clusters get ECS's errors and change nothing.
    code, message = refused(ecs.submit_task_state_change, cluster=cluster, task="0" * 32, status="RUNNING")
    assert code == "InvalidParameterException" and "task" in message
    code, message = refused(ecs.submit_container_state_change, cluster=cluster, task=task_arn,
                            containerName="nope", status="RUNNING")
    assert code == "InvalidParameterException" and "containerName" in message
    code, _ = refused(ecs.submit_task_state_change, cluster=e2e.unique_name("nowhere"), task="0" * 32)
    assert code == "ClusterNotFoundException"
    code, message = refused(ecs.submit_task_state_change, cluster=cluster, task=task_arn, status="DONE")
    assert code == "InvalidParameterException" and message.startswith("status:")
    code, message = refused(ecs.submit_attachment_state_changes, cluster=cluster,
                            attachments=[{"attachmentArn": "arn:aws:ecs:us-east-1:000000000000:attachment/x",
                                          "status": "ATTACHED"}])
    assert code == "InvalidParameterException" and "attachmentArn" in message
    assert describe(ecs, cluster, task_arn) == stopped


def test_discover_poll_endpoint_and_update_container_agent(ecs, berth, cluster, instance):
    answer = ecs.discover_poll_endpoint(cluster=cluster, containerInstance=instance["containerInstanceArn"])
    assert answer["endpoint"] == f"{berth.url}/"
    assert answer["telemetryEndpoint"] == answer["serviceConnectEndpoint"] == f"{berth.url}/"

    code, _ = refused(ecs.update_container_agent, cluster=cluster, containerInstance=instance["containerInstanceArn"])
    assert code == "NoUpdateAvailableException", "the Docker agent is always current"
    fake = e2e.register_fake_instance(ecs, cluster, cpu=1, memory=1)
    try:
        code, _ = refused(ecs.update_container_agent, cluster=cluster, containerInstance=fake["containerInstanceArn"])
        assert code == "MissingVersionException", "an instance that reported no agent version"
    finally:
        ecs.deregister_container_instance(cluster=cluster, containerInstance=fake["containerInstanceArn"], force=True)
    code, _ = refused(ecs.update_container_agent, cluster=e2e.unique_name("nowhere"),
                      containerInstance=instance["containerInstanceArn"].rsplit("/", 1)[1])
    assert code == "ClusterNotFoundException"


# --------------------------------------------------------------------------------------------
# Capabilities


def capability_names(instance: dict) -> set[str]:
    return {attribute["name"] for attribute in instance["attributes"] if ".capability." in attribute["name"]}


def test_required_capabilities_are_enforced_at_placement(ecs, cluster, instance, cleanup_tasks):
    described = ecs.describe_container_instances(cluster=cluster, containerInstances=[instance["containerInstanceArn"]])
    advertised = capability_names(described["containerInstances"][0])
    assert {"ecs.capability.container-health-check", "ecs.capability.container-ordering",
            "com.amazonaws.ecs.capability.logging-driver.json-file",
            "com.amazonaws.ecs.capability.docker-remote-api.1.25"} <= advertised, advertised
    assert "com.amazonaws.ecs.capability.task-iam-role" not in advertised, "Berth has no task roles yet"

    # A task role needs com.amazonaws.ecs.capability.task-iam-role, which no Berth agent has.
    with_role = e2e.unique_name("role")
    definition = e2e.busybox_task_definition(with_role, ["sleep", "3600"], memory=16)
    definition["taskRoleArn"] = f"arn:aws:iam::{e2e.ACCOUNT}:role/app"
    registered = ecs.register_task_definition(**definition)["taskDefinition"]
    assert {"name": "com.amazonaws.ecs.capability.task-iam-role"} in registered["requiresAttributes"]
    response = ecs.run_task(cluster=cluster, taskDefinition=with_role)
    assert response["tasks"] == []
    assert [(f["arn"], f["reason"]) for f in response["failures"]] == [(instance["containerInstanceArn"], "ATTRIBUTE")]
    started = ecs.start_task(cluster=cluster, taskDefinition=with_role,
                             containerInstances=[instance["containerInstanceArn"]])
    assert started["tasks"] == [] and [f["reason"] for f in started["failures"]] == ["ATTRIBUTE"]

    # A health check needs ecs.capability.container-health-check, which the Docker agent has.
    checked = e2e.unique_name("checked")
    definition = e2e.busybox_task_definition(checked, ["sleep", "3600"], memory=16, healthCheck={
        "command": ["CMD-SHELL", "true"], "interval": 5, "timeout": 2, "retries": 2})
    registered = ecs.register_task_definition(**definition)["taskDefinition"]
    assert {"name": "ecs.capability.container-health-check"} in registered["requiresAttributes"]
    response = ecs.run_task(cluster=cluster, taskDefinition=checked)
    assert response["failures"] == [], response["failures"]
    task_arn = response["tasks"][0]["taskArn"]
    cleanup_tasks.append((ecs, cluster, task_arn))
    e2e.wait_status(ecs, cluster, task_arn, "RUNNING")


def test_default_log_driver_mode_reaches_docker(ecs, cluster, cleanup_tasks):
    family = e2e.unique_name("logmode")
    ecs.register_task_definition(**e2e.busybox_task_definition(
        family, ["sleep", "3600"], memory=16,
        logConfiguration={"logDriver": "json-file", "options": {"max-size": "1m"}}))

    def log_options_of_a_new_task() -> dict:
        response = ecs.run_task(cluster=cluster, taskDefinition=family)
        assert response["failures"] == [], response["failures"]
        task_arn = response["tasks"][0]["taskArn"]
        cleanup_tasks.append((ecs, cluster, task_arn))
        e2e.wait_status(ecs, cluster, task_arn, "RUNNING")
        (container_id,) = e2e.containers_for_task(task_arn)
        return e2e.inspect_container(container_id)["HostConfig"]["LogConfig"]["Config"]

    # The daemon may add its own defaults (max-file, say); the definition's options stay.
    options = log_options_of_a_new_task()
    assert (options["mode"], options["max-size"]) == ("non-blocking", "1m"), f"AWS's default: {options}"
    ecs.put_account_setting_default(name="defaultLogDriverMode", value="blocking")
    try:
        options = log_options_of_a_new_task()
        assert (options["mode"], options["max-size"]) == ("blocking", "1m"), options
    finally:
        ecs.delete_account_setting(name="defaultLogDriverMode")
