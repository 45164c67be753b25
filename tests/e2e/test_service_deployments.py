"""Service history through boto3 on the real Docker Engine: ListServiceDeployments,
DescribeServiceDeployments, DescribeServiceRevisions, StopServiceDeployment and
ContinueServiceDeployment over the deployments CreateService and UpdateService start — a
superseded deployment, a circuit-breaker rollback, a user's rollback of a slow deployment, the
errors ECS answers, and history that survives a `kill -9` of the server.

`berth up` runs with a short settle time and throttle delay, so rollouts finish in seconds.
"""

from __future__ import annotations

import datetime
import signal

import pytest
from botocore.exceptions import ClientError

import berth_e2e as e2e
from berth_e2e import ACCOUNT, REGION

pytestmark = pytest.mark.docker

BERTH_UP_EXTRA = ["--service-settle-time", "2s", "--service-throttle-delay", "1s"]


def sleeper(family: str, **extra) -> dict:
    return e2e.busybox_task_definition(family, ["sleep", "3600"], memory=16, **extra)


def register(ecs, definition: dict) -> str:
    return ecs.register_task_definition(**definition)["taskDefinition"]["taskDefinitionArn"]


def error_code(raised: pytest.ExceptionInfo) -> str:
    return raised.value.response["Error"]["Code"]


def history(ecs, cluster: str, name: str, **filters) -> list[dict]:
    """Every page of ListServiceDeployments."""
    briefs, token = [], None
    for _ in range(50):
        page = ecs.list_service_deployments(cluster=cluster, service=name, **filters,
                                            **({"nextToken": token} if token else {}))
        briefs.extend(page["serviceDeployments"])
        token = page.get("nextToken")
        if not token:
            return briefs
    raise AssertionError("ListServiceDeployments never stopped paging")


def describe_deployment(ecs, arn: str) -> dict:
    answer = ecs.describe_service_deployments(serviceDeploymentArns=[arn])
    assert answer["failures"] == [], answer
    return answer["serviceDeployments"][0]


def revision_definition(ecs, revision_arn: str) -> str:
    answer = ecs.describe_service_revisions(serviceRevisionArns=[revision_arn])
    assert answer["failures"] == [], answer
    return answer["serviceRevisions"][0]["taskDefinition"]


def wait_history_status(ecs, cluster: str, name: str, arn: str, status: str, timeout: float = 240) -> dict:
    return e2e.wait_until(lambda: describe_deployment(ecs, arn), lambda d: d["status"] == status,
                          timeout=timeout, interval=0.5, what=f"service deployment {arn} to be {status}")


# --------------------------------------------------------------------------------------------
# 1. Create, update twice: SUCCESSFUL, STOPPED (superseded), SUCCESSFUL


def test_history_of_a_service_updated_twice(ecs, cluster, services):
    family = e2e.unique_name("hist")
    first = register(ecs, sleeper(family))
    name = e2e.unique_name("histsvc")
    ecs.create_service(cluster=cluster, serviceName=name, taskDefinition=first, desiredCount=1)
    services.append(name)
    e2e.wait_service_steady(ecs, cluster, name, 1, first)

    second = register(ecs, sleeper(family, environment=[{"name": "REVISION", "value": "2"}]))
    third = register(ecs, sleeper(family, environment=[{"name": "REVISION", "value": "3"}]))
    ecs.update_service(cluster=cluster, service=name, taskDefinition=second)
    # The second deployment is replaced before it can finish.
    ecs.update_service(cluster=cluster, service=name, taskDefinition=third)
    e2e.wait_service_steady(ecs, cluster, name, 1, third)

    briefs = e2e.wait_until(lambda: history(ecs, cluster, name), lambda b: b and b[0]["status"] == "SUCCESSFUL",
                            timeout=60, interval=0.5, what="the newest deployment to be SUCCESSFUL")
    assert len(briefs) == 3, briefs
    definitions = [revision_definition(ecs, brief["targetServiceRevisionArn"]) for brief in briefs]
    assert definitions == [third, second, first], "newest first, each with the revision it deployed"
    assert [brief["status"] for brief in briefs] == ["SUCCESSFUL", "STOPPED", "SUCCESSFUL"], briefs
    prefix = f"arn:aws:ecs:{REGION}:{ACCOUNT}:service-deployment/{cluster}/{name}/"
    for brief in briefs:
        assert brief["serviceDeploymentArn"].startswith(prefix), brief
        assert brief["serviceArn"] == e2e.service_arn(cluster, name)
        assert brief["clusterArn"] == e2e.cluster_arn(cluster)
        assert brief["targetServiceRevisionArn"].startswith(
            f"arn:aws:ecs:{REGION}:{ACCOUNT}:service-revision/{cluster}/{name}/"), brief
    assert "superseded" in briefs[1]["statusReason"], briefs[1]

    newest, stopped, oldest = (b["serviceDeploymentArn"] for b in briefs)
    missing = prefix + "1234567890123456789"
    answer = ecs.describe_service_deployments(serviceDeploymentArns=[newest, stopped, oldest, missing])
    assert [f["arn"] for f in answer["failures"]] == [missing]
    assert answer["failures"][0]["reason"] == "MISSING"
    described = {d["serviceDeploymentArn"]: d for d in answer["serviceDeployments"]}
    assert set(described) == {newest, stopped, oldest}
    assert described[oldest]["sourceServiceRevisions"] == [], "CreateService has no source revision"
    assert described[oldest]["status"] == "SUCCESSFUL" and "finishedAt" in described[oldest]
    assert described[stopped]["status"] == "STOPPED" and "stoppedAt" in described[stopped]
    latest = described[newest]
    sources = {s["arn"] for s in latest["sourceServiceRevisions"]}
    assert described[stopped]["targetServiceRevision"]["arn"] in sources, latest
    assert latest["targetServiceRevision"]["runningTaskCount"] == 1, latest
    assert latest["deploymentCircuitBreaker"]["status"] == "DISABLED", latest
    assert latest["deploymentConfiguration"]["maximumPercent"] == 200
    assert latest["startedAt"] >= latest["createdAt"] and latest["finishedAt"] >= latest["startedAt"]

    revisions = ecs.describe_service_revisions(
        serviceRevisionArns=[latest["targetServiceRevision"]["arn"], missing.replace("deployment", "revision")])
    assert revisions["failures"][0]["reason"] == "MISSING"
    revision = revisions["serviceRevisions"][0]
    assert revision["taskDefinition"] == third
    assert revision["containerImages"] == [{"containerName": "main", "image": e2e.TEST_IMAGE}]
    assert revision["launchType"] == "EC2"

    # Filters and pages.
    assert [b["serviceDeploymentArn"] for b in history(ecs, cluster, name, status=["STOPPED"])] == [stopped]
    assert history(ecs, cluster, name, status=["STOP_REQUESTED"]) == []
    page = ecs.list_service_deployments(cluster=cluster, service=name, maxResults=2)
    assert len(page["serviceDeployments"]) == 2 and page.get("nextToken")
    rest = ecs.list_service_deployments(cluster=cluster, service=name, nextToken=page["nextToken"])
    assert [b["serviceDeploymentArn"] for b in rest["serviceDeployments"]] == [oldest]
    oldest_created = described[oldest]["createdAt"]
    cut = oldest_created + datetime.timedelta(milliseconds=500)
    assert [b["serviceDeploymentArn"] for b in history(ecs, cluster, name, createdAt={"before": cut})] == [oldest]
    assert [b["serviceDeploymentArn"] for b in history(ecs, cluster, name, createdAt={"after": cut})] == [
        newest, stopped]

    # What ECS refuses.
    with pytest.raises(ClientError) as raised:
        ecs.stop_service_deployment(serviceDeploymentArn=newest, stopType="ROLLBACK")
    assert error_code(raised) == "ConflictException", "a SUCCESSFUL deployment cannot be stopped"
    with pytest.raises(ClientError) as raised:
        ecs.stop_service_deployment(serviceDeploymentArn=missing, stopType="ROLLBACK")
    assert error_code(raised) == "ServiceDeploymentNotFoundException"
    with pytest.raises(ClientError) as raised:
        ecs.stop_service_deployment(serviceDeploymentArn=newest, stopType="ABORT")
    assert error_code(raised) == "InvalidParameterException"
    with pytest.raises(ClientError) as raised:
        ecs.continue_service_deployment(serviceDeploymentArn=newest, hookId="hook-1")
    assert error_code(raised) == "InvalidParameterException", "nothing is paused at a lifecycle hook"
    with pytest.raises(ClientError) as raised:
        ecs.continue_service_deployment(serviceDeploymentArn=missing, hookId="hook-1")
    assert error_code(raised) == "ServiceDeploymentNotFoundException"
    with pytest.raises(ClientError) as raised:
        ecs.describe_service_deployments(serviceDeploymentArns=[missing] * 21)
    assert error_code(raised) == "InvalidParameterException"
    with pytest.raises(ClientError) as raised:
        ecs.describe_service_revisions(serviceRevisionArns=[e2e.service_arn(cluster, name)])
    assert error_code(raised) == "InvalidParameterException", "a service ARN is not a revision ARN"
    with pytest.raises(ClientError) as raised:
        ecs.list_service_deployments(cluster=cluster, service="no-such-service")
    assert error_code(raised) == "ServiceNotFoundException"
    with pytest.raises(ClientError) as raised:
        ecs.list_service_deployments(cluster=cluster, service=name, maxResults=101)
    assert error_code(raised) == "InvalidParameterException"
    assert len(history(ecs, cluster, name)) == 3, "refused calls changed nothing"


# --------------------------------------------------------------------------------------------
# 2. The circuit breaker rolls a failing deployment back


def test_circuit_breaker_rollback_shows_in_history(ecs, cluster, services):
    family = e2e.unique_name("histcb")
    good = register(ecs, sleeper(family))
    name = e2e.unique_name("histcbsvc")
    ecs.create_service(cluster=cluster, serviceName=name, taskDefinition=good, desiredCount=1,
                       deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": True}})
    services.append(name)
    e2e.wait_service_steady(ecs, cluster, name, 1, good)
    (created,) = history(ecs, cluster, name)

    bad = register(ecs, e2e.busybox_task_definition(family, ["sh", "-c", "exit 1"], memory=16))
    ecs.update_service(cluster=cluster, service=name, taskDefinition=bad)
    newest = e2e.wait_until(lambda: history(ecs, cluster, name), lambda b: len(b) == 2, timeout=30,
                            interval=0.5, what="the update's service deployment")[0]
    assert revision_definition(ecs, newest["targetServiceRevisionArn"]) == bad
    failed = wait_history_status(ecs, cluster, name, newest["serviceDeploymentArn"], "ROLLBACK_SUCCESSFUL")
    breaker = failed["deploymentCircuitBreaker"]
    assert breaker["status"] == "TRIGGERED", failed
    assert breaker["threshold"] == 3, "clamp(ceil(0.5 x 1), 3, 200)"
    assert breaker["failureCount"] >= 3, failed
    rollback = failed["rollback"]
    assert "circuit breaker" in rollback["reason"], rollback
    assert rollback["serviceRevisionArn"] == created["targetServiceRevisionArn"], "back to the good revision"
    assert revision_definition(ecs, rollback["serviceRevisionArn"]) == good
    assert failed["finishedAt"] >= rollback["startedAt"] >= failed["createdAt"]
    e2e.wait_service_steady(ecs, cluster, name, 1, good)
    assert describe_deployment(ecs, created["serviceDeploymentArn"])["status"] == "SUCCESSFUL"


# --------------------------------------------------------------------------------------------
# 3. StopServiceDeployment rolls a slow deployment back


def test_stop_service_deployment_rolls_back_a_slow_deployment(ecs, cluster, services):
    family = e2e.unique_name("histstop")
    good = register(ecs, sleeper(family))
    name = e2e.unique_name("histstopsvc")
    ecs.create_service(cluster=cluster, serviceName=name, taskDefinition=good, desiredCount=1)
    services.append(name)
    e2e.wait_service_steady(ecs, cluster, name, 1, good)
    (created,) = history(ecs, cluster, name)
    good_tasks = {t["taskArn"] for t in e2e.service_tasks(ecs, cluster, name)}

    # Its health check stays in its start period for minutes, so the rollout cannot finish.
    slow = register(ecs, sleeper(family, healthCheck={
        "command": ["CMD-SHELL", "exit 1"], "interval": 5, "retries": 10, "startPeriod": 300}))
    ecs.update_service(cluster=cluster, service=name, taskDefinition=slow)
    newest = e2e.wait_until(lambda: history(ecs, cluster, name), lambda b: len(b) == 2, timeout=30,
                            interval=0.5, what="the update's service deployment")[0]
    arn = newest["serviceDeploymentArn"]
    wait_history_status(ecs, cluster, name, arn, "IN_PROGRESS", timeout=60)
    e2e.wait_until(lambda: e2e.service_tasks(ecs, cluster, name),
                   lambda tasks: any(t["taskDefinitionArn"] == slow and t["lastStatus"] == "RUNNING" for t in tasks),
                   timeout=90, interval=0.5, what="the slow revision's task to run")

    answer = ecs.stop_service_deployment(serviceDeploymentArn=arn, stopType="ROLLBACK")
    assert answer["serviceDeploymentArn"] == arn
    stopped = describe_deployment(ecs, arn)
    assert stopped["status"] in ("ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS", "ROLLBACK_SUCCESSFUL"), stopped
    assert stopped["rollback"]["serviceRevisionArn"] == created["targetServiceRevisionArn"], stopped
    assert "stoppedAt" in stopped
    # Asking again while it rolls back is accepted and changes nothing.
    ecs.stop_service_deployment(serviceDeploymentArn=arn)

    done = wait_history_status(ecs, cluster, name, arn, "ROLLBACK_SUCCESSFUL")
    assert done["finishedAt"] >= done["rollback"]["startedAt"]
    service = e2e.wait_service_steady(ecs, cluster, name, 1, good)
    primary = e2e.primary_deployment(service)
    assert primary["taskDefinition"] == good
    live = e2e.wait_service_running(ecs, cluster, name, 1, good, timeout=60)
    assert all(t["taskDefinitionArn"] == good for t in live)
    assert good_tasks, "the good revision ran before"
    assert len(history(ecs, cluster, name)) == 2, "a rollback is part of the stopped deployment, not a new one"
    with pytest.raises(ClientError) as raised:
        ecs.stop_service_deployment(serviceDeploymentArn=arn, stopType="ROLLBACK")
    assert error_code(raised) == "ConflictException", "a finished rollback cannot be stopped again"


# --------------------------------------------------------------------------------------------
# 4. History survives kill -9


def test_history_survives_a_server_kill(processes):
    server = processes.server(["--service-settle-time", "2s", "--service-throttle-delay", "1s"])
    ecs = e2e.ecs_client(server.url)
    cluster = e2e.unique_name("histcrash")
    ecs.create_cluster(clusterName=cluster)
    processes.agent(server.url, cluster, "a")
    e2e.wait_for_instances(ecs, cluster, 1)
    family = e2e.unique_name("histcrash")
    first = register(ecs, sleeper(family))
    second = register(ecs, sleeper(family, environment=[{"name": "REVISION", "value": "2"}]))
    name = e2e.unique_name("histcrashsvc")
    ecs.create_service(cluster=cluster, serviceName=name, taskDefinition=first, desiredCount=1)
    e2e.wait_service_steady(ecs, cluster, name, 1, first)
    ecs.update_service(cluster=cluster, service=name, taskDefinition=second)
    e2e.wait_service_steady(ecs, cluster, name, 1, second)
    before = e2e.wait_until(lambda: history(ecs, cluster, name),
                            lambda b: [x["status"] for x in b] == ["SUCCESSFUL", "SUCCESSFUL"],
                            timeout=60, interval=0.5, what="both deployments SUCCESSFUL")
    arns = [b["serviceDeploymentArn"] for b in before]
    described = ecs.describe_service_deployments(serviceDeploymentArns=arns)["serviceDeployments"]
    revisions = [d["targetServiceRevision"]["arn"] for d in described]

    server.process.kill(signal.SIGKILL)
    server.process.restart()
    server.wait_ready()

    assert history(ecs, cluster, name) == before
    again = ecs.describe_service_deployments(serviceDeploymentArns=arns)
    assert again["failures"] == []
    assert [d["status"] for d in again["serviceDeployments"]] == ["SUCCESSFUL", "SUCCESSFUL"]
    assert [d["targetServiceRevision"]["arn"] for d in again["serviceDeployments"]] == revisions
    assert [revision_definition(ecs, arn) for arn in revisions] == [second, first]
