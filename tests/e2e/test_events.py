"""EventBridge on Berth's endpoint: rules with event patterns, ECS targets, PutEvents, and the
"ECS Task State Change" events Berth emits. A rule on a task stopping with a non-zero exit code
runs a clean-up task, once, with the failed task's ARN handed to it by an input transformer;
an event accepted just before a `kill -9` of the server still runs its target's task exactly
once. Every answer goes through the real aws CLI or boto3's strict validator; every wait is a
bounded poll."""

from __future__ import annotations

import json

import pytest

import berth_e2e as e2e

pytestmark = pytest.mark.docker


def register(ecs, family: str, command: list[str]) -> str:
    container = {"name": "main", "image": e2e.TEST_IMAGE, "essential": True, "memory": 32, "command": command}
    return ecs.register_task_definition(family=family, containerDefinitions=[container])["taskDefinition"][
        "taskDefinitionArn"]


def started_by_rule(ecs, cluster: str, rule: str) -> list[dict]:
    arns = []
    for status in ("RUNNING", "STOPPED"):
        arns += ecs.list_tasks(cluster=cluster, startedBy=f"events-rule/{rule}", desiredStatus=status)["taskArns"]
    if not arns:
        return []
    return ecs.describe_tasks(cluster=cluster, tasks=arns)["tasks"]


@pytest.fixture(scope="module")
def cli(berth, tmp_path_factory):
    return e2e.AwsCli(berth.url, tmp_path_factory.mktemp("aws-events"), service="events")


def test_rules_and_targets_through_the_cli(cli, cluster, ecs):
    rule = e2e.unique_name("cli")
    definition = register(ecs, rule, ["true"])
    pattern = json.dumps({"source": ["my.shop"], "detail": {"total": [{"numeric": [">", 100]}]}})
    arn = cli("put-rule", "--name", rule, "--event-pattern", pattern, "--description", "big orders",
              "--tags", "Key=team,Value=shop")["RuleArn"]
    assert arn == f"arn:aws:events:{e2e.REGION}:{e2e.ACCOUNT}:rule/{rule}"
    described = cli("describe-rule", "--name", rule)
    assert (described["State"], described["EventPattern"], described["EventBusName"]) == ("ENABLED", pattern, "default")
    assert [found["Name"] for found in cli("list-rules", "--name-prefix", rule)["Rules"]] == [rule]
    targets = [{"Id": "orders", "Arn": e2e.cluster_arn(cluster),
                "EcsParameters": {"TaskDefinitionArn": definition, "TaskCount": 1, "LaunchType": "EC2"}}]
    assert cli("put-targets", "--rule", rule, "--targets", json.dumps(targets))["FailedEntryCount"] == 0
    listed = cli("list-targets-by-rule", "--rule", rule)["Targets"]
    assert listed[0]["Id"] == "orders" and listed[0]["EcsParameters"]["TaskDefinitionArn"] == definition
    assert cli("list-rule-names-by-target", "--target-arn", e2e.cluster_arn(cluster))["RuleNames"] == [rule]
    assert cli("list-tags-for-resource", "--resource-arn", arn)["Tags"] == [{"Key": "team", "Value": "shop"}]
    cli("disable-rule", "--name", rule)
    assert cli("describe-rule", "--name", rule)["State"] == "DISABLED"
    event = {"id": "1", "account": e2e.ACCOUNT, "source": "my.shop", "time": "2026-12-04T10:00:00Z",
             "region": e2e.REGION, "detail-type": "order", "resources": [], "detail": {"total": 250}}
    assert cli("test-event-pattern", "--event-pattern", pattern, "--event", json.dumps(event))["Result"] is True
    event["detail"]["total"] = 20
    assert cli("test-event-pattern", "--event-pattern", pattern, "--event", json.dumps(event))["Result"] is False
    assert cli("describe-event-bus")["Name"] == "default"

    refused = cli.run("put-rule", "--name", e2e.unique_name("bad"), "--event-pattern", '{"source": "my.shop"}')
    assert refused.returncode != 0 and "InvalidEventPatternException" in refused.stderr, refused.stderr
    refused = cli.run("describe-rule", "--name", "no-such-rule")
    assert "ResourceNotFoundException" in refused.stderr, refused.stderr
    lambda_target = [{"Id": "fn", "Arn": f"arn:aws:lambda:{e2e.REGION}:000000000000:function:f"}]
    refused = cli.run("put-targets", "--rule", rule, "--targets", json.dumps(lambda_target))
    assert "ValidationException" in refused.stderr and "Targets[0].Arn" in refused.stderr, refused.stderr
    refused = cli.run("delete-rule", "--name", rule)
    assert "ValidationException" in refused.stderr and "has targets" in refused.stderr, refused.stderr
    cli("remove-targets", "--rule", rule, "--ids", "orders")
    cli("delete-rule", "--name", rule)
    assert cli("list-rules", "--name-prefix", rule)["Rules"] == []


def test_a_task_failing_runs_one_clean_up_task_with_its_arn(berth, cluster, ecs):
    events = e2e.aws_client("events", berth.url)
    rule = e2e.unique_name("failed")
    failing = register(ecs, f"{rule}-job", ["sh", "-c", "exit 3"])
    passing = register(ecs, f"{rule}-ok", ["true"])
    cleanup = register(ecs, f"{rule}-cleanup", ["true"])
    events.put_rule(Name=rule, EventPattern=json.dumps({
        "source": ["aws.ecs"], "detail-type": ["ECS Task State Change"],
        "detail": {"lastStatus": ["STOPPED"], "group": [f"family:{rule}-job", f"family:{rule}-ok"],
                   "containers": {"exitCode": [{"anything-but": 0}]}}}))
    template = json.dumps({"containerOverrides": [{"name": "main", "command": ["echo", "<task>", "<code>"]}]})
    events.put_targets(Rule=rule, Targets=[{
        "Id": "cleanup", "Arn": e2e.cluster_arn(cluster),
        "EcsParameters": {"TaskDefinitionArn": cleanup, "TaskCount": 1},
        "InputTransformer": {"InputPathsMap": {"task": "$.detail.taskArn", "code": "$.detail.containers[0].exitCode"},
                             "InputTemplate": template}}])

    ok_task = ecs.run_task(cluster=cluster, taskDefinition=passing)["tasks"][0]["taskArn"]
    failed_task = ecs.run_task(cluster=cluster, taskDefinition=failing)["tasks"][0]["taskArn"]
    [started] = e2e.wait_until(lambda: started_by_rule(ecs, cluster, rule), lambda tasks: len(tasks) >= 1,
                               timeout=120, what="the clean-up task the rule starts")
    assert started["taskDefinitionArn"] == cleanup
    command = started["overrides"]["containerOverrides"][0]["command"]
    assert command == ["echo", failed_task, "3"], command
    # Both tasks have stopped and every state change of theirs (and of the clean-up task,
    # which exits 0) has gone through the rule: still exactly one clean-up task.
    for arn in (ok_task, failed_task, started["taskArn"]):
        e2e.wait_until(lambda arn=arn: ecs.describe_tasks(cluster=cluster, tasks=[arn])["tasks"][0],
                       lambda task: task["lastStatus"] == "STOPPED", timeout=120, what="the task to stop")
    e2e.wait_until(lambda: events.put_events(Entries=[{"Source": "e2e.flush", "DetailType": "x", "Detail": "{}"}]),
                   lambda answer: answer["FailedEntryCount"] == 0, timeout=10, what="an event after them")
    assert len(started_by_rule(ecs, cluster, rule)) == 1
    events.remove_targets(Rule=rule, Ids=["cleanup"])
    events.delete_rule(Name=rule)


def test_put_events_runs_the_matching_rules_target_once_across_a_kill_9(processes):
    server = processes.server(["--no-proxy"])
    name = e2e.unique_name("putevents")
    ecs = e2e.ecs_client(server.url)
    events = e2e.aws_client("events", server.url)
    ecs.create_cluster(clusterName=name)
    processes.agent(server.url, name, "a")
    e2e.wait_for_instances(ecs, name, 1)
    worker = register(ecs, f"{name}-worker", ["true"])
    events.put_rule(Name=name, EventPattern=json.dumps({"source": ["my.shop"], "detail-type": ["order placed"],
                                                        "detail": {"total": [{"numeric": [">=", 100]}]}}))
    events.put_targets(Rule=name, Targets=[{"Id": "worker", "Arn": e2e.cluster_arn(name),
                                            "EcsParameters": {"TaskDefinitionArn": worker, "TaskCount": 2}}])
    answer = events.put_events(Entries=[
        {"Source": "my.shop", "DetailType": "order placed", "Detail": json.dumps({"total": 120})},
        {"Source": "my.shop", "DetailType": "order placed", "Detail": json.dumps({"total": 5})},
        {"Source": "aws.ecs", "DetailType": "forged", "Detail": "{}"},
        {"Source": "my.shop", "DetailType": "order placed", "Detail": "not json"},
    ])
    assert answer["FailedEntryCount"] == 2
    codes = [entry.get("ErrorCode") for entry in answer["Entries"]]
    assert codes == [None, None, "NotAuthorizedForSourceException", "MalformedDetail"], answer["Entries"]
    # Killed right after the events were acknowledged: they are durable, and whatever part of
    # the delivery happened before the kill is not repeated after it.
    server.process.kill()
    server.process.restart()
    server.wait_ready()
    tasks = e2e.wait_until(lambda: started_by_rule(ecs, name, name), lambda found: len(found) >= 2, timeout=120,
                           what="the two tasks of the matching event")
    e2e.wait_until(lambda: events.put_events(Entries=[{"Source": "e2e.flush", "DetailType": "x", "Detail": "{}"}]),
                   lambda answer: answer["FailedEntryCount"] == 0, timeout=10, what="an event after them")
    assert len(started_by_rule(ecs, name, name)) == 2, "the matching event ran its two tasks once; the other none"
    assert {task["taskDefinitionArn"] for task in tasks} == {worker}
