"""Application Auto Scaling for ECS services through the real aws CLI and boto3, on real Docker:
every answer parses (boto3's strict shape validator and the CLI), refusals carry the model's
error codes and change nothing, a target tracking policy on a custom metric fed by PutMetricData
scales a real service out and back in through the two CloudWatch alarms it owns (visible in
DescribeAlarms, gone with the policy), a step policy on a user's alarm moves desiredCount as its
step table says, a scheduled action raising MinCapacity raises desiredCount, and targets and
policies survive a kill -9 of the server. Every wait is a bounded poll.

The owned alarms' period is shortened to 10 s (`--autoscaling-alarm-period 10`) so that the
scale-out alarm (3 periods) and the scale-in alarm (15 periods) move within minutes; the metrics
are put at high resolution so that each 10 s period has its own datapoint."""

from __future__ import annotations

import datetime
import signal

import botocore
import botocore.session
import pytest

import berth_e2e as e2e

pytestmark = pytest.mark.docker

BERTH_UP_EXTRA = ["--service-settle-time", "2s", "--autoscaling-alarm-period", "10"]

DIMENSION = "ecs:service:DesiredCount"
UTC = datetime.timezone.utc


@pytest.fixture(scope="module")
def scaling(berth):
    return e2e.aws_client("application-autoscaling", berth.url)


@pytest.fixture(scope="module")
def cloudwatch(berth):
    return e2e.aws_client("cloudwatch", berth.url)


@pytest.fixture(scope="module")
def cli(berth, tmp_path_factory):
    return e2e.AwsCli(berth.url, tmp_path_factory.mktemp("aws-autoscaling"), service="application-autoscaling")


def start_service(ecs, cluster: str, services: list[str], desired: int = 1, command=None) -> str:
    """A busybox service of `desired` tasks; returns its ResourceId."""
    name = e2e.unique_name("scaled")
    definition = e2e.busybox_task_definition(name, command or ["sleep", "3600"], memory=16)
    arn = ecs.register_task_definition(**definition)["taskDefinition"]["taskDefinitionArn"]
    ecs.create_service(cluster=cluster, serviceName=name, taskDefinition=arn, desiredCount=desired)
    services.append(name)
    return f"service/{cluster}/{name}"


def service_of(ecs, resource_id: str) -> dict:
    _, cluster, name = resource_id.split("/")
    return e2e.describe_service(ecs, cluster, name)


def desired_count(ecs, resource_id: str) -> int:
    return service_of(ecs, resource_id)["desiredCount"]


def register(scaling, resource_id: str, minimum: int, maximum: int, **extra) -> str:
    return scaling.register_scalable_target(ServiceNamespace="ecs", ResourceId=resource_id,
                                            ScalableDimension=DIMENSION, MinCapacity=minimum,
                                            MaxCapacity=maximum, **extra)["ScalableTargetARN"]


def activities(scaling, resource_id: str) -> list[dict]:
    return scaling.describe_scaling_activities(ServiceNamespace="ecs", ResourceId=resource_id,
                                               ScalableDimension=DIMENSION)["ScalingActivities"]


def put_metric(cloudwatch, namespace: str, name: str, value: float) -> None:
    # High resolution, so each 10-second period of the alarms has its own datapoint.
    cloudwatch.put_metric_data(Namespace=namespace, MetricData=[
        {"MetricName": name, "Value": value, "StorageResolution": 1, "Unit": "Count"}])


# Every operation of the model but predictive scaling's forecast.
SERVED = {
    "RegisterScalableTarget", "DescribeScalableTargets", "DeregisterScalableTarget", "PutScalingPolicy",
    "DescribeScalingPolicies", "DeleteScalingPolicy", "DescribeScalingActivities", "PutScheduledAction",
    "DescribeScheduledActions", "DeleteScheduledAction", "TagResource", "UntagResource", "ListTagsForResource",
}


def test_the_wire_types_come_from_the_pinned_model_and_every_other_operation_is_served(berth):
    generated = (e2e.REPO_ROOT / "crates/berth-autoscaling-wire/src/shapes.rs").read_text().splitlines()[0]
    assert f"from botocore {botocore.__version__}." in generated, (generated, botocore.__version__)
    served = set()
    for operation in botocore.session.get_session().get_service_model("application-autoscaling").operation_names:
        status, body, raw = e2e.raw_call(berth.url, None, {}, target=f"AnyScaleFrontendService.{operation}")
        assert status < 500 and isinstance(body, dict), f"{operation} answered {status}: {raw[:300]!r}"
        if "is not supported by this Berth version" not in body.get("message", ""):
            served.add(operation)
    assert served == SERVED, (sorted(served - SERVED), sorted(SERVED - served))


def test_every_operation_answers_the_cli_and_boto3(berth, ecs, cluster, services, scaling, cloudwatch, cli):
    resource_id = start_service(ecs, cluster, services)
    registered = cli("register-scalable-target", "--service-namespace", "ecs", "--resource-id", resource_id,
                     "--scalable-dimension", DIMENSION, "--min-capacity", "1", "--max-capacity", "3",
                     "--tags", "team=web")
    arn = registered["ScalableTargetARN"]
    assert arn.startswith("arn:aws:application-autoscaling:"), registered
    targets = cli("describe-scalable-targets", "--service-namespace", "ecs", "--resource-ids", resource_id)
    target = targets["ScalableTargets"][0]
    assert (target["MinCapacity"], target["MaxCapacity"], target["ScalableTargetARN"]) == (1, 3, arn), target
    assert target["SuspendedState"] == {"DynamicScalingInSuspended": False, "DynamicScalingOutSuspended": False,
                                        "ScheduledScalingSuspended": False}, target
    # A second call updates; SuspendedState is kept member by member.
    scaling.register_scalable_target(ServiceNamespace="ecs", ResourceId=resource_id, ScalableDimension=DIMENSION,
                                     MaxCapacity=5, SuspendedState={"ScheduledScalingSuspended": True})
    target = scaling.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=[resource_id])["ScalableTargets"][0]
    assert (target["MinCapacity"], target["MaxCapacity"]) == (1, 5), target
    assert target["SuspendedState"]["ScheduledScalingSuspended"] is True, target

    step = {"AdjustmentType": "ChangeInCapacity", "Cooldown": 60, "MetricAggregationType": "Maximum",
            "StepAdjustments": [{"MetricIntervalLowerBound": 0, "ScalingAdjustment": 1}]}
    policy = cli("put-scaling-policy", "--policy-name", "cpu-step", "--service-namespace", "ecs",
                 "--resource-id", resource_id, "--scalable-dimension", DIMENSION, "--policy-type", "StepScaling",
                 "--step-scaling-policy-configuration", cli.write_json("step.json", step))
    assert f":scalingPolicy:" in policy["PolicyARN"], policy
    assert policy["PolicyARN"].endswith(f":resource/ecs/{resource_id}:policyName/cpu-step"), policy
    tracking = {"TargetValue": 60.0, "ScaleOutCooldown": 30, "ScaleInCooldown": 90,
                "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"}}
    tracked = scaling.put_scaling_policy(PolicyName="cpu60", ServiceNamespace="ecs", ResourceId=resource_id,
                                         ScalableDimension=DIMENSION, PolicyType="TargetTrackingScaling",
                                         TargetTrackingScalingPolicyConfiguration=tracking)
    assert len(tracked["Alarms"]) == 2, tracked
    owned = cloudwatch.describe_alarms(AlarmNames=[alarm["AlarmName"] for alarm in tracked["Alarms"]])["MetricAlarms"]
    # Berth's AWS/ECS utilization is a minute apart, so its alarms keep a minute's period.
    assert {(alarm["Namespace"], alarm["MetricName"], alarm["Period"]) for alarm in owned} == {
        ("AWS/ECS", "CPUUtilization", 60)}, owned
    assert {(d["Name"], d["Value"]) for d in owned[0]["Dimensions"]} == {
        ("ClusterName", cluster), ("ServiceName", resource_id.split("/")[2])}, owned
    described = cli("describe-scaling-policies", "--service-namespace", "ecs", "--resource-id", resource_id)
    by_name = {policy["PolicyName"]: policy for policy in described["ScalingPolicies"]}
    assert by_name["cpu-step"]["StepScalingPolicyConfiguration"] == step, by_name["cpu-step"]
    assert by_name["cpu60"]["TargetTrackingScalingPolicyConfiguration"] == {**tracking, "DisableScaleIn": False}
    assert by_name["cpu60"]["Alarms"] == tracked["Alarms"]
    paged = scaling.describe_scaling_policies(ServiceNamespace="ecs", ResourceId=resource_id, MaxResults=1)
    assert len(paged["ScalingPolicies"]) == 1 and paged["NextToken"], paged
    rest = scaling.describe_scaling_policies(ServiceNamespace="ecs", ResourceId=resource_id,
                                             NextToken=paged["NextToken"])
    assert {p["PolicyName"] for p in paged["ScalingPolicies"] + rest["ScalingPolicies"]} == {"cpu-step", "cpu60"}
    every = scaling.get_paginator("describe_scaling_policies").paginate(
        ServiceNamespace="ecs", PaginationConfig={"PageSize": 1}).build_full_result()
    assert {"cpu-step", "cpu60"} <= {p["PolicyName"] for p in every["ScalingPolicies"]}

    cli("put-scheduled-action", "--service-namespace", "ecs", "--resource-id", resource_id,
        "--scalable-dimension", DIMENSION, "--scheduled-action-name", "weekday-mornings",
        "--schedule", "cron(0 8 ? * MON-FRI *)", "--timezone", "Europe/Paris",
        "--scalable-target-action", "MinCapacity=2,MaxCapacity=4")
    actions = cli("describe-scheduled-actions", "--service-namespace", "ecs", "--resource-id", resource_id)
    action = actions["ScheduledActions"][0]
    assert (action["Schedule"], action["Timezone"], action["ScalableTargetAction"]) == (
        "cron(0 8 ? * MON-FRI *)", "Europe/Paris", {"MinCapacity": 2, "MaxCapacity": 4}), action
    assert ":scheduledAction:" in action["ScheduledActionARN"], action

    assert cli("list-tags-for-resource", "--resource-arn", arn)["Tags"] == {"team": "web"}
    scaling.tag_resource(ResourceARN=arn, Tags={"env": "test"})
    scaling.untag_resource(ResourceARN=arn, TagKeys=["team"])
    assert scaling.list_tags_for_resource(ResourceARN=arn)["Tags"] == {"env": "test"}
    assert cli("describe-scaling-activities", "--service-namespace", "ecs",
               "--resource-id", resource_id)["ScalingActivities"] == []

    cli("delete-scheduled-action", "--service-namespace", "ecs", "--resource-id", resource_id,
        "--scalable-dimension", DIMENSION, "--scheduled-action-name", "weekday-mornings")
    cli("delete-scaling-policy", "--service-namespace", "ecs", "--resource-id", resource_id,
        "--scalable-dimension", DIMENSION, "--policy-name", "cpu-step")
    cli("deregister-scalable-target", "--service-namespace", "ecs", "--resource-id", resource_id,
        "--scalable-dimension", DIMENSION)
    assert scaling.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=[resource_id])["ScalableTargets"] == []
    assert scaling.describe_scaling_policies(ServiceNamespace="ecs", ResourceId=resource_id)["ScalingPolicies"] == []


def test_refusals_carry_the_models_codes_and_change_nothing(berth, ecs, cluster, services, scaling, cli):
    resource_id = start_service(ecs, cluster, services)
    with pytest.raises(scaling.exceptions.ValidationException) as caught:
        scaling.register_scalable_target(ServiceNamespace="dynamodb", ResourceId="table/orders",
                                         ScalableDimension="dynamodb:table:ReadCapacityUnits",
                                         MinCapacity=1, MaxCapacity=5)
    assert "ServiceNamespace" in str(caught.value)
    with pytest.raises(scaling.exceptions.ValidationException) as caught:
        register(scaling, f"service/{cluster}/no-such-service", 1, 2)
    assert "no-such-service" in str(caught.value)
    with pytest.raises(scaling.exceptions.ValidationException) as caught:
        register(scaling, resource_id, 5, 2)
    assert "MinCapacity" in str(caught.value)
    failed = cli.fails("register-scalable-target", "--service-namespace", "ecs", "--resource-id", "cluster/nope",
                       "--scalable-dimension", DIMENSION, "--min-capacity", "1", "--max-capacity", "2")
    assert "ValidationException" in failed.stderr and "ResourceId" in failed.stderr, failed.stderr
    assert scaling.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=[resource_id])["ScalableTargets"] == []

    with pytest.raises(scaling.exceptions.ObjectNotFoundException):
        scaling.deregister_scalable_target(ServiceNamespace="ecs", ResourceId=resource_id, ScalableDimension=DIMENSION)
    with pytest.raises(scaling.exceptions.ObjectNotFoundException) as caught:
        scaling.put_scaling_policy(PolicyName="p", ServiceNamespace="ecs", ResourceId=resource_id,
                                   ScalableDimension=DIMENSION, PolicyType="StepScaling",
                                   StepScalingPolicyConfiguration={"AdjustmentType": "ChangeInCapacity",
                                                                   "StepAdjustments": [
                                                                       {"MetricIntervalLowerBound": 0,
                                                                        "ScalingAdjustment": 1}]})
    assert "No scalable target registered" in str(caught.value)

    register(scaling, resource_id, 1, 3)
    gapped = {"AdjustmentType": "ChangeInCapacity", "StepAdjustments": [
        {"MetricIntervalLowerBound": 0, "MetricIntervalUpperBound": 10, "ScalingAdjustment": 1},
        {"MetricIntervalLowerBound": 20, "ScalingAdjustment": 2}]}
    with pytest.raises(scaling.exceptions.ValidationException) as caught:
        scaling.put_scaling_policy(PolicyName="gapped", ServiceNamespace="ecs", ResourceId=resource_id,
                                   ScalableDimension=DIMENSION, StepScalingPolicyConfiguration=gapped)
    assert "gap" in str(caught.value)
    with pytest.raises(scaling.exceptions.ValidationException) as caught:
        scaling.put_scaling_policy(PolicyName="both", ServiceNamespace="ecs", ResourceId=resource_id,
                                   ScalableDimension=DIMENSION, PolicyType="TargetTrackingScaling",
                                   TargetTrackingScalingPolicyConfiguration={
                                       "TargetValue": 50.0,
                                       "PredefinedMetricSpecification": {
                                           "PredefinedMetricType": "DynamoDBReadCapacityUtilization"}})
    assert "PredefinedMetricType" in str(caught.value)
    with pytest.raises(scaling.exceptions.ValidationException) as caught:
        scaling.put_scheduled_action(ServiceNamespace="ecs", ResourceId=resource_id, ScalableDimension=DIMENSION,
                                     ScheduledActionName="bad", Schedule="cron(0 8 * * * *)",
                                     ScalableTargetAction={"MinCapacity": 1})
    assert "day-of-week" in str(caught.value)
    with pytest.raises(scaling.exceptions.ValidationException) as caught:
        scaling.put_scheduled_action(ServiceNamespace="ecs", ResourceId=resource_id, ScalableDimension=DIMENSION,
                                     ScheduledActionName="bad", Schedule="cron(0 8 ? * MON *)",
                                     Timezone="Mars/Olympus_Mons", ScalableTargetAction={"MinCapacity": 1})
    assert "Mars/Olympus_Mons" in str(caught.value)
    assert scaling.describe_scaling_policies(ServiceNamespace="ecs", ResourceId=resource_id)["ScalingPolicies"] == []
    assert scaling.describe_scheduled_actions(ServiceNamespace="ecs",
                                              ResourceId=resource_id)["ScheduledActions"] == []

    with pytest.raises(scaling.exceptions.ObjectNotFoundException):
        scaling.delete_scaling_policy(PolicyName="nope", ServiceNamespace="ecs", ResourceId=resource_id,
                                      ScalableDimension=DIMENSION)
    with pytest.raises(scaling.exceptions.ObjectNotFoundException):
        scaling.delete_scheduled_action(ScheduledActionName="nope", ServiceNamespace="ecs", ResourceId=resource_id,
                                        ScalableDimension=DIMENSION)
    with pytest.raises(scaling.exceptions.ResourceNotFoundException):
        scaling.list_tags_for_resource(
            ResourceARN="arn:aws:application-autoscaling:us-east-1:000000000000:scalable-target/0ecnothing")
    with pytest.raises(scaling.exceptions.InvalidNextTokenException):
        scaling.describe_scalable_targets(ServiceNamespace="ecs", NextToken="not-a-token")
    status, body, _ = e2e.raw_call(berth.url, None, b"{not json", target="AnyScaleFrontendService.DescribeScalableTargets")
    assert status == 400 and body["__type"] == "SerializationException", body
    status, body, _ = e2e.raw_call(berth.url, None, {"ServiceNamespace": "ecs"},
                                   target="AnyScaleFrontendService.RegisterScalableTarget")
    assert status == 400 and body["__type"] == "ValidationException" and "ResourceId" in body["message"], body


def test_target_tracking_on_a_custom_metric_scales_a_service_out_and_back_in(
        berth, ecs, cluster, services, scaling, cloudwatch):
    resource_id = start_service(ecs, cluster, services)
    namespace = e2e.unique_name("Queue")
    register(scaling, resource_id, 1, 4)
    policy = scaling.put_scaling_policy(
        PolicyName="backlog", ServiceNamespace="ecs", ResourceId=resource_id, ScalableDimension=DIMENSION,
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": 50.0, "ScaleOutCooldown": 5, "ScaleInCooldown": 5,
            "CustomizedMetricSpecification": {"Namespace": namespace, "MetricName": "BacklogPerTask",
                                              "Statistic": "Average"}})
    names = [alarm["AlarmName"] for alarm in policy["Alarms"]]
    high, low = names
    assert high.startswith(f"TargetTracking-{resource_id}-AlarmHigh-"), names
    assert low.startswith(f"TargetTracking-{resource_id}-AlarmLow-"), names
    alarms = {alarm["AlarmName"]: alarm for alarm in
              cloudwatch.describe_alarms(AlarmNamePrefix=f"TargetTracking-{resource_id}-")["MetricAlarms"]}
    assert set(alarms) == set(names), alarms
    assert (alarms[high]["EvaluationPeriods"], alarms[high]["Threshold"], alarms[high]["ComparisonOperator"]) == (
        3, 50.0, "GreaterThanThreshold"), alarms[high]
    assert (alarms[low]["EvaluationPeriods"], alarms[low]["Threshold"], alarms[low]["ComparisonOperator"]) == (
        15, 45.0, "LessThanThreshold"), alarms[low]
    assert alarms[high]["AlarmActions"] == [policy["PolicyARN"]], alarms[high]
    assert alarms[high]["Period"] == 10 and alarms[high]["Namespace"] == namespace, alarms[high]

    # A backlog of 150 per task against a target of 50: one task becomes ceil(1 × 150 / 50) = 3.
    def feed_high():
        put_metric(cloudwatch, namespace, "BacklogPerTask", 150.0)
        return desired_count(ecs, resource_id)

    e2e.wait_until(feed_high, lambda count: count >= 3, timeout=180, interval=2,
                   what="target tracking to scale the service out")
    # Real tasks follow. (After the cooldown the alarm, still in ALARM on the backlog measured
    # before the new tasks, may ask for the fourth and last task too.)
    e2e.wait_until(lambda: service_of(ecs, resource_id), lambda service: service["runningCount"] >= 3,
                   timeout=180, interval=1, what="the scaled-out tasks to run")
    scaled_out = activities(scaling, resource_id)[-1]
    assert scaled_out["Description"] == "Setting desired count to 3.", scaled_out
    assert scaled_out["Cause"] == f"monitor alarm {high} in state ALARM triggered policy backlog", scaled_out
    assert scaled_out["StatusCode"] == "Successful", scaled_out
    assert scaled_out["StatusMessage"] == \
        "Successfully set desired count to 3. Change successfully fulfilled by ecs.", scaled_out

    # The backlog drains: below 90 % of the target for 15 periods, then back to one task.
    def feed_low():
        put_metric(cloudwatch, namespace, "BacklogPerTask", 5.0)
        return desired_count(ecs, resource_id)

    e2e.wait_until(feed_low, lambda count: count == 1, timeout=420, interval=2,
                   what="target tracking to scale the service back in")
    _, _, name = resource_id.split("/")
    e2e.wait_service_running(ecs, cluster, name, 1, timeout=180)
    latest = activities(scaling, resource_id)[0]
    assert latest["Cause"] == f"monitor alarm {low} in state ALARM triggered policy backlog", latest

    scaling.delete_scaling_policy(PolicyName="backlog", ServiceNamespace="ecs", ResourceId=resource_id,
                                  ScalableDimension=DIMENSION)
    assert cloudwatch.describe_alarms(AlarmNames=names)["MetricAlarms"] == []


def test_step_scaling_on_a_user_alarm_follows_the_step_table(berth, ecs, cluster, services, scaling, cloudwatch):
    resource_id = start_service(ecs, cluster, services)
    namespace = e2e.unique_name("Jobs")
    register(scaling, resource_id, 1, 10)
    out = scaling.put_scaling_policy(
        PolicyName="jobs-out", ServiceNamespace="ecs", ResourceId=resource_id, ScalableDimension=DIMENSION,
        PolicyType="StepScaling",
        StepScalingPolicyConfiguration={"AdjustmentType": "ChangeInCapacity", "Cooldown": 600, "StepAdjustments": [
            {"MetricIntervalLowerBound": 0, "MetricIntervalUpperBound": 10, "ScalingAdjustment": 1},
            {"MetricIntervalLowerBound": 10, "ScalingAdjustment": 3}]})
    assert out["Alarms"] == [], out
    back = scaling.put_scaling_policy(
        PolicyName="jobs-in", ServiceNamespace="ecs", ResourceId=resource_id, ScalableDimension=DIMENSION,
        PolicyType="StepScaling",
        StepScalingPolicyConfiguration={"AdjustmentType": "ExactCapacity", "Cooldown": 600, "StepAdjustments": [
            {"MetricIntervalUpperBound": 0, "ScalingAdjustment": 2}]})

    def alarm(name: str, threshold: float, comparison: str, policy_arn: str) -> None:
        cloudwatch.put_metric_alarm(AlarmName=name, Namespace=namespace, MetricName="Pending", Statistic="Maximum",
                                    Period=10, EvaluationPeriods=1, Threshold=threshold,
                                    ComparisonOperator=comparison, AlarmActions=[policy_arn])

    alarm(f"{namespace}-high", 50.0, "GreaterThanOrEqualToThreshold", out["PolicyARN"])
    alarm(f"{namespace}-low", 20.0, "LessThanThreshold", back["PolicyARN"])
    described = scaling.describe_scaling_policies(ServiceNamespace="ecs", ResourceId=resource_id,
                                                  PolicyNames=["jobs-out"])["ScalingPolicies"][0]
    assert [alarm["AlarmName"] for alarm in described["Alarms"]] == [f"{namespace}-high"], described

    # 75 is 25 above the threshold of 50: the second step, +3.
    def feed(value: float):
        put_metric(cloudwatch, namespace, "Pending", value)
        return desired_count(ecs, resource_id)

    e2e.wait_until(lambda: feed(75.0), lambda count: count != 1, timeout=120, interval=2,
                   what="the step policy to scale out")
    assert desired_count(ecs, resource_id) == 4
    latest = activities(scaling, resource_id)[0]
    assert latest["Cause"] == f"monitor alarm {namespace}-high in state ALARM triggered policy jobs-out", latest
    # Below 20 the other alarm fires its ExactCapacity step: two tasks.
    e2e.wait_until(lambda: feed(5.0), lambda count: count != 4, timeout=120, interval=2,
                   what="the scale-in step policy to run")
    assert desired_count(ecs, resource_id) == 2
    _, _, name = resource_id.split("/")
    e2e.wait_service_running(ecs, cluster, name, 2, timeout=180)


def test_a_scheduled_action_raising_min_capacity_raises_the_desired_count(berth, ecs, cluster, services, scaling):
    resource_id = start_service(ecs, cluster, services)
    register(scaling, resource_id, 1, 5)
    when = (datetime.datetime.now(UTC) + datetime.timedelta(seconds=5)).strftime("%Y-%m-%dT%H:%M:%S")
    scaling.put_scheduled_action(ServiceNamespace="ecs", ResourceId=resource_id, ScalableDimension=DIMENSION,
                                 ScheduledActionName="rush", Schedule=f"at({when})",
                                 ScalableTargetAction={"MinCapacity": 3})
    e2e.wait_until(lambda: desired_count(ecs, resource_id), lambda count: count == 3, timeout=90, interval=1,
                   what="the scheduled action to raise the desired count")
    target = scaling.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=[resource_id])["ScalableTargets"][0]
    assert (target["MinCapacity"], target["MaxCapacity"]) == (3, 5), target
    latest = e2e.wait_until(lambda: activities(scaling, resource_id)[0],
                            lambda activity: activity["StatusCode"] == "Successful", timeout=30,
                            what="the scheduled scaling activity to finish")
    assert latest["Cause"] == "scheduled action name rush was triggered", latest
    assert latest["Description"] == "Setting desired count to 3.", latest
    _, _, name = resource_id.split("/")
    e2e.wait_service_running(ecs, cluster, name, 3, timeout=180)


def test_targets_and_policies_survive_a_kill_9(berth, ecs, cluster, services, scaling, cloudwatch):
    """Last in the module: it restarts the module's server."""
    resource_id = start_service(ecs, cluster, services)
    arn = register(scaling, resource_id, 1, 3)
    policy = scaling.put_scaling_policy(
        PolicyName="durable", ServiceNamespace="ecs", ResourceId=resource_id, ScalableDimension=DIMENSION,
        PolicyType="TargetTrackingScaling", TargetTrackingScalingPolicyConfiguration={
            "TargetValue": 70.0,
            "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageMemoryUtilization"}})
    berth.process.kill(signal.SIGKILL)
    berth.process.start()
    berth.wait_ready()
    scaling = e2e.aws_client("application-autoscaling", berth.url)
    target = scaling.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=[resource_id])["ScalableTargets"][0]
    assert target["ScalableTargetARN"] == arn
    kept = scaling.describe_scaling_policies(ServiceNamespace="ecs", ResourceId=resource_id)["ScalingPolicies"]
    assert [p["PolicyARN"] for p in kept] == [policy["PolicyARN"]]
    names = [alarm["AlarmName"] for alarm in policy["Alarms"]]
    assert len(cloudwatch.describe_alarms(AlarmNames=names)["MetricAlarms"]) == 2
