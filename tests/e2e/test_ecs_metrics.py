"""ECS's own CloudWatch metrics as a user reads them: a real container's CPU and memory, sampled
by the agent, come back from GetMetricStatistics, GetMetricData and ListMetrics on the same
endpoint (boto3 and the real aws CLI), and the cluster setting `containerInsights` adds the
ECS/ContainerInsights namespace.

- A service whose one task spins a core against a one-core (1024 units) task reservation shows
  `AWS/ECS` CPUUtilization near 100 %, MemoryUtilization within (0, 100]; updated to an idle
  command, a later minute's CPUUtilization falls near 0. The aws CLI answers the same minutes.
- ListMetrics finds CPUUtilization by service and by cluster; Container Insights figures appear
  for a service only once its cluster's `containerInsights` is enabled, RunningTaskCount counting
  its running tasks, and never for a second cluster (its own agent, same endpoint) without it.

The agent samples every second (`--usage-sample-interval 1s`), so datapoints arrive within
seconds; CloudWatch's minute periods are waited for with bounded polls on the datapoints
themselves, never with sleeps.
"""

from __future__ import annotations

import datetime

import pytest

import berth_e2e as e2e

pytestmark = pytest.mark.docker

BERTH_UP_EXTRA = ["--usage-sample-interval", "1s", "--service-settle-time", "2s",
                  "--service-throttle-delay", "1s"]

UTC = datetime.timezone.utc
MINUTE = datetime.timedelta(minutes=1)
BUSY = ["sh", "-c", "while :; do :; done"]
IDLE = ["sleep", "3600"]


def definition(family: str, command: list[str], cpu: int, memory: int) -> dict:
    """One busybox container under task-level `cpu` (units) and `memory` (MiB) reservations."""
    container = {"name": "main", "image": e2e.TEST_IMAGE, "essential": True, "command": command,
                 "stopTimeout": 2}
    return {"family": family, "cpu": str(cpu), "memory": str(memory), "requiresCompatibilities": ["EC2"],
            "containerDefinitions": [container]}


def register(ecs, document: dict) -> str:
    return ecs.register_task_definition(**document)["taskDefinition"]["taskDefinitionArn"]


def this_minute() -> datetime.datetime:
    return datetime.datetime.now(UTC).replace(second=0, microsecond=0)


def iso(instant: datetime.datetime) -> str:
    return instant.strftime("%Y-%m-%dT%H:%M:%SZ")


def dimensions(cluster: str, **extra: str) -> list[dict]:
    return [{"Name": "ClusterName", "Value": cluster}] + [{"Name": name, "Value": value}
                                                           for name, value in extra.items()]


def dimension_names(metric: dict) -> frozenset[str]:
    return frozenset(dimension["Name"] for dimension in metric["Dimensions"])


@pytest.fixture(scope="module")
def cloudwatch(berth):
    return e2e.aws_client("cloudwatch", berth.url)


@pytest.fixture(scope="module")
def cli(berth, tmp_path_factory):
    return e2e.AwsCli(berth.url, tmp_path_factory.mktemp("aws-ecs-metrics"), service="cloudwatch")


def statistics(cloudwatch, namespace: str, metric: str, dims: list[dict], start: datetime.datetime,
               end: datetime.datetime, stats=("Average", "Maximum", "Minimum", "SampleCount")) -> list[dict]:
    """The metric's one-minute datapoints in [start, end), oldest first."""
    points = cloudwatch.get_metric_statistics(Namespace=namespace, MetricName=metric, Dimensions=dims,
                                              StartTime=start, EndTime=end, Period=60,
                                              Statistics=list(stats))["Datapoints"]
    return sorted(points, key=lambda point: point["Timestamp"])


def test_cpu_and_memory_utilization_of_a_busy_then_idle_service(ecs, cluster, services, cloudwatch, cli):
    family = e2e.unique_name("spin")
    busy_arn = register(ecs, definition(family, BUSY, cpu=1024, memory=128))
    name = e2e.unique_name("spinsvc")
    # Replace rather than overlap on update: the idle task starts after the busy one stopped.
    ecs.create_service(cluster=cluster, serviceName=name, taskDefinition=busy_arn, desiredCount=1,
                       deploymentConfiguration={"minimumHealthyPercent": 0, "maximumPercent": 100})
    services.append(name)
    window_start = this_minute()
    e2e.wait_service_steady(ecs, cluster, name, 1, busy_arn)
    service_dims = dimensions(cluster, ServiceName=name)
    horizon = window_start + 10 * MINUTE

    # 1. One core spinning against a one-core reservation: near 100 %.
    busy = e2e.wait_until(
        lambda: statistics(cloudwatch, "AWS/ECS", "CPUUtilization", service_dims, window_start, horizon),
        lambda points: any(point["Maximum"] > 80 for point in points),
        timeout=120, interval=1, what="the busy service's CPUUtilization Maximum above 80 %")
    for point in busy:
        assert point["Unit"] == "Percent", point
        assert 0 <= point["Minimum"] <= point["Average"] <= point["Maximum"], point
        # One thread cannot use more than the one core it reserved (with sampling jitter).
        assert point["Maximum"] < 130, point

    # The cluster's figures divide by what the instance registered: the spinning core is its
    # share of the instance's CPU, and the task's reservations its share of what is reserved.
    [instance] = e2e.container_instances(ecs, cluster)
    registered_cpu = e2e.resource_value(instance["registeredResources"], "CPU")
    registered_memory = e2e.resource_value(instance["registeredResources"], "MEMORY")
    cluster_cpu = statistics(cloudwatch, "AWS/ECS", "CPUUtilization", dimensions(cluster), window_start, horizon)
    assert any(point["Maximum"] > 80 * 1024 / registered_cpu for point in cluster_cpu), (cluster_cpu, registered_cpu)
    assert all(point["Maximum"] < 130 * 1024 / registered_cpu for point in cluster_cpu), (cluster_cpu, registered_cpu)
    for metric, expected in (("CPUReservation", 1024 * 100 / registered_cpu),
                             ("MemoryReservation", 128 * 100 / registered_memory)):
        points = statistics(cloudwatch, "AWS/ECS", metric, dimensions(cluster), window_start, horizon)
        assert points and all(point["Minimum"] == point["Maximum"] == pytest.approx(expected) for point in points), \
            (metric, points, expected)

    # 2. Its memory, a few hundred KiB of busybox against 128 MiB: a small, positive share.
    memory = e2e.wait_until(
        lambda: statistics(cloudwatch, "AWS/ECS", "MemoryUtilization", service_dims, window_start, horizon),
        timeout=60, interval=1, what="the busy service's MemoryUtilization")
    for point in memory:
        assert point["Unit"] == "Percent", point
        assert 0 < point["Minimum"] <= point["Average"] <= point["Maximum"] <= 100, point

    # 3. The same service on an idle command: a minute that starts after the busy task stopped
    # is near 0 %.
    idle_arn = register(ecs, definition(family, IDLE, cpu=1024, memory=128))
    ecs.update_service(cluster=cluster, service=name, taskDefinition=idle_arn)
    e2e.wait_service_steady(ecs, cluster, name, 1, idle_arn)
    idle_minute = this_minute() + MINUTE
    idle = e2e.wait_until(
        lambda: statistics(cloudwatch, "AWS/ECS", "CPUUtilization", service_dims, idle_minute, horizon + MINUTE),
        timeout=150, interval=1, what=f"a CPUUtilization datapoint at or after {idle_minute}")
    assert idle[0]["Timestamp"] == idle_minute, idle
    assert all(point["Maximum"] < 20 for point in idle), idle

    # 4. The minutes before the idle one are complete now; the real aws CLI answers them as
    # boto3 does, with JSON 1.0's epoch-second timestamps.
    closed = statistics(cloudwatch, "AWS/ECS", "CPUUtilization", service_dims, window_start, idle_minute,
                        stats=("Average", "Maximum"))
    assert any(point["Maximum"] > 80 for point in closed), closed
    answer = cli("get-metric-statistics", "--namespace", "AWS/ECS", "--metric-name", "CPUUtilization",
                 "--dimensions", f"Name=ClusterName,Value={cluster}", f"Name=ServiceName,Value={name}",
                 "--start-time", iso(window_start), "--end-time", iso(idle_minute), "--period", "60",
                 "--statistics", "Average", "Maximum", "--unit", "Percent")
    assert answer["Label"] == "CPUUtilization", answer
    by_cli = sorted(answer["Datapoints"], key=lambda point: point["Timestamp"])
    assert [(point["Timestamp"], point["Average"], point["Maximum"], point["Unit"]) for point in by_cli] == \
        [(point["Timestamp"].timestamp(), point["Average"], point["Maximum"], "Percent") for point in closed], \
        (by_cli, closed)

    def query(query_id: str, metric: str, stat: str) -> dict:
        return {"Id": query_id, "MetricStat": {"Period": 60, "Stat": stat, "Metric": {
            "Namespace": "AWS/ECS", "MetricName": metric, "Dimensions": service_dims}}}

    queries = [query("cpumax", "CPUUtilization", "Maximum"), query("cpuavg", "CPUUtilization", "Average"),
               query("memory", "MemoryUtilization", "Maximum")]
    answer = cli("get-metric-data", "--start-time", iso(window_start), "--end-time", iso(idle_minute),
                 "--scan-by", "TimestampAscending", "--metric-data-queries", cli.write_json("queries.json", queries))
    results = {result["Id"]: result for result in answer["MetricDataResults"]}
    assert set(results) == {"cpumax", "cpuavg", "memory"}, results
    epochs = [point["Timestamp"].timestamp() for point in closed]
    assert results["cpumax"]["StatusCode"] == "Complete", results["cpumax"]
    assert results["cpumax"]["Timestamps"] == epochs, (results["cpumax"], closed)
    assert results["cpumax"]["Values"] == [point["Maximum"] for point in closed], (results["cpumax"], closed)
    assert results["cpuavg"]["Values"] == [point["Average"] for point in closed], (results["cpuavg"], closed)
    closed_memory = statistics(cloudwatch, "AWS/ECS", "MemoryUtilization", service_dims, window_start, idle_minute)
    assert results["memory"]["Timestamps"] == [point["Timestamp"].timestamp() for point in closed_memory]
    assert results["memory"]["Values"] == [point["Maximum"] for point in closed_memory], results["memory"]
    assert all(0 < value <= 100 for value in results["memory"]["Values"]), results["memory"]
    listed = cli("list-metrics", "--namespace", "AWS/ECS", "--dimensions", f"Name=ServiceName,Value={name}")["Metrics"]
    assert sorted(metric["MetricName"] for metric in listed) == ["CPUUtilization", "MemoryUtilization"], listed
    assert all(metric["Dimensions"] == service_dims for metric in listed), listed


def insights_metrics(cloudwatch, cluster: str) -> list[dict]:
    return cloudwatch.list_metrics(Namespace="ECS/ContainerInsights",
                                   Dimensions=[{"Name": "ClusterName", "Value": cluster}])["Metrics"]


def test_list_metrics_and_container_insights_follow_the_cluster_setting(ecs, berth, cluster, services, cloudwatch,
                                                                        processes, cleanup_tasks):
    family = e2e.unique_name("idle")
    arn = register(ecs, definition(family, IDLE, cpu=256, memory=64))
    name = e2e.unique_name("idlesvc")
    ecs.create_service(cluster=cluster, serviceName=name, taskDefinition=arn, desiredCount=2)
    services.append(name)
    started = this_minute()
    # A second cluster, with its own agent on this endpoint, never gets the setting.
    other = e2e.unique_name("plain")
    ecs.create_cluster(clusterName=other)
    processes.agent(berth.url, other, "plain", ["--usage-sample-interval", "1s"])
    e2e.wait_for_instances(ecs, other, 1)
    [other_task] = ecs.run_task(cluster=other, taskDefinition=arn)["tasks"]
    cleanup_tasks.append((ecs, other, other_task["taskArn"]))
    e2e.wait_service_steady(ecs, cluster, name, 2, arn)
    e2e.wait_status(ecs, other, other_task["taskArn"], "RUNNING")

    # ListMetrics: CPUUtilization by service and by cluster, once the service has reported.
    def cpu_metrics() -> list[dict]:
        return cloudwatch.list_metrics(Namespace="AWS/ECS", MetricName="CPUUtilization",
                                       Dimensions=[{"Name": "ClusterName", "Value": cluster}])["Metrics"]

    listed = e2e.wait_until(cpu_metrics, lambda metrics: any(
        {"Name": "ServiceName", "Value": name} in metric["Dimensions"] for metric in metrics),
        timeout=60, interval=1, what=f"CPUUtilization of {name} in ListMetrics")
    assert {"Namespace": "AWS/ECS", "MetricName": "CPUUtilization",
            "Dimensions": dimensions(cluster, ServiceName=name)} in listed, listed
    assert {"Namespace": "AWS/ECS", "MetricName": "CPUUtilization", "Dimensions": dimensions(cluster)} in listed, listed
    reservation = cloudwatch.list_metrics(Namespace="AWS/ECS", MetricName="CPUReservation",
                                          Dimensions=[{"Name": "ClusterName", "Value": cluster}])["Metrics"]
    assert [metric["Dimensions"] for metric in reservation] == [dimensions(cluster)], reservation

    # Without the setting, the reports that made those metrics made no Container Insights.
    settings = ecs.describe_clusters(clusters=[cluster], include=["SETTINGS"])["clusters"][0]["settings"]
    assert {"name": "containerInsights", "value": "disabled"} in settings, settings
    assert insights_metrics(cloudwatch, cluster) == []

    service_dims = dimensions(cluster, ServiceName=name)

    def other_samples() -> float:
        points = statistics(cloudwatch, "AWS/ECS", "CPUUtilization", dimensions(other), started, started + 10 * MINUTE)
        return sum(point["SampleCount"] for point in points)

    updated = ecs.update_cluster_settings(cluster=cluster,
                                          settings=[{"name": "containerInsights", "value": "enabled"}])
    try:
        assert {"name": "containerInsights", "value": "enabled"} in updated["cluster"]["settings"], updated
        other_before = other_samples()
        horizon = started + 10 * MINUTE
        running = e2e.wait_until(
            lambda: statistics(cloudwatch, "ECS/ContainerInsights", "RunningTaskCount", service_dims, started, horizon),
            timeout=60, interval=1, what=f"RunningTaskCount of {name}")
        assert all((point["Minimum"], point["Maximum"], point["Unit"]) == (2.0, 2.0, "Count")
                   for point in running), running
        assert e2e.describe_service(ecs, cluster, name)["runningCount"] == 2
        desired = statistics(cloudwatch, "ECS/ContainerInsights", "DesiredTaskCount", service_dims, started, horizon)
        assert desired and all(point["Maximum"] == 2.0 for point in desired), desired

        cpu = e2e.wait_until(
            lambda: statistics(cloudwatch, "ECS/ContainerInsights", "CpuUtilized", service_dims, started, horizon),
            timeout=60, interval=1, what=f"CpuUtilized of {name}")
        # Sleeping tasks use next to none of the 256 units each reserved.
        assert all(0 <= point["Maximum"] < 256 * 0.2 and point["Unit"] == "None" for point in cpu), cpu
        reserved = statistics(cloudwatch, "ECS/ContainerInsights", "CpuReserved", service_dims, started, horizon)
        assert reserved and all(point["Maximum"] == 256.0 for point in reserved), reserved
        memory = statistics(cloudwatch, "ECS/ContainerInsights", "MemoryReserved", service_dims, started, horizon)
        assert memory and all((point["Maximum"], point["Unit"]) == (64.0, "Megabytes") for point in memory), memory

        by_metric: dict[str, set[frozenset[str]]] = {}
        for metric in e2e.wait_until(lambda: insights_metrics(cloudwatch, cluster), lambda metrics: {
                (metric["MetricName"], dimension_names(metric)) for metric in metrics} >= {
                ("CpuUtilized", frozenset({"ClusterName"})),
                ("CpuUtilized", frozenset({"ClusterName", "TaskDefinitionFamily"}))},
                timeout=30, interval=1, what="CpuUtilized under each dimension set"):
            by_metric.setdefault(metric["MetricName"], set()).add(dimension_names(metric))
        assert by_metric["CpuUtilized"] == {frozenset({"ClusterName"}), frozenset({"ClusterName", "ServiceName"}),
                                            frozenset({"ClusterName", "TaskDefinitionFamily"})}, by_metric
        assert by_metric["RunningTaskCount"] == {frozenset({"ClusterName", "ServiceName"})}, by_metric
        family_metrics = cloudwatch.list_metrics(Namespace="ECS/ContainerInsights", MetricName="MemoryUtilized",
                                                 Dimensions=dimensions(cluster, TaskDefinitionFamily=family))
        assert len(family_metrics["Metrics"]) == 1, family_metrics

        # The other cluster's agent kept reporting after the setting changed (its samples keep
        # adding up), and its reports still make AWS/ECS metrics only.
        e2e.wait_until(other_samples, lambda count: count > other_before,
                       timeout=60, interval=1, what=f"reports of {other} after the setting changed")
        assert insights_metrics(cloudwatch, other) == []
    finally:
        ecs.update_cluster_settings(cluster=cluster, settings=[{"name": "containerInsights", "value": "disabled"}])
