"""Every ECS operation Berth serves, called through boto3 at least once, so that the strict
validator (conftest's after-call hook) checks each response against botocore's output shape.
The assertions are on what a user sees in those responses."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

import berth_e2e as e2e
from berth_e2e import ACCOUNT, REGION

ARN_PREFIX = f"arn:aws:ecs:{REGION}:{ACCOUNT}:"


def paginate(call, key, **kwargs):
    """Collects every item of a paginated List* call, one item per page."""
    items, token, pages = [], None, 0
    while True:
        page = call(maxResults=1, **({"nextToken": token} if token else {}), **kwargs)
        items.extend(page[key])
        token = page.get("nextToken")
        pages += 1
        assert pages < 500, "pagination does not terminate"
        if not token:
            return items


def sleeper(family: str) -> dict:
    return e2e.busybox_task_definition(family, ["sleep", "3600"], memory=16)


def test_cluster_operations(ecs):
    name = e2e.unique_name("cl")
    created = ecs.create_cluster(
        clusterName=name,
        tags=[{"key": "team", "value": "berth"}],
        settings=[{"name": "containerInsights", "value": "enabled"}],
    )["cluster"]
    assert created["clusterName"] == name
    assert created["clusterArn"] == f"{ARN_PREFIX}cluster/{name}"
    assert created["status"] == "ACTIVE"

    # Creating an existing cluster again is idempotent and returns it.
    again = ecs.create_cluster(clusterName=name)["cluster"]
    assert again["clusterArn"] == created["clusterArn"]

    described = ecs.describe_clusters(
        clusters=[name, "e2e-no-such-cluster"],
        include=["STATISTICS", "TAGS", "SETTINGS"],
    )
    assert [c["clusterArn"] for c in described["clusters"]] == [created["clusterArn"]]
    by_arn = ecs.describe_clusters(clusters=[created["clusterArn"]])["clusters"]
    assert [c["clusterName"] for c in by_arn] == [name]
    cluster = described["clusters"][0]
    assert cluster["tags"] == [{"key": "team", "value": "berth"}]
    assert {"name": "containerInsights", "value": "enabled"} in cluster["settings"]
    assert "statistics" in cluster
    for counter in ("registeredContainerInstancesCount", "runningTasksCount", "pendingTasksCount",
                    "activeServicesCount"):
        assert cluster[counter] == 0, (counter, cluster)
    assert described["failures"] == [
        {"arn": f"{ARN_PREFIX}cluster/e2e-no-such-cluster", "reason": "MISSING"}
    ]

    listed = ecs.list_clusters()["clusterArns"]
    assert created["clusterArn"] in listed
    assert sorted(paginate(ecs.list_clusters, "clusterArns")) == sorted(listed)

    updated = ecs.update_cluster(cluster=name, settings=[{"name": "containerInsights", "value": "disabled"}])
    assert {"name": "containerInsights", "value": "disabled"} in updated["cluster"]["settings"]
    settings = ecs.describe_clusters(clusters=[name], include=["SETTINGS"])["clusters"][0]["settings"]
    assert {"name": "containerInsights", "value": "disabled"} in settings

    deleted = ecs.delete_cluster(cluster=name)["cluster"]
    assert deleted["clusterArn"] == created["clusterArn"]
    assert deleted["status"] == "INACTIVE"
    assert created["clusterArn"] not in ecs.list_clusters()["clusterArns"]


def test_describe_clusters_without_arguments_describes_default(ecs):
    # ECS describes the `default` cluster when no cluster is named; berth up's module cluster
    # is not `default`, so either it is there (ACTIVE) or reported MISSING.
    response = ecs.describe_clusters()
    names = [c["clusterName"] for c in response["clusters"]] + [f["arn"] for f in response["failures"]]
    assert len(names) == 1 and names[0].endswith("default"), response


def test_task_definition_operations(ecs):
    family = e2e.unique_name("td")
    first = ecs.register_task_definition(**sleeper(family), tags=[{"key": "app", "value": "one"}])
    definition = first["taskDefinition"]
    assert definition["family"] == family
    assert definition["revision"] == 1
    assert definition["status"] == "ACTIVE"
    assert definition["taskDefinitionArn"] == f"{ARN_PREFIX}task-definition/{family}:1"
    assert first["tags"] == [{"key": "app", "value": "one"}]
    second = ecs.register_task_definition(**sleeper(family))["taskDefinition"]
    assert second["revision"] == 2

    by_family = ecs.describe_task_definition(taskDefinition=family)["taskDefinition"]
    assert by_family["revision"] == 2
    by_revision = ecs.describe_task_definition(taskDefinition=f"{family}:1", include=["TAGS"])
    assert by_revision["taskDefinition"]["revision"] == 1
    assert by_revision["tags"] == [{"key": "app", "value": "one"}]
    by_arn = ecs.describe_task_definition(taskDefinition=definition["taskDefinitionArn"])
    assert by_arn["taskDefinition"]["taskDefinitionArn"] == definition["taskDefinitionArn"]

    arns = ecs.list_task_definitions(familyPrefix=family)["taskDefinitionArns"]
    assert arns == [f"{ARN_PREFIX}task-definition/{family}:1", f"{ARN_PREFIX}task-definition/{family}:2"]
    assert ecs.list_task_definitions(familyPrefix=family, sort="DESC")["taskDefinitionArns"] == arns[::-1]
    assert paginate(ecs.list_task_definitions, "taskDefinitionArns", familyPrefix=family) == arns

    other = family + "-other"
    ecs.register_task_definition(**sleeper(other))
    families = ecs.list_task_definition_families(familyPrefix=family)["families"]
    assert families == sorted([family, other])
    assert paginate(ecs.list_task_definition_families, "families", familyPrefix=family) == families

    deregistered = ecs.deregister_task_definition(taskDefinition=f"{family}:1")["taskDefinition"]
    assert deregistered["status"] == "INACTIVE"
    assert "deregisteredAt" in deregistered
    assert ecs.list_task_definitions(familyPrefix=family, status="INACTIVE")["taskDefinitionArns"] == [arns[0]]
    assert ecs.list_task_definitions(familyPrefix=family, status="ACTIVE")["taskDefinitionArns"] == [arns[1]]
    # An inactive revision can still be described.
    assert ecs.describe_task_definition(taskDefinition=f"{family}:1")["taskDefinition"]["status"] == "INACTIVE"

    ecs.deregister_task_definition(taskDefinition=f"{other}:1")
    assert ecs.list_task_definition_families(familyPrefix=family, status="ACTIVE")["families"] == [family]
    assert ecs.list_task_definition_families(familyPrefix=family, status="INACTIVE")["families"] == [other]
    assert ecs.list_task_definition_families(familyPrefix=family, status="ALL")["families"] == families

    deleted = ecs.delete_task_definitions(taskDefinitions=[f"{family}:1", f"{family}:2"])
    assert [d["taskDefinitionArn"] for d in deleted["taskDefinitions"]] == [arns[0]]
    assert deleted["taskDefinitions"][0]["status"] == "DELETE_IN_PROGRESS"
    # Revision 2 is still ACTIVE: it must be deregistered first.
    assert [f["arn"] for f in deleted["failures"]] == [arns[1]], deleted["failures"]


def test_task_operations(ecs, cluster, instance, cleanup_tasks):
    family = e2e.unique_name("tasks")
    definition = ecs.register_task_definition(**sleeper(family))["taskDefinition"]

    run = ecs.run_task(cluster=cluster, taskDefinition=family, count=1, startedBy="e2e-shapes",
                       tags=[{"key": "k", "value": "v"}], launchType="EC2")
    assert run["failures"] == []
    task = run["tasks"][0]
    cleanup_tasks.append((ecs, cluster, task["taskArn"]))
    assert task["taskArn"].startswith(f"{ARN_PREFIX}task/{cluster}/")
    assert len(task["taskArn"].rsplit("/", 1)[1]) == 32
    assert task["clusterArn"] == e2e.cluster_arn(cluster)
    assert task["taskDefinitionArn"] == definition["taskDefinitionArn"]
    assert task["desiredStatus"] == "RUNNING"
    assert task["startedBy"] == "e2e-shapes"
    assert task["group"] == f"family:{family}"
    assert task["containerInstanceArn"] == instance["containerInstanceArn"]

    started = ecs.start_task(cluster=cluster, taskDefinition=f"{family}:1",
                             containerInstances=[instance["containerInstanceArn"]], startedBy="e2e-start")
    assert started["failures"] == []
    started_task = started["tasks"][0]
    cleanup_tasks.append((ecs, cluster, started_task["taskArn"]))
    assert started_task["containerInstanceArn"] == instance["containerInstanceArn"]

    described = ecs.describe_tasks(cluster=cluster, tasks=[task["taskArn"], started_task["taskArn"]],
                                   include=["TAGS"])
    assert described["failures"] == []
    assert {t["taskArn"] for t in described["tasks"]} == {task["taskArn"], started_task["taskArn"]}
    tagged = next(t for t in described["tasks"] if t["taskArn"] == task["taskArn"])
    assert tagged["tags"] == [{"key": "k", "value": "v"}]

    missing = ecs.describe_tasks(cluster=cluster, tasks=[f"{ARN_PREFIX}task/{cluster}/{'0' * 32}"])
    assert missing["tasks"] == [] and missing["failures"][0]["reason"] == "MISSING"

    both = {task["taskArn"], started_task["taskArn"]}
    assert both <= set(ecs.list_tasks(cluster=cluster)["taskArns"])
    assert both <= set(ecs.list_tasks(cluster=cluster, family=family)["taskArns"])
    assert both <= set(ecs.list_tasks(cluster=cluster, containerInstance=instance["containerInstanceArn"])["taskArns"])
    assert ecs.list_tasks(cluster=cluster, startedBy="e2e-start")["taskArns"] == [started_task["taskArn"]]
    assert both <= set(ecs.list_tasks(cluster=cluster, launchType="EC2")["taskArns"])
    assert ecs.list_tasks(cluster=cluster, family=family, launchType="FARGATE")["taskArns"] == []
    assert set(paginate(ecs.list_tasks, "taskArns", cluster=cluster, family=family)) == both

    stopped = ecs.stop_task(cluster=cluster, task=started_task["taskArn"], reason="shape check")["task"]
    assert stopped["desiredStatus"] == "STOPPED"
    assert started_task["taskArn"] in ecs.list_tasks(cluster=cluster, family=family,
                                                     desiredStatus="STOPPED")["taskArns"]
    assert started_task["taskArn"] not in ecs.list_tasks(cluster=cluster, family=family,
                                                         desiredStatus="RUNNING")["taskArns"]
    ecs.stop_task(cluster=cluster, task=task["taskArn"])
    for arn in both:
        e2e.wait_status(ecs, cluster, arn, "STOPPED")


def test_container_instance_operations(ecs, cluster, instance):
    # The real agent's instance, as the agent registered it.
    assert instance["containerInstanceArn"].startswith(f"{ARN_PREFIX}container-instance/{cluster}/")
    assert instance["status"] == "ACTIVE"
    assert instance["agentConnected"] is True
    for name in ("CPU", "MEMORY"):
        assert e2e.resource_value(instance["registeredResources"], name) > 0

    # A hand-registered instance in a cluster of its own (no agent behind it).
    name = e2e.unique_name("ci")
    ecs.create_cluster(clusterName=name)
    registered = e2e.register_fake_instance(
        ecs, name, cpu=2048, memory=4096,
        attributes=[{"name": "stack", "value": "blue"}],
        versionInfo={"agentVersion": "1.0.0", "dockerVersion": "DockerVersion: 28.0.0"},
        tags=[{"key": "rack", "value": "r1"}],
    )
    arn = registered["containerInstanceArn"]
    assert arn.startswith(f"{ARN_PREFIX}container-instance/{name}/")
    assert registered["status"] == "ACTIVE"
    assert e2e.resource_value(registered["registeredResources"], "CPU") == 2048
    assert e2e.resource_value(registered["remainingResources"], "MEMORY") == 4096
    assert {"name": "stack", "value": "blue"} in registered["attributes"]

    described = ecs.describe_container_instances(cluster=name, containerInstances=[arn], include=["TAGS"])
    assert described["failures"] == []
    assert described["containerInstances"][0]["tags"] == [{"key": "rack", "value": "r1"}]
    # The short ID works as well as the ARN.
    short = ecs.describe_container_instances(cluster=name, containerInstances=[arn.rsplit("/", 1)[1]])
    assert short["containerInstances"][0]["containerInstanceArn"] == arn

    assert ecs.list_container_instances(cluster=name)["containerInstanceArns"] == [arn]
    assert ecs.list_container_instances(cluster=name, status="ACTIVE")["containerInstanceArns"] == [arn]
    assert ecs.list_container_instances(cluster=name, status="DRAINING")["containerInstanceArns"] == []

    drained = ecs.update_container_instances_state(cluster=name, containerInstances=[arn], status="DRAINING")
    assert drained["failures"] == []
    assert drained["containerInstances"][0]["status"] == "DRAINING"
    assert ecs.list_container_instances(cluster=name, status="DRAINING")["containerInstanceArns"] == [arn]
    active = ecs.update_container_instances_state(cluster=name, containerInstances=[arn], status="ACTIVE")
    assert active["containerInstances"][0]["status"] == "ACTIVE"

    family = e2e.unique_name("ci-td")
    ecs.register_task_definition(**sleeper(family))
    started = ecs.start_task(cluster=name, taskDefinition=family, containerInstances=[arn])
    assert started["failures"] == [] and started["tasks"][0]["containerInstanceArn"] == arn
    described = ecs.describe_container_instances(cluster=name, containerInstances=[arn])["containerInstances"][0]
    assert described["pendingTasksCount"] + described["runningTasksCount"] == 1
    assert e2e.resource_value(described["remainingResources"], "MEMORY") == 4096 - 16

    gone = ecs.deregister_container_instance(cluster=name, containerInstance=arn, force=True)
    assert gone["containerInstance"]["containerInstanceArn"] == arn
    assert gone["containerInstance"]["status"] == "INACTIVE"
    assert ecs.list_container_instances(cluster=name)["containerInstanceArns"] == []


def test_tagging_operations(ecs, cluster, instance, cleanup_tasks):
    name = e2e.unique_name("tags")
    cluster_resource = ecs.create_cluster(clusterName=name)["cluster"]["clusterArn"]
    family = e2e.unique_name("tags-td")
    definition = ecs.register_task_definition(**sleeper(family))["taskDefinition"]["taskDefinitionArn"]
    task = ecs.run_task(cluster=cluster, taskDefinition=family)["tasks"][0]["taskArn"]
    cleanup_tasks.append((ecs, cluster, task))

    for resource in (cluster_resource, definition, task, instance["containerInstanceArn"]):
        assert ecs.list_tags_for_resource(resourceArn=resource)["tags"] == [], resource
        ecs.tag_resource(resourceArn=resource, tags=[{"key": "a", "value": "1"}, {"key": "b", "value": "2"}])
        tags = ecs.list_tags_for_resource(resourceArn=resource)["tags"]
        assert sorted(tags, key=lambda t: t["key"]) == [{"key": "a", "value": "1"}, {"key": "b", "value": "2"}]
        ecs.tag_resource(resourceArn=resource, tags=[{"key": "a", "value": "3"}])
        ecs.untag_resource(resourceArn=resource, tagKeys=["b"])
        assert ecs.list_tags_for_resource(resourceArn=resource)["tags"] == [{"key": "a", "value": "3"}]

    with pytest.raises(ClientError) as raised:
        ecs.list_tags_for_resource(resourceArn=f"{ARN_PREFIX}cluster/e2e-no-such-cluster")
    assert raised.value.response["Error"]["Code"] in ("ClusterNotFoundException", "InvalidParameterException")
    ecs.stop_task(cluster=cluster, task=task)
