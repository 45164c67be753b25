"""EventBridge Scheduler on Berth's endpoint, with boto3 (its answers checked against botocore's
model, errors included) and the real `aws scheduler` CLI: every operation answers in the
model's shape, errors carry the model's codes and statuses, a one-time schedule runs its task
once and deletes itself, and a rate schedule and a cron schedule in a time zone run exactly
one task per firing while the server is `kill -9`ed right after a firing and restarted.

Tasks are counted through ListTasks by the `startedBy` Berth gives a schedule's tasks
(`chronos-schedule/NAME`). Every wait is a bounded poll; the crash test is last in the module
because it restarts the module's `berth up`."""

from __future__ import annotations

import datetime
import json
import signal
import time

import botocore
import botocore.exceptions
import botocore.session
import pytest

import berth_e2e as e2e

pytestmark = pytest.mark.docker

ROLE = f"arn:aws:iam::{e2e.ACCOUNT}:role/berth-scheduler"


@pytest.fixture(scope="module")
def scheduler(berth):
    return e2e.aws_client("scheduler", berth.url)


@pytest.fixture(scope="module")
def sleeper(ecs):
    """A task definition whose tasks run until stopped, so that ListTasks counts every firing."""
    family = e2e.unique_name("sleeper")
    definition = e2e.busybox_task_definition(family, ["sleep", "3600"], memory=8)
    return ecs.register_task_definition(**definition)["taskDefinition"]["taskDefinitionArn"]


@pytest.fixture
def stop_schedule_tasks(ecs, cluster):
    """Names of schedules whose tasks are stopped when the test ends."""
    names: list[str] = []
    yield names
    for name in names:
        for arn in ecs.list_tasks(cluster=cluster, startedBy=started_by(name))["taskArns"]:
            ecs.stop_task(cluster=cluster, task=arn, reason="e2e cleanup")


def started_by(schedule: str) -> str:
    return f"chronos-schedule/{schedule}"


def target(cluster: str, task_definition: str, **ecs_parameters) -> dict:
    return {
        "Arn": e2e.cluster_arn(cluster),
        "RoleArn": ROLE,
        "EcsParameters": {"TaskDefinitionArn": task_definition, "TaskCount": 1, **ecs_parameters},
    }


def schedule_tasks(ecs, cluster: str, schedule: str) -> list[dict]:
    arns = ecs.list_tasks(cluster=cluster, startedBy=started_by(schedule))["taskArns"]
    return ecs.describe_tasks(cluster=cluster, tasks=arns, include=["TAGS"])["tasks"] if arns else []


def error_of(call, **kwargs) -> tuple[str, int, str]:
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        call(**kwargs)
    response = raised.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Message"]


def test_the_scheduler_wire_types_come_from_the_pinned_model():
    generated = (e2e.REPO_ROOT / "crates/berth-eventbridge-scheduler-wire/src/shapes.rs").read_text()
    assert f"from botocore {botocore.__version__}." in generated.splitlines()[0]
    model = botocore.session.get_session().get_service_model("scheduler")
    assert model.metadata["protocol"] == "rest-json" and model.signing_name == "scheduler"
    for operation in model.operation_names:
        assert f'operation: "{operation}"' in generated, f"{operation} has no route"


def test_every_operation_answers_in_the_model_shape(scheduler, cluster, sleeper):
    group = e2e.unique_name("group")
    group_arn = scheduler.create_schedule_group(Name=group, Tags=[{"Key": "team", "Value": "infra"}])[
        "ScheduleGroupArn"]
    assert group_arn == f"arn:aws:scheduler:{e2e.REGION}:{e2e.ACCOUNT}:schedule-group/{group}"
    assert scheduler.get_schedule_group(Name=group)["State"] == "ACTIVE"
    groups = [g["Name"] for g in scheduler.list_schedule_groups(NamePrefix=group)["ScheduleGroups"]]
    assert groups == [group]
    assert "default" in [g["Name"] for g in scheduler.list_schedule_groups()["ScheduleGroups"]]
    scheduler.tag_resource(ResourceArn=group_arn, Tags=[{"Key": "env", "Value": "test"}])
    scheduler.untag_resource(ResourceArn=group_arn, TagKeys=["team"])
    assert scheduler.list_tags_for_resource(ResourceArn=group_arn)["Tags"] == [{"Key": "env", "Value": "test"}]

    start = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)
    created = scheduler.create_schedule(
        Name="weekly", GroupName=group, ScheduleExpression="cron(30 9 ? * MON *)",
        ScheduleExpressionTimezone="Europe/Paris", StartDate=start, State="DISABLED",
        Description="every Monday morning in Paris",
        FlexibleTimeWindow={"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 10},
        Target={**target(cluster, sleeper, Group="weekly", PlacementStrategy=[{"type": "binpack", "field": "memory"}]),
                "RetryPolicy": {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 600},
                "Input": json.dumps({"containerOverrides": [{"name": "main", "command": ["sleep", "1"]}]})},
        ClientToken="create-weekly-1",
    )
    again = scheduler.create_schedule(
        Name="weekly", GroupName=group, ScheduleExpression="cron(30 9 ? * MON *)",
        FlexibleTimeWindow={"Mode": "OFF"}, Target=target(cluster, sleeper), ClientToken="create-weekly-1")
    assert again["ScheduleArn"] == created["ScheduleArn"], "a repeated client token answers the same schedule"
    got = scheduler.get_schedule(Name="weekly", GroupName=group)
    assert got["ScheduleExpressionTimezone"] == "Europe/Paris"
    assert got["FlexibleTimeWindow"] == {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 10}
    assert got["Target"]["EcsParameters"]["Group"] == "weekly"
    assert abs(got["StartDate"].timestamp() - start.timestamp()) < 1

    # UpdateSchedule replaces the whole schedule: what it leaves out takes its default.
    scheduler.update_schedule(Name="weekly", GroupName=group, ScheduleExpression="rate(7 days)",
                              State="DISABLED", FlexibleTimeWindow={"Mode": "OFF"}, Target=target(cluster, sleeper))
    got = scheduler.get_schedule(Name="weekly", GroupName=group)
    assert (got["ScheduleExpression"], got["ScheduleExpressionTimezone"]) == ("rate(7 days)", "UTC")
    assert "Description" not in got and "StartDate" not in got

    for name in ("a", "b", "c"):
        scheduler.create_schedule(Name=name, GroupName=group, ScheduleExpression="rate(1 hour)", State="DISABLED",
                                  FlexibleTimeWindow={"Mode": "OFF"}, Target=target(cluster, sleeper))
    page = scheduler.list_schedules(GroupName=group, MaxResults=2)
    assert [s["Name"] for s in page["Schedules"]] == ["a", "b"]
    rest = scheduler.list_schedules(GroupName=group, MaxResults=2, NextToken=page["NextToken"])
    assert [s["Name"] for s in rest["Schedules"]] == ["c", "weekly"]
    assert [s["Name"] for s in scheduler.list_schedules(GroupName=group, NamePrefix="we")["Schedules"]] == ["weekly"]
    assert scheduler.list_schedules(GroupName=group, State="ENABLED")["Schedules"] == []
    scheduler.delete_schedule(Name="a", GroupName=group)

    scheduler.delete_schedule_group(Name=group)
    code, status, _ = error_of(scheduler.get_schedule_group, Name=group)
    assert (code, status) == ("ResourceNotFoundException", 404)
    code, status, _ = error_of(scheduler.get_schedule, Name="b", GroupName=group)
    assert (code, status) == ("ResourceNotFoundException", 404), "a group's schedules go with it"


def test_errors_carry_the_model_codes_and_statuses(scheduler, cluster, sleeper):
    name = e2e.unique_name("errors")[-40:]
    scheduler.create_schedule(Name=name, ScheduleExpression="rate(1 hour)", State="DISABLED",
                              FlexibleTimeWindow={"Mode": "OFF"}, Target=target(cluster, sleeper))
    try:
        code, status, _ = error_of(scheduler.create_schedule, Name=name, ScheduleExpression="rate(1 hour)",
                                   FlexibleTimeWindow={"Mode": "OFF"}, Target=target(cluster, sleeper))
        assert (code, status) == ("ConflictException", 409)
        code, status, message = error_of(scheduler.create_schedule, Name=name + "x", ScheduleExpression="rate(1 minutes)",
                                         FlexibleTimeWindow={"Mode": "OFF"}, Target=target(cluster, sleeper))
        assert (code, status) == ("ValidationException", 400) and "Invalid Schedule Expression" in message
        lambda_target = {"Arn": f"arn:aws:lambda:{e2e.REGION}:{e2e.ACCOUNT}:function:f", "RoleArn": ROLE}
        code, status, message = error_of(scheduler.create_schedule, Name=name + "x", ScheduleExpression="rate(1 hour)",
                                         FlexibleTimeWindow={"Mode": "OFF"}, Target=lambda_target)
        assert (code, status) == ("ValidationException", 400) and "Berth runs ECS targets only" in message
        code, _, message = error_of(scheduler.create_schedule, Name=name + "x", ScheduleExpression="rate(1 hour)",
                                    ScheduleExpressionTimezone="Mars/Olympus", FlexibleTimeWindow={"Mode": "OFF"},
                                    Target=target(cluster, sleeper))
        assert code == "ValidationException" and "ScheduleExpressionTimezone" in message
        code, _, message = error_of(scheduler.create_schedule, Name=name + "x", ScheduleExpression="rate(1 hour)",
                                    FlexibleTimeWindow={"Mode": "FLEXIBLE"}, Target=target(cluster, sleeper))
        assert code == "ValidationException" and "MaximumWindowInMinutes" in message
        code, status, _ = error_of(scheduler.create_schedule, Name=name + "x", GroupName="no-such-group",
                                   ScheduleExpression="rate(1 hour)", FlexibleTimeWindow={"Mode": "OFF"},
                                   Target=target(cluster, sleeper))
        assert (code, status) == ("ResourceNotFoundException", 404)
        code, status, _ = error_of(scheduler.update_schedule, Name=name + "x", ScheduleExpression="rate(1 hour)",
                                   FlexibleTimeWindow={"Mode": "OFF"}, Target=target(cluster, sleeper))
        assert (code, status) == ("ResourceNotFoundException", 404)
        code, status, _ = error_of(scheduler.delete_schedule_group, Name="default")
        assert (code, status) == ("ValidationException", 400)
        # Nothing a refused request named was made.
        names = [s["Name"] for s in scheduler.list_schedules(NamePrefix=name)["Schedules"]]
        assert names == [name]
    finally:
        scheduler.delete_schedule(Name=name)


def test_the_aws_cli_drives_schedules(berth, cluster, sleeper, tmp_path):
    aws = e2e.AwsCli(berth.url, tmp_path, service="scheduler")
    name = e2e.unique_name("cli")[-40:]
    target_file = aws.write_json("target.json", target(cluster, sleeper))
    created = aws("create-schedule", "--name", name, "--schedule-expression", "cron(0 8 ? * MON-FRI *)",
                  "--schedule-expression-timezone", "America/New_York", "--state", "DISABLED",
                  "--flexible-time-window", "Mode=OFF", "--target", target_file)
    assert created["ScheduleArn"].endswith(f":schedule/default/{name}")
    got = aws("get-schedule", "--name", name)
    assert got["ScheduleExpressionTimezone"] == "America/New_York"
    assert name in [s["Name"] for s in aws("list-schedules", "--name-prefix", name)["Schedules"]]
    failed = aws.fails("get-schedule", "--name", name + "-missing")
    assert "ResourceNotFoundException" in failed.stderr
    aws("delete-schedule", "--name", name)
    assert aws("list-schedules", "--name-prefix", name)["Schedules"] == []


def test_a_one_time_schedule_runs_once_and_deletes_itself(scheduler, ecs, cluster, sleeper, stop_schedule_tasks):
    name = e2e.unique_name("once")[-40:]
    stop_schedule_tasks.append(name)
    # at() has whole seconds and, without a time zone, is UTC; a few seconds ahead.
    at = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=4)).strftime("%Y-%m-%dT%H:%M:%S")
    scheduler.create_schedule(Name=name, ScheduleExpression=f"at({at})", ActionAfterCompletion="DELETE",
                              FlexibleTimeWindow={"Mode": "OFF"},
                              Target=target(cluster, sleeper, Tags=[{"schedule": name}], Group="one-time",
                                            EnableECSManagedTags=True))

    def gone() -> bool:
        try:
            scheduler.get_schedule(Name=name)
            return False
        except scheduler.exceptions.ResourceNotFoundException:
            return True

    e2e.wait_until(gone, timeout=90, what="the one-time schedule to fire and delete itself")
    tasks = schedule_tasks(ecs, cluster, name)
    assert len(tasks) == 1, tasks
    assert tasks[0]["group"] == "one-time"
    assert {"key": "schedule", "value": name} in tasks[0].get("tags", [])
    assert {"key": "aws:ecs:clusterName", "value": cluster} in tasks[0].get("tags", [])


def test_rate_and_cron_schedules_run_exactly_once_per_firing_across_a_kill_9(
        berth, scheduler, ecs, cluster, sleeper, stop_schedule_tasks):
    rate_name = e2e.unique_name("rate")[-40:]
    cron_name = e2e.unique_name("cron")[-40:]
    stop_schedule_tasks.extend([rate_name, cron_name])
    # Without a StartDate a rate schedule fires at once, then every minute; the cron one at the
    # top of every minute, read in a time zone whose offset from UTC has half hours.
    created_at = time.time()
    scheduler.create_schedule(Name=rate_name, ScheduleExpression="rate(1 minute)",
                              FlexibleTimeWindow={"Mode": "OFF"}, Target=target(cluster, sleeper))
    scheduler.create_schedule(Name=cron_name, ScheduleExpression="cron(* * * * ? *)",
                              ScheduleExpressionTimezone="Asia/Kolkata",
                              FlexibleTimeWindow={"Mode": "OFF"}, Target=target(cluster, sleeper))

    def count(name: str) -> int:
        return len(ecs.list_tasks(cluster=cluster, startedBy=started_by(name))["taskArns"])

    e2e.wait_until(lambda: count(rate_name), lambda n: n >= 1, timeout=60, interval=0.2,
                   what="the rate schedule's first firing")
    # Right after the second firing's RunTask, before its firing record may be written.
    e2e.wait_until(lambda: count(rate_name), lambda n: n >= 2, timeout=90, interval=0.1,
                   what="the rate schedule's second firing")
    berth.process.kill(signal.SIGKILL)
    berth.process.restart()
    berth.wait_ready()
    e2e.wait_for_instances(ecs, cluster, 1)
    assert count(rate_name) == 2, "the firing under way at the kill ran again after the restart"

    e2e.wait_until(lambda: count(rate_name), lambda n: n >= 3, timeout=90, interval=0.2,
                   what="the rate schedule's third firing, after the restart")
    rate_tasks = schedule_tasks(ecs, cluster, rate_name)
    elapsed = time.time() - created_at
    # One task per firing: at creation, then each minute since (a firing falling due within
    # the last two seconds may not be listed yet).
    allowed = {int(max(elapsed - 2, 0) // 60) + 1, int(elapsed // 60) + 1}
    assert len(rate_tasks) in allowed, (elapsed, [t["createdAt"] for t in rate_tasks])
    created = sorted(task["createdAt"].timestamp() for task in rate_tasks)
    gaps = [later - earlier for earlier, later in zip(created, created[1:])]
    assert all(50 < gap < 70 for gap in gaps), gaps

    cron_tasks = schedule_tasks(ecs, cluster, cron_name)
    minutes = [int(task["createdAt"].timestamp() // 60) for task in cron_tasks]
    assert len(cron_tasks) >= 2, minutes
    assert len(set(minutes)) == len(minutes), f"a minute ran the cron schedule twice: {minutes}"
    for task in cron_tasks:
        assert task["createdAt"].second < 30, "the cron schedule fires at the top of each minute"

    scheduler.delete_schedule(Name=rate_name)
    scheduler.delete_schedule(Name=cron_name)
