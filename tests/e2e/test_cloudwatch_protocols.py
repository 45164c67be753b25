"""CloudWatch on Berth's endpoint in each of the three protocols its model lists: boto3 clients
forced to RPC v2 CBOR (the model's own `protocol`), JSON 1.0 (what the pinned botocore and aws
CLI pick, JSON being first in botocore's protocol priority) and Query (what older botocore and
CLI versions speak) send real requests; a bad or missing field comes back as the model's
error in that protocol, naming the field; metric data put in one protocol is read back in it;
an alarm is made, listed, set, tagged and deleted in it; and the aws CLI shows a refusal as a
clean message.
The answers Berth encodes (the wire crate's answer fixtures) parse in botocore's own parsers.

A client is forced to one protocol by a copy of botocore's model whose `protocol` and
`protocols` name only that one, put first on the client's data path.
"""

from __future__ import annotations

import datetime
import gzip
import json
import os
import re
import urllib.error
import urllib.request

import boto3
import botocore.exceptions
import botocore.parsers
import botocore.session
import pytest
from botocore.config import Config

import berth_e2e as e2e

pytestmark = pytest.mark.docker

PROTOCOLS = ["smithy-rpc-v2-cbor", "json", "query"]
TARGET_PREFIX = "GraniteServiceVersion20100801"
FIXTURES = e2e.REPO_ROOT / "crates/berth-cloudwatch-wire/tests/fixtures"


def model_path() -> str:
    loader = botocore.session.get_session().get_component("data_loader")
    base = os.path.join(loader.BUILTIN_DATA_PATH, "cloudwatch", "2010-08-01", "service-2.json")
    return base if os.path.exists(base) else base + ".gz"


def original_model() -> dict:
    path = model_path()
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as file:
        return json.load(file)


@pytest.fixture(scope="module")
def data_paths(tmp_path_factory) -> dict[str, str]:
    """For each protocol, a data directory holding a CloudWatch model that speaks only it."""
    root = tmp_path_factory.mktemp("cloudwatch-models")
    paths = {}
    for protocol in PROTOCOLS:
        model = original_model()
        model["metadata"]["protocol"] = protocol
        model["metadata"]["protocols"] = [protocol]
        directory = root / protocol / "cloudwatch" / "2010-08-01"
        directory.mkdir(parents=True)
        (directory / "service-2.json").write_text(json.dumps(model))
        paths[protocol] = str(root / protocol)
    return paths


class Sent:
    """The last request a client put on the wire, to prove which protocol carried it."""

    def __init__(self):
        self.url = ""
        self.headers: dict[str, str] = {}
        self.body = b""

    def __call__(self, request, **_kwargs):
        self.url = request.url
        self.headers = {key.lower(): value.decode() if isinstance(value, bytes) else value
                        for key, value in request.headers.items()}
        self.body = request.body or b""


def cloudwatch_client(url: str, data_path: str):
    """A boto3 CloudWatch client that speaks only the protocol of the model at `data_path`,
    without botocore's parameter validation (so the server's own checks are what is tested)
    and without retries. Query answers go through the strict XML validator."""
    core = botocore.session.Session()
    core.get_component("data_loader").search_paths.insert(0, data_path)
    session = boto3.session.Session(botocore_session=core, aws_access_key_id="test",
                                    aws_secret_access_key="test", region_name=e2e.REGION)
    client = session.client("cloudwatch", endpoint_url=url, config=Config(
        retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=5, read_timeout=30,
        parameter_validation=False))
    if client.meta.service_model.protocol == "query":
        client.meta.events.register("after-call", e2e._after_call)
    client.sent = Sent()  # type: ignore[attr-defined]
    client.meta.events.register("before-send", client.sent)
    return client


@pytest.fixture(scope="module", params=PROTOCOLS)
def cloudwatch(request, berth, data_paths):
    client = cloudwatch_client(berth.url, data_paths[request.param])
    assert client.meta.service_model.resolved_protocol == request.param
    return client


def assert_sent_in_its_protocol(client, operation: str) -> None:
    protocol = client.meta.service_model.resolved_protocol
    sent = client.sent
    if protocol == "smithy-rpc-v2-cbor":
        assert sent.url.endswith(f"/service/{TARGET_PREFIX}/operation/{operation}"), sent.url
        assert sent.headers.get("smithy-protocol") == "rpc-v2-cbor", sent.headers
    elif protocol == "json":
        assert sent.headers.get("x-amz-target") == f"{TARGET_PREFIX}.{operation}", sent.headers
        assert sent.headers.get("content-type") == "application/x-amz-json-1.0", sent.headers
    else:
        body = sent.body if isinstance(sent.body, bytes) else str(sent.body).encode()
        if sent.headers.get("content-encoding") == "gzip":
            body = gzip.decompress(body)
        assert f"Action={operation}".encode() in body, body


def refusal(call, **params) -> botocore.exceptions.ClientError:
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        call(**params)
    return caught.value


def test_a_missing_member_is_missing_parameter_naming_it(cloudwatch):
    error = refusal(cloudwatch.put_metric_data, Namespace="Berth/e2e",
                    MetricData=[{"MetricName": "Latency", "Value": 1.0}, {"Value": 2.0}])
    assert_sent_in_its_protocol(cloudwatch, "PutMetricData")
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error.response["Error"]["Code"] == "MissingParameter", error.response
    message = error.response["Error"]["Message"]
    assert "MetricData" in message and "MetricName" in message, message
    # The code finds the model's exception class, in every protocol.
    assert isinstance(error, cloudwatch.exceptions.MissingRequiredParameterException)


def test_a_wrong_value_is_invalid_parameter_value_naming_it(cloudwatch):
    error = refusal(cloudwatch.put_metric_data, Namespace="Berth/e2e",
                    MetricData=[{"MetricName": "Latency", "Value": 1.0, "Unit": "Parsecs"}])
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error.response["Error"]["Code"] == "InvalidParameterValue", error.response
    message = error.response["Error"]["Message"]
    assert "Unit" in message and "Parsecs" in message, message
    assert isinstance(error, cloudwatch.exceptions.InvalidParameterValueException)


def test_metric_data_is_stored_and_read_back_in_its_protocol(cloudwatch):
    protocol = cloudwatch.meta.service_model.resolved_protocol
    namespace = f"Berth/e2e-{protocol}"
    minute = datetime.datetime.now(datetime.timezone.utc).replace(second=0, microsecond=0)
    now = minute - datetime.timedelta(minutes=5)
    dimensions = [{"Name": "Service", "Value": "web"}, {"Name": "Cluster", "Value": "c1"}]
    cloudwatch.put_metric_data(Namespace=namespace, MetricData=[
        {"MetricName": "Latency", "Timestamp": now.replace(microsecond=250000), "Value": 12.5,
         "Unit": "Milliseconds", "Dimensions": dimensions},
        {"MetricName": "Latency", "Timestamp": now, "Values": [1.0, 2.0], "Counts": [3.0, 1.0],
         "Unit": "Milliseconds", "Dimensions": dimensions},
    ])
    assert_sent_in_its_protocol(cloudwatch, "PutMetricData")
    statistics = cloudwatch.get_metric_statistics(
        Namespace=namespace, MetricName="Latency", Dimensions=list(reversed(dimensions)),
        StartTime=now, EndTime=now + datetime.timedelta(minutes=1), Period=60,
        Statistics=["SampleCount", "Sum", "Maximum", "Minimum", "Average"])
    assert statistics["Label"] == "Latency"
    [point] = statistics["Datapoints"]
    assert point["Timestamp"] == now, point
    assert (point["SampleCount"], point["Sum"], point["Minimum"], point["Maximum"]) == (5.0, 17.5, 1.0, 12.5), point
    assert point["Average"] == 3.5 and point["Unit"] == "Milliseconds", point

    data = cloudwatch.get_metric_data(
        StartTime=now, EndTime=now + datetime.timedelta(minutes=1), MetricDataQueries=[
            {"Id": "latency", "ReturnData": False, "MetricStat": {
                "Metric": {"Namespace": namespace, "MetricName": "Latency", "Dimensions": dimensions},
                "Period": 60, "Stat": "Sum"}},
            {"Id": "doubled", "Expression": "latency * 2", "Label": "twice"}])
    [result] = data["MetricDataResults"]
    assert (result["Id"], result["Label"], result["StatusCode"]) == ("doubled", "twice", "Complete"), result
    assert result["Timestamps"] == [now] and result["Values"] == [35.0], result

    metrics = cloudwatch.list_metrics(Namespace=namespace)["Metrics"]
    assert metrics == [{"Namespace": namespace, "MetricName": "Latency",
                        "Dimensions": sorted(dimensions, key=lambda dimension: dimension["Name"])}], metrics


def test_alarms_are_kept_in_its_protocol(cloudwatch):
    protocol = cloudwatch.meta.service_model.resolved_protocol
    name = f"cpu-high-{protocol}"
    cloudwatch.put_metric_alarm(
        AlarmName=name, Namespace="Berth/e2e", MetricName="CPU", Statistic="Maximum", Period=60,
        EvaluationPeriods=3, DatapointsToAlarm=2, Threshold=80.0, ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="notBreaching", Dimensions=[{"Name": "Service", "Value": "web"}],
        AlarmActions=["arn:aws:sns:us-east-1:000000000000:pager"], Tags=[{"Key": "team", "Value": "web"}])
    assert_sent_in_its_protocol(cloudwatch, "PutMetricAlarm")
    [alarm] = cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"]
    assert (alarm["StateValue"], alarm["StateReason"]) == ("INSUFFICIENT_DATA", "Unchecked: Initial alarm creation"), alarm
    assert (alarm["Threshold"], alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (80.0, 3, 2), alarm
    assert alarm["AlarmArn"] == f"arn:aws:cloudwatch:{e2e.REGION}:{e2e.ACCOUNT}:alarm:{name}", alarm
    assert alarm["TreatMissingData"] == "notBreaching" and alarm["Dimensions"] == [{"Name": "Service", "Value": "web"}]

    cloudwatch.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="by hand",
                               StateReasonData='{"source": "e2e"}')
    [alarm] = cloudwatch.describe_alarms(AlarmNames=[name], StateValue="ALARM")["MetricAlarms"]
    assert alarm["StateReason"] == "by hand"
    history = cloudwatch.describe_alarm_history(AlarmName=name, HistoryItemType="StateUpdate")["AlarmHistoryItems"]
    assert [item["HistorySummary"] for item in history] == ["Alarm updated from INSUFFICIENT_DATA to ALARM"], history
    for_metric = cloudwatch.describe_alarms_for_metric(Namespace="Berth/e2e", MetricName="CPU",
                                                       Dimensions=[{"Name": "Service", "Value": "web"}])
    assert name in [alarm["AlarmName"] for alarm in for_metric["MetricAlarms"]]

    assert cloudwatch.list_tags_for_resource(ResourceARN=alarm["AlarmArn"])["Tags"] == [{"Key": "team", "Value": "web"}]
    cloudwatch.disable_alarm_actions(AlarmNames=[name])
    assert cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["ActionsEnabled"] is False
    cloudwatch.delete_alarms(AlarmNames=[name])
    assert cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"] == []
    error = refusal(cloudwatch.set_alarm_state, AlarmName=name, StateValue="OK", StateReason="gone")
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert error.response["Error"]["Code"] == "ResourceNotFound", error.response
    assert error.response["ResponseMetadata"].get("RequestId"), error.response


def test_an_unknown_operation_is_invalid_action(berth):
    status, _, raw = e2e.raw_call(berth.url, None, {}, target=f"{TARGET_PREFIX}.MadeUp",
                                  headers={"Content-Type": "application/x-amz-json-1.0"})
    assert status == 400, raw
    assert json.loads(raw)["__type"] == "UnknownOperationException", raw
    status, _, raw = e2e.raw_query(berth.url, {"Action": "MadeUp", "Version": "2010-08-01"})
    assert status == 400 and b"<Code>InvalidAction</Code>" in raw, raw


def test_rpc_v2_cbor_answers_carry_the_protocols_headers(berth):
    request = urllib.request.Request(
        f"{berth.url}/service/{TARGET_PREFIX}/operation/DeleteAlarms", data=b"\xa1\x6aAlarmNames\x81\x64nope", method="POST",
        headers={"smithy-protocol": "rpc-v2-cbor", "Content-Type": "application/cbor",
                 "Accept": "application/cbor"})
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=30)
    answer = caught.value
    assert answer.code == 404
    assert answer.headers["Content-Type"] == "application/cbor"
    assert answer.headers["smithy-protocol"] == "rpc-v2-cbor"
    assert answer.headers["x-amzn-query-error"] == "ResourceNotFound;Sender"
    assert answer.headers["x-amzn-RequestId"]
    parser = botocore.parsers.RpcV2CBORParser()
    body = parser.parse_data_item(parser.get_peekable_stream_from_bytes(answer.read()))
    assert body["__type"] == "ResourceNotFound" and "nope" in body["message"], body


def test_the_aws_cli_shows_the_refusal_cleanly(berth, tmp_path_factory):
    cli = e2e.AwsCli(berth.url, tmp_path_factory.mktemp("aws-cloudwatch"), service="cloudwatch")
    for args, operation, code, message in [
        (["delete-alarms", "--alarm-names", "cpu-high"], "DeleteAlarms", "ResourceNotFound",
         r"The following alarms do not exist: \[cpu-high\]\."),
        (["put-metric-alarm", "--alarm-name", "x", "--namespace", "N", "--metric-name", "M", "--statistic", "Sum",
          "--period", "45", "--evaluation-periods", "1", "--threshold", "1",
          "--comparison-operator", "GreaterThanThreshold"], "PutMetricAlarm", "InvalidParameterValue",
         r"The parameter Period must be 10, 20, 30 or a multiple of 60, not 45\."),
    ]:
        result = cli.fails(*args)
        # A service's error: 255 from aws CLI v1, 254 from v2.
        assert result.returncode in (254, 255), (result.returncode, result.stderr)
        # With one attempt allowed, standard retries add "(reached max retries: 0)".
        expected = (rf"An error occurred \({code}\) when calling the {operation} operation"
                    rf"( \(reached max retries: 0\))?: {message}")
        assert re.search(expected, result.stderr), result.stderr
        assert "Traceback" not in result.stderr, result.stderr


def parsed_answer(protocol: str, operation: str, body: bytes) -> dict:
    model = botocore.session.get_session().get_service_model("cloudwatch").operation_model(operation)
    parser = botocore.parsers.create_parser(protocol)
    parsed = parser.parse({"body": body, "headers": {}, "status_code": 200}, model.output_shape)
    parsed.pop("ResponseMetadata", None)
    return parsed


@pytest.mark.parametrize("operation,stem", [("DescribeAlarms", "describe_alarms"),
                                            ("GetMetricData", "get_metric_data")])
def test_botocore_parses_the_answers_berth_encodes(operation, stem):
    answers = {protocol: parsed_answer(protocol, operation, (FIXTURES / f"{stem}_answer.{suffix}").read_bytes())
               for protocol, suffix in [("smithy-rpc-v2-cbor", "cbor"), ("json", "json"), ("query", "xml")]}
    assert answers["smithy-rpc-v2-cbor"] == answers["json"] == answers["query"], answers
    answer = answers["json"]
    if operation == "DescribeAlarms":
        alarm = answer["MetricAlarms"][0]
        assert alarm["AlarmConfigurationUpdatedTimestamp"].timestamp() == 1796117655.123
        assert alarm["StateUpdatedTimestamp"].timestamp() == 1796117656
        assert alarm["Dimensions"] == [{"Name": "Service", "Value": "web"}]
        assert alarm["Threshold"] == 250.5 and alarm["StateValue"] == "ALARM"
        assert alarm["AlarmDescription"] == "p99 <above> 250 & rising"
        assert answer["NextToken"] == "token-2"
    else:
        result = answer["MetricDataResults"][0]
        assert [moment.timestamp() for moment in result["Timestamps"]] == [1796117640, 1796117700]
        assert result["Values"] == [12.5, 7.0] and result["StatusCode"] == "Complete"
