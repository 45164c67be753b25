"""ECS deployment alarms (`deploymentConfiguration.alarms`) against Berth's own CloudWatch alarms:
an alarm going into ALARM while a rolling deployment is in progress fails it and, with
`rollback`, puts the service back on its last completed task definition; an alarm that was
already in ALARM before the deployment began fails nothing. The alarm is moved with
SetAlarmState, as a user (or a metric) would move it; every wait is a bounded poll."""

from __future__ import annotations

import pytest

import berth_e2e as e2e

pytestmark = pytest.mark.docker

# Long enough that a deployment is still in progress when the test moves its alarm, short
# enough that the first deployment completes quickly.
BERTH_UP_EXTRA = ["--service-settle-time", "15s", "--service-throttle-delay", "1s"]


def register(ecs, family: str, command: list[str]) -> str:
    container = {"name": "main", "image": e2e.TEST_IMAGE, "essential": True, "memory": 32,
                 "command": command, "stopTimeout": 2}
    return ecs.register_task_definition(family=family, containerDefinitions=[container])["taskDefinition"][
        "taskDefinitionArn"]


def primary(ecs, cluster: str, name: str) -> dict:
    service = ecs.describe_services(cluster=cluster, services=[name])["services"][0]
    return next(deployment for deployment in service["deployments"] if deployment["status"] == "PRIMARY")


def alarm(cloudwatch, name: str) -> None:
    cloudwatch.put_metric_alarm(AlarmName=name, Namespace="Shop", MetricName="Errors", Statistic="Sum", Period=60,
                                EvaluationPeriods=1, Threshold=1.0, ComparisonOperator="GreaterThanThreshold",
                                TreatMissingData="ignore")


def test_an_alarm_firing_mid_deployment_rolls_the_service_back(berth, ecs, cluster, services):
    cloudwatch = e2e.aws_client("cloudwatch", berth.url)
    name = e2e.unique_name("alarmed")
    alarm(cloudwatch, f"{name}-errors")
    good = register(ecs, name, ["sleep", "3600"])
    bad = register(ecs, name, ["sleep", "3601"])
    ecs.create_service(cluster=cluster, serviceName=name, taskDefinition=good, desiredCount=1,
                       deploymentConfiguration={
                           "alarms": {"alarmNames": [f"{name}-errors"], "enable": True, "rollback": True}})
    services.append(name)
    described = ecs.describe_services(cluster=cluster, services=[name])["services"][0]
    assert described["deploymentConfiguration"]["alarms"] == {
        "alarmNames": [f"{name}-errors"], "enable": True, "rollback": True}
    e2e.wait_service_steady(ecs, cluster, name, 1, good)

    ecs.update_service(cluster=cluster, service=name, taskDefinition=bad)
    cloudwatch.set_alarm_state(AlarmName=f"{name}-errors", StateValue="ALARM", StateReason="errors after the deploy")
    rollback = e2e.wait_until(lambda: primary(ecs, cluster, name),
                              lambda deployment: deployment["taskDefinition"] == good, timeout=120,
                              what="a rollback deployment back to the first task definition")
    assert rollback["rolloutStateReason"].startswith("ECS deployment alarms: rolling back to deploymentId"), rollback
    events = [event["message"] for event in ecs.describe_services(cluster=cluster, services=[name])["services"][0]["events"]]
    assert any("deployment failed" in message for message in events), events
    # The alarm is still in ALARM: the rollback is not failed by it, and completes.
    e2e.wait_service_steady(ecs, cluster, name, 1, good)
    assert primary(ecs, cluster, name)["rolloutState"] == "COMPLETED"
    # The service deployment says which alarm rolled it back.
    arns = [brief["serviceDeploymentArn"] for brief in
            ecs.list_service_deployments(cluster=cluster, service=name)["serviceDeployments"]]
    deployments = ecs.describe_service_deployments(serviceDeploymentArns=arns)["serviceDeployments"]
    failed = next(deployment for deployment in deployments if deployment.get("rollback"))
    assert failed["alarms"] == {"status": "TRIGGERED", "alarmNames": [f"{name}-errors"],
                                "triggeredAlarmNames": [f"{name}-errors"]}, failed["alarms"]
    assert "deployment alarm" in failed["rollback"]["reason"], failed["rollback"]
    first = min(deployments, key=lambda deployment: deployment["createdAt"])
    assert first["alarms"]["status"] == "MONITORING_COMPLETE", first["alarms"]


def test_an_alarm_already_in_alarm_fails_nothing(berth, ecs, cluster, services):
    cloudwatch = e2e.aws_client("cloudwatch", berth.url)
    name = e2e.unique_name("prealarmed")
    alarm(cloudwatch, f"{name}-errors")
    cloudwatch.set_alarm_state(AlarmName=f"{name}-errors", StateValue="ALARM", StateReason="long before")
    arn = register(ecs, name, ["sleep", "3600"])
    ecs.create_service(cluster=cluster, serviceName=name, taskDefinition=arn, desiredCount=1,
                       deploymentConfiguration={
                           "alarms": {"alarmNames": [f"{name}-errors"], "enable": True, "rollback": False}})
    services.append(name)
    e2e.wait_service_steady(ecs, cluster, name, 1, arn)
    assert primary(ecs, cluster, name)["rolloutState"] == "COMPLETED"


def test_deployment_alarms_are_checked(ecs, cluster):
    arn = register(ecs, e2e.unique_name("refused"), ["sleep", "3600"])
    with pytest.raises(ecs.exceptions.InvalidParameterException) as caught:
        ecs.create_service(cluster=cluster, serviceName=e2e.unique_name("refused"), taskDefinition=arn,
                           desiredCount=1, deploymentConfiguration={
                               "alarms": {"alarmNames": [f"a{n}" for n in range(11)], "enable": True,
                                          "rollback": True}})
    assert "deploymentConfiguration.alarms.alarmNames" in str(caught.value)
