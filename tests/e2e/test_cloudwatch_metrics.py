"""CloudWatch metrics through the real aws CLI and boto3: put-metric-data, get-metric-statistics
and get-metric-data (metric math) answer what was put, list-metrics finds it by its dimensions,
a bad datum is refused naming its field with nothing stored, an alarm really evaluated goes to
ALARM and back to OK as its metric moves, and acknowledged datapoints and alarms survive a kill -9
of the server."""

from __future__ import annotations

import datetime

import pytest

import berth_e2e as e2e

pytestmark = pytest.mark.docker

UTC = datetime.timezone.utc


def minute_ago(minutes: int) -> datetime.datetime:
    now = datetime.datetime.now(UTC).replace(second=0, microsecond=0)
    return now - datetime.timedelta(minutes=minutes)


def iso(instant: datetime.datetime) -> str:
    return instant.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module")
def cli(berth, tmp_path_factory):
    return e2e.AwsCli(berth.url, tmp_path_factory.mktemp("aws-metrics"), service="cloudwatch")


def test_the_aws_cli_puts_and_reads_metrics(cli):
    start = minute_ago(10)
    data = [{"MetricName": "Requests", "Timestamp": iso(start + datetime.timedelta(minutes=n)), "Value": float(n + 1),
             "Unit": "Count", "Dimensions": [{"Name": "ServiceName", "Value": service}]}
            for n in range(5) for service in ("web", "api")]
    cli("put-metric-data", "--namespace", "Shop", "--metric-data", cli.write_json('data.json', data))

    statistics = cli("get-metric-statistics", "--namespace", "Shop", "--metric-name", "Requests",
                     "--dimensions", "Name=ServiceName,Value=web", "--start-time", iso(start),
                     "--end-time", iso(start + datetime.timedelta(minutes=5)), "--period", "120",
                     "--statistics", "Sum", "Maximum", "SampleCount")
    points = sorted(statistics["Datapoints"], key=lambda point: point["Timestamp"])
    assert [(point["Sum"], point["Maximum"], point["SampleCount"]) for point in points] == \
        [(3.0, 2.0, 2.0), (7.0, 4.0, 2.0), (5.0, 5.0, 1.0)], points
    assert all(point["Unit"] == "Count" for point in points), points

    def stat(service: str) -> dict:
        return {"Id": service, "ReturnData": False, "MetricStat": {"Period": 60, "Stat": "Sum", "Metric": {
            "Namespace": "Shop", "MetricName": "Requests",
            "Dimensions": [{"Name": "ServiceName", "Value": service}]}}}

    queries = [stat("web"), stat("api"), {"Id": "total", "Expression": "SUM(METRICS())", "Label": "all"},
               {"Id": "share", "Expression": "100 * web / total"}]
    answer = cli("get-metric-data", "--start-time", iso(start), "--end-time", iso(start + datetime.timedelta(minutes=5)),
                 "--scan-by", "TimestampAscending",
                 "--metric-data-queries", cli.write_json('queries.json', queries))
    results = {result["Id"]: result for result in answer["MetricDataResults"]}
    assert set(results) == {"total", "share"}, results
    assert results["total"]["Label"] == "all"
    assert results["total"]["Values"] == [2.0, 4.0, 6.0, 8.0, 10.0], results["total"]
    assert results["share"]["Values"] == [50.0] * 5, results["share"]
    # aws CLI v1 prints timestamps as they came on the wire: JSON 1.0's epoch seconds.
    assert results["total"]["Timestamps"][0] == int(start.timestamp()), results["total"]

    listed = cli("list-metrics", "--namespace", "Shop", "--dimensions", "Name=ServiceName,Value=api")["Metrics"]
    assert listed == [{"Namespace": "Shop", "MetricName": "Requests",
                       "Dimensions": [{"Name": "ServiceName", "Value": "api"}]}], listed


def test_a_bad_datum_is_refused_naming_its_field_and_nothing_is_stored(cli):
    data = [{"MetricName": "Good", "Value": 1.0},
            {"MetricName": "Late", "Value": 1.0, "Timestamp": iso(minute_ago(60 * 24 * 20))}]
    result = cli.fails("put-metric-data", "--namespace", "Refused",
                       "--metric-data", cli.write_json('bad.json', data))
    assert "InvalidParameterValue" in result.stderr and "MetricData.member.2.Timestamp" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert cli("list-metrics", "--namespace", "Refused")["Metrics"] == []
    result = cli.fails("put-metric-data", "--namespace", "AWS/ECS", "--metric-name", "CPUUtilization", "--value", "1")
    assert "Namespace" in result.stderr and "AWS/" in result.stderr, result.stderr
    result = cli.fails("get-metric-statistics", "--namespace", "Shop", "--metric-name", "Requests",
                       "--start-time", iso(minute_ago(60 * 48)), "--end-time", iso(minute_ago(0)),
                       "--period", "60", "--statistics", "Sum")
    assert "InvalidParameterCombination" in result.stderr and "1440" in result.stderr, result.stderr


def test_datapoints_survive_a_kill_9_of_the_server(processes):
    server = processes.server(["--no-proxy"])
    cloudwatch = e2e.aws_client("cloudwatch", server.url)
    start = minute_ago(30)
    # Each body of 100 datums is over 10 KiB, so botocore sends it gzipped.
    for batch in range(10):
        cloudwatch.put_metric_data(Namespace="Durable", MetricData=[
            {"MetricName": "Depth", "Value": float(batch * 100 + n), "Timestamp": start + datetime.timedelta(seconds=n),
             "Dimensions": [{"Name": "Queue", "Value": f"q{n % 4}"}]} for n in range(100)])
    server.process.kill()
    server.process.restart()
    server.wait_ready()
    total = 0.0
    count = 0.0
    for queue in range(4):
        [point] = cloudwatch.get_metric_statistics(
            Namespace="Durable", MetricName="Depth", Dimensions=[{"Name": "Queue", "Value": f"q{queue}"}],
            StartTime=start, EndTime=start + datetime.timedelta(minutes=2), Period=120,
            Statistics=["Sum", "SampleCount"])["Datapoints"]
        total += point["Sum"]
        count += point["SampleCount"]
    assert count == 1000.0
    assert total == float(sum(batch * 100 + n for batch in range(10) for n in range(100)))
    assert len(cloudwatch.list_metrics(Namespace="Durable")["Metrics"]) == 4


def test_an_alarm_follows_its_metric_to_alarm_and_back_to_ok(berth):
    cloudwatch = e2e.aws_client("cloudwatch", berth.url)
    dimensions = [{"Name": "Queue", "Value": "orders"}]
    cloudwatch.put_metric_alarm(
        AlarmName="backlog", Namespace="Shop", MetricName="Backlog", Dimensions=dimensions, Statistic="Maximum",
        Period=10, EvaluationPeriods=1, Threshold=100.0, ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="notBreaching")

    def state() -> str:
        return cloudwatch.describe_alarms(AlarmNames=["backlog"])["MetricAlarms"][0]["StateValue"]

    def put(value: float) -> None:
        cloudwatch.put_metric_data(Namespace="Shop", MetricData=[
            {"MetricName": "Backlog", "Dimensions": dimensions, "Value": value, "StorageResolution": 1}])

    # Each put lands in the 10 s period in progress; keep putting until the evaluator sees it.
    e2e.wait_until(lambda: put(500.0) or state(), lambda seen: seen == "ALARM", timeout=60,
                   what="the alarm to go to ALARM")
    [alarm] = cloudwatch.describe_alarms(AlarmNames=["backlog"])["MetricAlarms"]
    assert "was greater than the threshold (100.0)" in alarm["StateReason"], alarm["StateReason"]
    e2e.wait_until(lambda: put(3.0) or state(), lambda seen: seen == "OK", timeout=60,
                   what="the alarm to go back to OK")
    history = cloudwatch.describe_alarm_history(AlarmName="backlog", HistoryItemType="StateUpdate",
                                                ScanBy="TimestampAscending")["AlarmHistoryItems"]
    summaries = [item["HistorySummary"] for item in history]
    # The evaluator may have run once before the first datapoint landed: with no data and
    # `notBreaching` the alarm is then OK first, as CloudWatch's would be.
    assert summaries[0].startswith("Alarm updated from INSUFFICIENT_DATA to "), summaries
    to_alarm = next(index for index, summary in enumerate(summaries) if summary.endswith(" to ALARM"))
    assert summaries[to_alarm + 1] == "Alarm updated from ALARM to OK", summaries


def test_alarms_survive_a_kill_9_of_the_server(processes):
    server = processes.server(["--no-proxy"])
    cloudwatch = e2e.aws_client("cloudwatch", server.url)
    cloudwatch.put_metric_alarm(
        AlarmName="kept", Namespace="Durable", MetricName="Depth", Statistic="Sum", Period=60,
        EvaluationPeriods=5, DatapointsToAlarm=3, Threshold=1.0, ComparisonOperator="LessThanThreshold",
        TreatMissingData="ignore")
    cloudwatch.set_alarm_state(AlarmName="kept", StateValue="ALARM", StateReason="set before the crash")
    server.process.kill()
    server.process.restart()
    server.wait_ready()
    [alarm] = cloudwatch.describe_alarms(AlarmNames=["kept"])["MetricAlarms"]
    assert (alarm["StateValue"], alarm["StateReason"]) == ("ALARM", "set before the crash"), alarm
    assert (alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"], alarm["ComparisonOperator"]) == \
        (5, 3, "LessThanThreshold"), alarm
