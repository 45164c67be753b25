"""ECS services on the real Docker Engine through `berth up`: steady state behind dynamic
ports, replacement of a killed task, rolling deployments within their bounds, the circuit
breaker's rollback, container health checks, DeleteService, idempotency, tags and the errors
ECS answers. Multi-process cases (server crash, DAEMON, lost instances) live in
test_services_crash.py.

`berth up` runs with a short settle time (ECS counts a RUNNING task without health checks as
healthy after 40 s) and a short throttle delay, so deployments finish in seconds.
"""

from __future__ import annotations

import math
import uuid

import pytest
from botocore.exceptions import ClientError

import berth_e2e as e2e
from berth_e2e import REGION, ACCOUNT

pytestmark = pytest.mark.docker

BERTH_UP_EXTRA = ["--service-settle-time", "2s", "--service-throttle-delay", "1s"]
HTTPD = ["httpd", "-f", "-p", "8080", "-h", "/www"]


def web_definition(family: str, **extra) -> dict:
    return e2e.busybox_task_definition(
        family, HTTPD, memory=16,
        port_mappings=[{"containerPort": 8080, "hostPort": 0, "protocol": "tcp"}], **extra)


def sleeper_definition(family: str, **extra) -> dict:
    return e2e.busybox_task_definition(family, ["sleep", "3600"], memory=16, **extra)


def register(ecs, definition: dict) -> str:
    return ecs.register_task_definition(**definition)["taskDefinition"]["taskDefinitionArn"]


def error_of(raised: pytest.ExceptionInfo) -> tuple[int, str, str]:
    response = raised.value.response
    return (response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"],
            response["Error"].get("Message", ""))


def create(ecs, cluster, services, name, **params) -> dict:
    service = ecs.create_service(cluster=cluster, serviceName=name, **params)["service"]
    services.append(name)
    return service


# --------------------------------------------------------------------------------------------
# 1. Steady state


def test_service_reaches_steady_state_behind_dynamic_ports(ecs, aws, cluster, services):
    family = e2e.unique_name("web")
    definition_arn = register(ecs, web_definition(family))
    name = e2e.unique_name("websvc")
    active_before = ecs.describe_clusters(clusters=[cluster])["clusters"][0]["activeServicesCount"]

    created = create(ecs, cluster, services, name, taskDefinition=family, desiredCount=3)
    assert created["serviceName"] == name
    assert created["serviceArn"] == e2e.service_arn(cluster, name)
    assert created["clusterArn"] == e2e.cluster_arn(cluster)
    assert created["status"] == "ACTIVE"
    assert created["desiredCount"] == 3
    assert created["taskDefinition"] == definition_arn
    assert created.get("schedulingStrategy") == "REPLICA"
    configuration = created["deploymentConfiguration"]
    assert (configuration["maximumPercent"], configuration["minimumHealthyPercent"]) == (200, 100)
    assert len(created["deployments"]) == 1
    deployment = created["deployments"][0]
    assert deployment["status"] == "PRIMARY"
    assert deployment["id"].startswith("ecs-svc/"), deployment
    assert deployment["taskDefinition"] == definition_arn
    assert deployment["desiredCount"] == 3
    assert deployment.get("rolloutState") == "IN_PROGRESS"

    # Let the tasks come up, then the real aws CLI's waiter must agree the service is stable
    # (its first poll is immediate, so this does not pay its 15 s delay).
    e2e.wait_service_running(ecs, cluster, name, 3)
    waited = aws.run("wait", "services-stable", "--cluster", cluster, "--services", name)
    assert waited.returncode == 0, waited.stderr

    service = e2e.wait_until(
        lambda: e2e.describe_service(ecs, cluster, name),
        lambda s: e2e.is_steady(s, 3, definition_arn)
        and any("has reached a steady state." in message for message in e2e.event_messages(s)),
        timeout=90, interval=0.5, what="rolloutState COMPLETED and the steady-state event")
    primary = e2e.primary_deployment(service)
    assert primary["id"] == deployment["id"]
    assert (primary["runningCount"], primary["pendingCount"], primary["desiredCount"]) == (3, 0, 3)
    assert primary.get("failedTasks", 0) == 0

    tasks = e2e.service_tasks(ecs, cluster, name)
    assert len(tasks) == 3
    ports = []
    for task in tasks:
        assert task["lastStatus"] == "RUNNING", task
        assert task["startedBy"] == deployment["id"], task
        assert task["group"] == f"service:{name}", task
        assert task["taskDefinitionArn"] == definition_arn
        bindings = task["containers"][0]["networkBindings"]
        assert len(bindings) == 1 and bindings[0]["containerPort"] == 8080 and bindings[0]["hostPort"] > 0, bindings
        ports.append(bindings[0]["hostPort"])
    assert len(set(ports)) == 3, f"dynamic host ports collide: {ports}"
    for port in ports:
        status, body = e2e.wait_until(lambda: e2e.http_get(port), lambda r: r is not None and r[0] == 200,
                                      timeout=60, what=f"HTTP 200 from 127.0.0.1:{port}")
        assert body.strip() == "berth"
    # The aws CLI's --service-name filter finds the same three.
    listed = aws("list-tasks", "--cluster", cluster, "--service-name", name)
    assert sorted(listed["taskArns"]) == sorted(task["taskArn"] for task in tasks)

    # Events: newest first, telling the story.
    events = service["events"]
    messages = [event["message"] for event in events]
    started = [i for i, m in enumerate(messages) if m.startswith(f"(service {name}) has started 3 tasks")]
    steady = [i for i, m in enumerate(messages) if m == f"(service {name}) has reached a steady state."]
    assert started and steady, messages
    assert min(steady) < max(started), f"events are not newest first: {messages}"
    stamps = [event["createdAt"] for event in events]
    assert stamps == sorted(stamps, reverse=True), f"events are not newest first: {events}"
    assert len({event["id"] for event in events}) == len(events)
    for task in tasks:
        task_id = task["taskArn"].rsplit("/", 1)[1]
        assert f"(task {task_id})" in messages[max(started)], messages[max(started)]

    cluster_view = ecs.describe_clusters(clusters=[cluster])["clusters"][0]
    assert cluster_view["activeServicesCount"] == active_before + 1
    assert cluster_view["runningTasksCount"] >= 3



def test_cluster_with_services_cannot_be_deleted(ecs, cluster, services):
    # A cluster of its own, without container instances (the module's cluster has one, which
    # would be refused with ClusterContainsContainerInstancesException first).
    family = e2e.unique_name("empty")
    definition_arn = register(ecs, sleeper_definition(family))
    empty = e2e.unique_name("noinst")
    ecs.create_cluster(clusterName=empty)
    name = e2e.unique_name("orphan")
    ecs.create_service(cluster=empty, serviceName=name, taskDefinition=definition_arn, desiredCount=1)
    try:
        # Nowhere to place its task: ECS says so in an event and keeps the service ACTIVE.
        service = e2e.wait_until(
            lambda: e2e.describe_service(ecs, empty, name),
            lambda s: any("was unable to place a task" in m for m in e2e.event_messages(s)),
            timeout=60, interval=0.5, what="the unable-to-place event")
        assert service["status"] == "ACTIVE" and service["runningCount"] == 0
        assert ecs.describe_clusters(clusters=[empty])["clusters"][0]["activeServicesCount"] == 1

        with pytest.raises(ClientError) as raised:
            ecs.delete_cluster(cluster=empty)
        status, code, _ = error_of(raised)
        assert (status, code) == (400, "ClusterContainsServicesException"), raised.value.response
    finally:
        ecs.delete_service(cluster=empty, service=name, force=True)
    e2e.wait_until(lambda: e2e.describe_service(ecs, empty, name), lambda s: s["status"] == "INACTIVE",
                   timeout=60, interval=0.5, what="the service to become INACTIVE")
    # An INACTIVE service no longer holds the cluster.
    assert ecs.delete_cluster(cluster=empty)["cluster"]["status"] == "INACTIVE"


# --------------------------------------------------------------------------------------------
# 2. A killed task is replaced


def test_killed_service_task_is_replaced(ecs, cluster, services):
    family = e2e.unique_name("kill")
    definition_arn = register(ecs, sleeper_definition(family))
    name = e2e.unique_name("killsvc")
    deployment_id = create(ecs, cluster, services, name, taskDefinition=family,
                           desiredCount=3)["deployments"][0]["id"]
    before = e2e.wait_service_running(ecs, cluster, name, 3)
    victim = before[0]["taskArn"]
    containers = e2e.containers_for_task(victim, all_states=False)
    assert len(containers) == 1, containers
    e2e.docker("kill", containers[0])

    stopped = e2e.wait_status(ecs, cluster, victim, "STOPPED", timeout=60)
    assert stopped["stopCode"] == "EssentialContainerExited", stopped
    assert stopped["containers"][0].get("exitCode") == 137, stopped["containers"][0]

    after = e2e.wait_service_running(ecs, cluster, name, 3, definition_arn, timeout=90)
    old = {task["taskArn"] for task in before}
    new = {task["taskArn"] for task in after}
    assert victim not in new
    assert old - new == {victim}, "only the killed task may be replaced"
    (replacement,) = new - old
    replacement_task = next(task for task in after if task["taskArn"] == replacement)
    assert replacement_task["startedBy"] == deployment_id
    assert replacement_task["group"] == f"service:{name}"
    service = e2e.wait_service_steady(ecs, cluster, name, 3, definition_arn, timeout=60)
    assert service["runningCount"] == 3

    # Scaling in stops the surplus tasks (scheduler-initiated) and tells so in an event.
    updated = ecs.update_service(cluster=cluster, service=name, desiredCount=1)["service"]
    assert updated["desiredCount"] == 1
    assert e2e.primary_deployment(updated)["id"] == deployment_id, "a desiredCount change is not a new deployment"
    remaining = e2e.wait_service_running(ecs, cluster, name, 1, definition_arn, timeout=60)
    service = e2e.wait_service_steady(ecs, cluster, name, 1, definition_arn, timeout=60)
    surplus = sorted(new - {remaining[0]["taskArn"]})
    for task in [e2e.wait_status(ecs, cluster, arn, "STOPPED", timeout=60) for arn in surplus]:
        assert task["stopCode"] == "ServiceSchedulerInitiated", task
    assert any(m.startswith(f"(service {name}) has stopped 2 running tasks") for m in e2e.event_messages(service)), \
        e2e.event_messages(service)


def test_tasks_that_fail_to_start_are_throttled(ecs, cluster, services):
    family = e2e.unique_name("nostart")
    definition_arn = register(ecs, e2e.busybox_task_definition(family, ["/no/such/binary"], memory=16))
    name = e2e.unique_name("nostartsvc")
    create(ecs, cluster, services, name, taskDefinition=definition_arn, desiredCount=1)
    message = f"(service {name}) is unable to consistently start tasks successfully."
    service = e2e.wait_until(lambda: e2e.describe_service(ecs, cluster, name),
                             lambda s: message in e2e.event_messages(s), timeout=90, interval=0.5,
                             what="the throttle event")
    assert service["status"] == "ACTIVE" and service["desiredCount"] == 1
    failed = e2e.service_tasks(ecs, cluster, name, "STOPPED")
    assert failed and all(t["stopCode"] == "TaskFailedToStart" for t in failed), failed
    assert all(t.get("startedAt") is None for t in failed), "these tasks never ran"


# --------------------------------------------------------------------------------------------
# 3. Rolling deployment within its bounds


def test_rolling_update_keeps_minimum_healthy_and_maximum_percent(ecs, cluster, services):
    family = e2e.unique_name("roll")
    first = register(ecs, web_definition(family))
    name = e2e.unique_name("rollsvc")
    desired = 3
    create(ecs, cluster, services, name, taskDefinition=first, desiredCount=desired,
           deploymentConfiguration={"maximumPercent": 200, "minimumHealthyPercent": 100})
    steady = e2e.wait_service_steady(ecs, cluster, name, desired, first)
    old_deployment = e2e.primary_deployment(steady)["id"]
    old_tasks = e2e.service_tasks(ecs, cluster, name)
    assert len(old_tasks) == desired

    second = register(ecs, web_definition(family, environment=[{"name": "REVISION", "value": "2"}]))
    assert second != first
    updated = ecs.update_service(cluster=cluster, service=name, taskDefinition=second)["service"]
    assert updated["taskDefinition"] == second
    new_primary = e2e.primary_deployment(updated)
    assert new_primary["taskDefinition"] == second and new_primary["id"] != old_deployment
    assert new_primary.get("rolloutState") == "IN_PROGRESS"
    actives = [d for d in updated["deployments"] if d["status"] == "ACTIVE"]
    assert [d["taskDefinition"] for d in actives] == [first], updated["deployments"]

    minimum_healthy = math.ceil(1.0 * desired)
    maximum_occupying = math.floor(2.0 * desired)
    known = {task["taskArn"] for task in old_tasks}
    samples: list[dict] = []

    def sample():
        service = e2e.describe_service(ecs, cluster, name)
        known.update(e2e.list_service_task_arns(ecs, cluster, name))
        tasks = e2e.describe_tasks_of(ecs, cluster, sorted(known))
        healthy_running = [t for t in tasks if t["lastStatus"] == "RUNNING" and t["desiredStatus"] == "RUNNING"]
        occupying = [t for t in tasks if t["lastStatus"] != "STOPPED"]
        record = {
            "runningCount": service["runningCount"], "pendingCount": service["pendingCount"],
            "running_desired_running": len(healthy_running), "not_stopped": len(occupying),
            "deployments": [(d["status"], d["taskDefinition"].rsplit(":", 1)[1], d.get("rolloutState"),
                             d["runningCount"], d["pendingCount"]) for d in service["deployments"]],
        }
        samples.append(record)
        # Checked at every sample: the bounds of the deployment configuration.
        assert service["runningCount"] >= minimum_healthy, f"below minimumHealthyPercent: {samples[-5:]}"
        assert service["runningCount"] + service["pendingCount"] <= maximum_occupying, \
            f"above maximumPercent: {samples[-5:]}"
        assert len(healthy_running) >= minimum_healthy, f"healthy tasks below the floor: {samples[-5:]}"
        assert len(occupying) <= maximum_occupying, f"tasks above the ceiling: {samples[-5:]}"
        return service, tasks

    def done(observed) -> bool:
        service, tasks = observed
        live = [t for t in tasks if t["desiredStatus"] == "RUNNING"]
        return (e2e.is_steady(service, desired, second) and len(live) == desired
                and all(t["lastStatus"] == "RUNNING" and t["taskDefinitionArn"] == second for t in live)
                and all(t["lastStatus"] == "STOPPED" for t in tasks if t["desiredStatus"] == "STOPPED"))

    service, tasks = e2e.wait_until(sample, done, timeout=180, interval=0.3,
                                    what="the rolling deployment to complete")
    assert len(samples) >= 3, samples
    primary = e2e.primary_deployment(service)
    assert primary["id"] == new_primary["id"] and primary["rolloutState"] == "COMPLETED"
    live = [t for t in tasks if t["desiredStatus"] == "RUNNING"]
    assert all(t["startedBy"] == new_primary["id"] for t in live), live
    for old in e2e.describe_tasks_of(ecs, cluster, [t["taskArn"] for t in old_tasks]):
        assert old["lastStatus"] == "STOPPED", old
        assert old["stopCode"] == "ServiceSchedulerInitiated", old
        assert old["stoppedReason"].startswith("Scaling activity initiated by (deployment ecs-svc/"), old
    messages = e2e.event_messages(service)
    assert any(f"(deployment {new_primary['id']}) deployment completed." in m for m in messages), messages


# --------------------------------------------------------------------------------------------
# 4. Circuit breaker with rollback


def test_circuit_breaker_rolls_back_a_failing_deployment(ecs, cluster, services):
    family = e2e.unique_name("breaker")
    good = register(ecs, sleeper_definition(family))
    name = e2e.unique_name("breakersvc")
    desired = 3
    create(ecs, cluster, services, name, taskDefinition=good, desiredCount=desired,
           deploymentConfiguration={"maximumPercent": 200, "minimumHealthyPercent": 100,
                                    "deploymentCircuitBreaker": {"enable": True, "rollback": True}})
    steady = e2e.wait_service_steady(ecs, cluster, name, desired, good)
    good_deployment = e2e.primary_deployment(steady)["id"]

    bad = register(ecs, e2e.busybox_task_definition(family, ["sh", "-c", "exit 1"], memory=16))
    updated = ecs.update_service(cluster=cluster, service=name, taskDefinition=bad)["service"]
    bad_deployment = e2e.primary_deployment(updated)["id"]
    assert bad_deployment != good_deployment
    seen_failed = []

    def probe():
        service = e2e.describe_service(ecs, cluster, name)
        # The healthy tasks of the old revision keep running throughout (minimum 100 %).
        assert service["runningCount"] >= desired, service
        seen_failed.extend(d for d in service["deployments"]
                           if d["id"] == bad_deployment and d.get("rolloutState") == "FAILED")
        return service

    def rolled_back(service) -> bool:
        if not e2e.is_steady(service, desired, good):
            return False
        primary = service["deployments"][0]
        failure_told = any(bad_deployment in m and "fail" in m.lower() for m in e2e.event_messages(service))
        return primary["id"] not in (good_deployment, bad_deployment) and failure_told

    service = e2e.wait_until(probe, rolled_back, timeout=240, interval=0.5,
                             what="the circuit breaker to fail the deployment and roll back")
    messages = e2e.event_messages(service)
    assert any("roll" in m.lower() and "back" in m.lower() for m in messages), messages
    if seen_failed:
        assert "circuit breaker" in seen_failed[-1].get("rolloutStateReason", "").lower(), seen_failed[-1]
    live = e2e.wait_service_running(ecs, cluster, name, desired, good, timeout=60)
    assert len(live) == desired
    failed_tasks = [t for t in e2e.service_tasks(ecs, cluster, name, "STOPPED") if t["taskDefinitionArn"] == bad]
    exited = [t for t in failed_tasks if t.get("stopCode") == "EssentialContainerExited"]
    assert len(exited) >= 3, f"the threshold for 3 desired tasks is 3 failures: {failed_tasks}"


# --------------------------------------------------------------------------------------------
# 5. Container health checks


def test_tasks_failing_container_health_checks_are_replaced(ecs, cluster, services):
    family = e2e.unique_name("unhealthy")
    definition_arn = register(ecs, sleeper_definition(family, healthCheck={
        "command": ["CMD-SHELL", "exit 1"], "interval": 5, "retries": 1, "startPeriod": 0}))
    name = e2e.unique_name("unhealthysvc")
    create(ecs, cluster, services, name, taskDefinition=definition_arn, desiredCount=1)
    reason = "Task failed container health checks"

    def failed_tasks():
        return [t for t in e2e.service_tasks(ecs, cluster, name, "STOPPED")
                if t["lastStatus"] == "STOPPED" and t.get("stoppedReason") == reason]

    failed = e2e.wait_until(failed_tasks, lambda found: len({t["taskArn"] for t in found}) >= 2, timeout=150,
                            interval=1.0, what="two tasks stopped for failing their container health checks")
    for task in failed:
        assert task["stopCode"] == "ServiceSchedulerInitiated", task
        assert task["taskDefinitionArn"] == definition_arn
    service = e2e.describe_service(ecs, cluster, name)
    assert service["desiredCount"] == 1 and service["status"] == "ACTIVE"
    messages = e2e.event_messages(service)
    stopped_ids = {t["taskArn"].rsplit("/", 1)[1] for t in failed}
    assert any("failed container health checks" in m and any(i in m for i in stopped_ids) for m in messages), \
        messages


# --------------------------------------------------------------------------------------------
# 7. Deleting, idempotency, listing, tags


def test_delete_service_idempotent_create_listing_and_tags(ecs, aws, cluster, services):
    family = e2e.unique_name("life")
    definition_arn = register(ecs, sleeper_definition(family))
    name = e2e.unique_name("lifesvc")
    token = uuid.uuid4().hex  # 32 characters (CreateService allows 36)
    params = dict(cluster=cluster, serviceName=name, taskDefinition=definition_arn, desiredCount=1,
                  clientToken=token, tags=[{"key": "team", "value": "berth"}])
    first = ecs.create_service(**params)["service"]
    services.append(name)
    again = ecs.create_service(**params)["service"]
    assert again["serviceArn"] == first["serviceArn"]
    assert again["createdAt"] == first["createdAt"]
    assert [d["id"] for d in again["deployments"]] == [d["id"] for d in first["deployments"]]
    arn = first["serviceArn"]

    # Same name, different parameters: not idempotent.
    with pytest.raises(ClientError) as raised:
        ecs.create_service(cluster=cluster, serviceName=name, taskDefinition=definition_arn, desiredCount=2)
    status, code, message = error_of(raised)
    assert (status, code) == (400, "InvalidParameterException"), raised.value.response
    assert "Creation of service was not idempotent." in message

    tasks = e2e.wait_service_running(ecs, cluster, name, 1)
    assert len(tasks) == 1, "an idempotent retry must not start more tasks"

    # Tags: only with include=["TAGS"]; TagResource/UntagResource on the service ARN.
    plain = e2e.describe_service(ecs, cluster, name)
    assert not plain.get("tags"), plain.get("tags")
    tagged = e2e.describe_service(ecs, cluster, name, include=["TAGS"])
    assert tagged["tags"] == [{"key": "team", "value": "berth"}]
    ecs.tag_resource(resourceArn=arn, tags=[{"key": "env", "value": "e2e"}])
    listed_tags = ecs.list_tags_for_resource(resourceArn=arn)["tags"]
    assert sorted((t["key"], t["value"]) for t in listed_tags) == [("env", "e2e"), ("team", "berth")]
    ecs.untag_resource(resourceArn=arn, tagKeys=["team"])
    assert ecs.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "env", "value": "e2e"}]
    assert e2e.describe_service(ecs, cluster, name, include=["TAGS"])["tags"] == [{"key": "env", "value": "e2e"}]

    # ListServices pagination over a few more (empty) services.
    extra = [e2e.unique_name(f"page{i}") for i in range(3)]
    for other in extra:
        create(ecs, cluster, services, other, taskDefinition=definition_arn, desiredCount=0)
    pages, token_seen, arns = 0, None, []
    while True:
        kwargs = {"cluster": cluster, "maxResults": 2}
        if token_seen:
            kwargs["nextToken"] = token_seen
        page = ecs.list_services(**kwargs)
        pages += 1
        assert len(page["serviceArns"]) <= 2
        arns.extend(page["serviceArns"])
        token_seen = page.get("nextToken")
        if not token_seen:
            break
        assert pages < 100, "ListServices kept returning a nextToken"
    assert len(arns) == len(set(arns)), f"pages overlap: {arns}"
    mine = {arn, *(e2e.service_arn(cluster, other) for other in extra)}
    assert mine <= set(arns), (mine, arns)
    assert pages >= 2
    described = ecs.describe_services(cluster=cluster, services=[name, *extra, "does-not-exist"])
    assert sorted(s["serviceName"] for s in described["services"]) == sorted([name, *extra])
    assert described["failures"] == [{"arn": e2e.service_arn(cluster, "does-not-exist"), "reason": "MISSING"}]

    # DeleteService refuses while scaled above 0 ...
    with pytest.raises(ClientError) as raised:
        ecs.delete_service(cluster=cluster, service=name)
    status, code, message = error_of(raised)
    assert (status, code) == (400, "InvalidParameterException"), raised.value.response
    assert "The service cannot be stopped while it is scaled above 0." in message
    # ... and force drains it.
    deleted = ecs.delete_service(cluster=cluster, service=arn, force=True)["service"]
    assert deleted["status"] == "DRAINING", deleted["status"]
    assert deleted["serviceArn"] == arn
    gone = e2e.wait_until(lambda: e2e.describe_service(ecs, cluster, name), lambda s: s["status"] == "INACTIVE",
                          timeout=90, interval=0.5, what="the force-deleted service to become INACTIVE")
    assert gone["serviceArn"] == arn
    task = e2e.describe_task(ecs, cluster, tasks[0]["taskArn"])
    assert task["lastStatus"] == "STOPPED" and task["desiredStatus"] == "STOPPED", task
    assert e2e.list_service_task_arns(ecs, cluster, name) == []
    waited = aws.run("wait", "services-inactive", "--cluster", cluster, "--services", name)
    assert waited.returncode == 0, waited.stderr
    assert arn not in ecs.list_services(cluster=cluster, maxResults=100)["serviceArns"]
    with pytest.raises(ClientError) as raised:
        ecs.update_service(cluster=cluster, service=name, desiredCount=2)
    assert error_of(raised)[:2] == (400, "ServiceNotActiveException"), raised.value.response

    # A service scaled to 0 is deleted without force.
    deleted = ecs.delete_service(cluster=cluster, service=extra[0])["service"]
    assert deleted["status"] in ("DRAINING", "INACTIVE"), deleted["status"]
    e2e.wait_until(lambda: e2e.describe_service(ecs, cluster, extra[0]), lambda s: s["status"] == "INACTIVE",
                   timeout=60, interval=0.5, what="the empty service to become INACTIVE")

    # Once INACTIVE, the name can be used again.
    reborn = create(ecs, cluster, services, name, taskDefinition=definition_arn, desiredCount=0)
    assert reborn["status"] == "ACTIVE" and reborn["serviceArn"] == arn
    assert reborn["deployments"][0]["id"] not in [d["id"] for d in first["deployments"]]


# --------------------------------------------------------------------------------------------
# 9. Errors


def test_service_errors(berth, ecs, cluster, services):
    family = e2e.unique_name("errs")
    definition_arn = register(ecs, sleeper_definition(family))
    name = e2e.unique_name("errsvc")
    create(ecs, cluster, services, name, taskDefinition=definition_arn, desiredCount=0)

    problems: list[str] = []

    def expect(call, codes, mentions=(), **kwargs) -> None:
        """Every case runs; the problems are reported together at the end."""
        what = f"{call.__name__}({kwargs})"
        if "serviceName" in kwargs:
            services.append(kwargs["serviceName"])  # removed at teardown if wrongly created
        try:
            call(**kwargs)
        except ClientError as error:
            status, code = error.response["ResponseMetadata"]["HTTPStatusCode"], error.response["Error"]["Code"]
            message = error.response["Error"].get("Message", "")
            if status != 400 or code not in codes:
                problems.append(f"{what}: expected 400 {'/'.join(codes)}, got {status} {code}: {message}")
            for word in mentions:
                if word.lower() not in message.lower():
                    problems.append(f"{what}: message {message!r} does not mention {word!r}")
        else:
            problems.append(f"{what}: expected 400 {'/'.join(codes)}, but it succeeded")

    invalid = ("InvalidParameterException",)
    client_or_invalid = ("InvalidParameterException", "ClientException")
    expect(ecs.create_service, invalid, cluster=cluster, serviceName=e2e.unique_name("neg"),
           taskDefinition=definition_arn, desiredCount=-1)
    expect(ecs.create_service, client_or_invalid, cluster=cluster, serviceName=e2e.unique_name("notd"),
           taskDefinition=e2e.unique_name("no-such-family"), desiredCount=1)
    expect(ecs.create_service, invalid, ("Creation of service was not idempotent.",), cluster=cluster,
           serviceName=name, taskDefinition=definition_arn, desiredCount=3)
    expect(ecs.create_service, ("ClusterNotFoundException",), cluster=e2e.unique_name("nocluster"),
           serviceName=e2e.unique_name("x"), taskDefinition=definition_arn, desiredCount=1)
    expect(ecs.create_service, client_or_invalid, cluster=cluster, serviceName="bad name!",
           taskDefinition=definition_arn, desiredCount=1)
    expect(ecs.create_service, client_or_invalid, cluster=cluster, serviceName="x" * 256,
           taskDefinition=definition_arn, desiredCount=1)
    # ECS: "The daemon scheduling strategy does not support a desired count for services. ..."
    expect(ecs.create_service, invalid, ("desired count",), cluster=cluster, serviceName=e2e.unique_name("daemon"),
           taskDefinition=definition_arn, desiredCount=2, schedulingStrategy="DAEMON")
    # ECS: "The daemon scheduling strategy does not support values above 100 for maximumPercent ..."
    expect(ecs.create_service, invalid, ("maximumPercent",), cluster=cluster,
           serviceName=e2e.unique_name("daemon"), taskDefinition=definition_arn, schedulingStrategy="DAEMON",
           deploymentConfiguration={"maximumPercent": 200, "minimumHealthyPercent": 0})
    expect(ecs.create_service, client_or_invalid, cluster=cluster, serviceName=e2e.unique_name("tok"),
           taskDefinition=definition_arn, desiredCount=0, clientToken="t" * 37)
    expect(ecs.describe_services, client_or_invalid, cluster=cluster,
           services=[f"svc-{i}" for i in range(11)])
    expect(ecs.update_service, ("ServiceNotFoundException",), cluster=cluster, service=e2e.unique_name("none"),
           desiredCount=1)
    expect(ecs.update_service, invalid, cluster=cluster, service=name, desiredCount=-1)
    expect(ecs.update_service, client_or_invalid, cluster=cluster, service=name,
           taskDefinition=e2e.unique_name("no-such-family"))
    expect(ecs.delete_service, ("ServiceNotFoundException",), cluster=cluster, service=e2e.unique_name("none"))
    expect(ecs.list_services, client_or_invalid, cluster=cluster, maxResults=101)

    assert problems == [], "\n".join(problems)

    # Unknown services in DescribeServices are failures, not errors.
    missing = e2e.unique_name("missing")
    described = ecs.describe_services(cluster=cluster, services=[missing])
    assert described["services"] == []
    assert described["failures"] == [{"arn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/{cluster}/{missing}",
                                      "reason": "MISSING"}]

    # Raw bodies with wrong types are 400s naming the field.
    for body, field in (({"serviceName": 5, "taskDefinition": family}, "serviceName"),
                        ({"serviceName": "x", "taskDefinition": family, "desiredCount": "three"}, "desiredCount"),
                        ({"service": name, "desiredCount": 1.5}, "desiredCount")):
        operation = "UpdateService" if "service" in body else "CreateService"
        status, parsed, raw = e2e.raw_call(berth.url, operation, {"cluster": cluster, **body})
        assert status == 400, (operation, body, status, raw)
        assert field in parsed.get("message", ""), (operation, body, parsed)

