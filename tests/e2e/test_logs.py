"""CloudWatch Logs on Berth's endpoint, through boto3 and the real aws CLI: log groups and
streams with CloudWatch's rules and errors, events written with PutLogEvents and read back with
GetLogEvents (both directions, tokens, time bounds) and FilterLogEvents (every pattern kind,
paging across streams), tags, retention that really expires events, and a server restart that
keeps every acknowledged event.
"""

from __future__ import annotations

import queue
import threading
import time

import botocore.exceptions
import pytest

import berth_e2e as e2e

pytestmark = pytest.mark.docker

# A retention day of 4 s lets a test watch events expire.
BERTH_UP_EXTRA = ["--log-day", "4s"]


@pytest.fixture(scope="module")
def logs(berth):
    return e2e.aws_client("logs", berth.url)


@pytest.fixture(scope="module")
def logs_cli(berth, tmp_path_factory):
    return e2e.AwsCli(berth.url, tmp_path_factory.mktemp("aws-logs"), service="logs")


def now_ms() -> int:
    return int(time.time() * 1000)


def error_of(call, **params) -> tuple[str, str]:
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        call(**params)
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


def put(logs, group: str, stream: str, messages: list[str], start: int | None = None) -> dict:
    start = now_ms() if start is None else start
    events = [{"timestamp": start + index, "message": message} for index, message in enumerate(messages)]
    return logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)


def test_groups_and_streams_follow_cloudwatch_rules(logs):
    group = f"/berth/{e2e.unique_name('groups')}"
    logs.create_log_group(logGroupName=group, tags={"team": "web"})
    assert error_of(logs.create_log_group, logGroupName=group)[0] == "ResourceAlreadyExistsException"
    code, message = error_of(logs.create_log_group, logGroupName="bad name!")
    assert code == "InvalidParameterException" and "logGroupName" in message
    logs.create_log_stream(logGroupName=group, logStreamName="web/1")
    assert error_of(logs.create_log_stream, logGroupName=group, logStreamName="web/1")[0] == \
        "ResourceAlreadyExistsException"
    assert error_of(logs.create_log_stream, logGroupName=group + "-missing", logStreamName="s")[0] == \
        "ResourceNotFoundException"
    assert error_of(logs.put_retention_policy, logGroupName=group, retentionInDays=2)[0] == \
        "InvalidParameterException"
    logs.put_retention_policy(logGroupName=group, retentionInDays=30)
    described = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    assert [g["logGroupName"] for g in described] == [group]
    assert described[0]["retentionInDays"] == 30
    assert described[0]["arn"] == f"arn:aws:logs:us-east-1:000000000000:log-group:{group}:*"
    logs.delete_retention_policy(logGroupName=group)
    assert "retentionInDays" not in logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]

    arn = described[0]["logGroupArn"]
    logs.tag_resource(resourceArn=arn, tags={"env": "prod"})
    assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {"team": "web", "env": "prod"}
    logs.untag_resource(resourceArn=arn, tagKeys=["team"])
    assert logs.list_tags_log_group(logGroupName=group)["tags"] == {"env": "prod"}

    streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
    assert [s["logStreamName"] for s in streams] == ["web/1"]
    logs.delete_log_stream(logGroupName=group, logStreamName="web/1")
    assert logs.describe_log_streams(logGroupName=group)["logStreams"] == []
    logs.delete_log_group(logGroupName=group)
    assert error_of(logs.describe_log_streams, logGroupName=group)[0] == "ResourceNotFoundException"


def test_deletion_protection_and_paging_of_groups(logs):
    prefix = f"/berth/{e2e.unique_name('paging')}"
    for index in range(5):
        logs.create_log_group(logGroupName=f"{prefix}/{index}", deletionProtectionEnabled=index == 0)
    assert error_of(logs.delete_log_group, logGroupName=f"{prefix}/0")[0] == "ValidationException"
    names, token = [], None
    while True:
        page = logs.describe_log_groups(logGroupNamePrefix=prefix, limit=2, **({"nextToken": token} if token else {}))
        names += [group["logGroupName"] for group in page["logGroups"]]
        token = page.get("nextToken")
        if not token:
            break
    assert names == [f"{prefix}/{index}" for index in range(5)]
    paginated = logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=prefix, PaginationConfig={"PageSize": 3})
    assert sum(len(page["logGroups"]) for page in paginated) == 5


def test_events_read_back_both_ways_with_tokens(logs):
    group = f"/berth/{e2e.unique_name('events')}"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    # Within 14 of this module's 4-second days, so not refused as too old.
    start = now_ms() - 20_000
    answer = put(logs, group, "s", [f"line {n}" for n in range(30)], start=start)
    assert "rejectedLogEventsInfo" not in answer

    latest = logs.get_log_events(logGroupName=group, logStreamName="s", limit=10)
    assert [e["message"] for e in latest["events"]] == [f"line {n}" for n in range(20, 30)]
    earlier = logs.get_log_events(logGroupName=group, logStreamName="s", limit=10,
                                  nextToken=latest["nextBackwardToken"])
    assert [e["message"] for e in earlier["events"]] == [f"line {n}" for n in range(10, 20)]
    head = logs.get_log_events(logGroupName=group, logStreamName="s", limit=5, startFromHead=True)
    assert [e["message"] for e in head["events"]] == [f"line {n}" for n in range(5)]
    bounded = logs.get_log_events(logGroupName=group, logStreamName="s", startFromHead=True,
                                  startTime=start + 3, endTime=start + 6)
    assert [e["message"] for e in bounded["events"]] == ["line 3", "line 4", "line 5"]
    assert all(e["ingestionTime"] >= e["timestamp"] for e in head["events"])

    # Following the forward token: the end gives the same token back; new events follow it.
    end = logs.get_log_events(logGroupName=group, logStreamName="s", nextToken=latest["nextForwardToken"])
    assert end["events"] == [] and end["nextForwardToken"] == latest["nextForwardToken"]
    put(logs, group, "s", ["late"])
    followed = logs.get_log_events(logGroupName=group, logStreamName="s", nextToken=end["nextForwardToken"])
    assert [e["message"] for e in followed["events"]] == ["late"]

    stream = logs.describe_log_streams(logGroupName=group)["logStreams"][0]
    assert stream["firstEventTimestamp"] == start
    assert stream["lastEventTimestamp"] >= start + 29
    assert logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]["storedBytes"] > 0

    # Events CloudWatch refuses for their time come back as rejectedLogEventsInfo.
    too_new = logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=[
        {"timestamp": now_ms(), "message": "fine"}, {"timestamp": now_ms() + 3 * 3600_000, "message": "late"}])
    assert too_new["rejectedLogEventsInfo"] == {"tooNewLogEventStartIndex": 1}
    code, message = error_of(logs.put_log_events, logGroupName=group, logStreamName="s", logEvents=[
        {"timestamp": now_ms(), "message": "b"}, {"timestamp": now_ms() - 1000, "message": "a"}])
    assert code == "InvalidParameterException" and "chronological" in message
    assert error_of(logs.put_log_events, logGroupName=group, logStreamName="nope",
                    logEvents=[{"timestamp": now_ms(), "message": "x"}])[0] == "ResourceNotFoundException"
    assert error_of(logs.get_log_events, logGroupName=group, logStreamName="s", nextToken="nonsense")[0] == \
        "InvalidParameterException"


FILTER_CASES = [
    ("ERROR", ["ERROR disk full", "ERROR timeout 504"]),
    ('"disk full"', ["ERROR disk full"]),
    ("?WARN ?timeout", ["WARN slow", "ERROR timeout 504"]),
    ("ERROR -timeout", ["ERROR disk full"]),
    ('{ $.level = "error" }', ['{"level": "error", "latency": 50}']),
    ("{ $.latency > 100 }", ['{"level": "info", "latency": 250}']),
    ("[ip, user, status = 404, bytes]", ["10.0.0.1 alice 404 512"]),
    ("[..., status = 5*, bytes]", ["10.0.0.2 bob 503 128"]),
]


def test_filter_patterns_of_every_kind(logs, logs_cli):
    group = f"/berth/{e2e.unique_name('filter')}"
    logs.create_log_group(logGroupName=group)
    messages = ["ERROR disk full", "WARN slow", "INFO fine", "ERROR timeout 504",
                '{"level": "error", "latency": 50}', '{"level": "info", "latency": 250}',
                "10.0.0.1 alice 404 512", "10.0.0.2 bob 503 128"]
    start = now_ms() - 10_000
    for index, stream in enumerate(["a", "b"]):
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
        # Message k of the list is at start + k, alternating between the streams.
        events = [{"timestamp": start + k, "message": messages[k]} for k in range(index, len(messages), 2)]
        logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)
    for pattern, expected in FILTER_CASES:
        found = logs.filter_log_events(logGroupName=group, filterPattern=pattern)["events"]
        assert sorted(event["message"] for event in found) == sorted(expected), pattern
    code, message = error_of(logs.filter_log_events, logGroupName=group, filterPattern="{ $.level = ")
    assert code == "InvalidParameterException" and "filter pattern" in message

    # Paging through every event, one a page, in time order across both streams.
    events, token = [], None
    while True:
        page = logs.filter_log_events(logGroupName=group, limit=1, **({"nextToken": token} if token else {}))
        events += page["events"]
        token = page.get("nextToken")
        if not token:
            break
    assert [event["message"] for event in events] == messages
    assert [event["logStreamName"] for event in events] == ["a", "b"] * 4
    assert len({event["eventId"] for event in events}) == len(messages)
    only_b = logs.filter_log_events(logGroupName=group, logStreamNames=["b"])["events"]
    assert {event["logStreamName"] for event in only_b} == {"b"}

    # The aws CLI paginates filter-log-events itself and reads get-log-events.
    cli = logs_cli("filter-log-events", "--log-group-name", group, "--filter-pattern", "ERROR")
    assert sorted(event["message"] for event in cli["events"]) == ["ERROR disk full", "ERROR timeout 504"]
    cli = logs_cli("get-log-events", "--log-group-name", group, "--log-stream-name", "a", "--start-from-head")
    assert [event["message"] for event in cli["events"]] == messages[0::2]


def test_live_tail_streams_matching_events_as_they_are_stored(berth, logs):
    group = f"/berth/{e2e.unique_name('tail')}"
    other = group + "-other"
    for name in (group, other):
        logs.create_log_group(logGroupName=name)
        logs.create_log_stream(logGroupName=name, logStreamName="web/1")
    logs.create_log_stream(logGroupName=group, logStreamName="worker/1")
    arn = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]["logGroupArn"]

    # CloudWatch's refusals, before any stream opens.
    assert error_of(logs.start_live_tail, logGroupIdentifiers=[arn + "-missing"])[0] == \
        "ResourceNotFoundException"
    code, message = error_of(logs.start_live_tail, logGroupIdentifiers=[arn], logStreamNames=["web/1"],
                             logStreamNamePrefixes=["web"])
    assert code == "InvalidParameterException" and "logStreamNamePrefixes" in message

    answer = logs.start_live_tail(logGroupIdentifiers=[arn], logStreamNamePrefixes=["web"],
                                  logEventFilterPattern="ERROR")
    received: queue.Queue = queue.Queue()
    closed = threading.Event()

    def read():
        try:
            for event in answer["responseStream"]:
                received.put(event)
        except Exception:
            if not closed.is_set():  # closing the stream below ends the read with an error
                raise

    threading.Thread(target=read, daemon=True).start()
    start = received.get(timeout=30)["sessionStart"]
    assert start["logGroupIdentifiers"] == [arn] and start["logStreamNamePrefixes"] == ["web"]
    assert start["logEventFilterPattern"] == "ERROR" and start["sessionId"]

    put(logs, group, "web/1", ["INFO ok", "ERROR disk full", "ERROR again"])
    put(logs, group, "worker/1", ["ERROR elsewhere"])  # another stream's prefix
    put(logs, other, "web/1", ["ERROR other group"])  # another group
    seen: list[dict] = []
    deadline = time.monotonic() + 30
    while len(seen) < 2 and time.monotonic() < deadline:
        update = received.get(timeout=30)["sessionUpdate"]
        assert update["sessionMetadata"]["sampled"] is False
        seen.extend(update["sessionResults"])
    assert [event["message"] for event in seen] == ["ERROR disk full", "ERROR again"]
    assert all(event["logGroupIdentifier"] == arn and event["logStreamName"] == "web/1" for event in seen)
    assert all(event["ingestionTime"] >= event["timestamp"] - 5000 for event in seen)
    # Updates keep coming each second, empty when nothing matched.
    assert received.get(timeout=30)["sessionUpdate"]["sessionResults"] == []
    closed.set()
    answer["responseStream"].close()


def test_retention_expires_events(logs):
    group = f"/berth/{e2e.unique_name('retention')}"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    put(logs, group, "s", ["old"], start=now_ms() - 6_000)
    put(logs, group, "s", ["recent"], start=now_ms() + 60_000)
    # One day here lasts 4 s: "old" is past a 1-day retention already, "recent" not for a minute.
    logs.put_retention_policy(logGroupName=group, retentionInDays=1)

    def messages():
        events = logs.get_log_events(logGroupName=group, logStreamName="s", startFromHead=True)["events"]
        return [event["message"] for event in events]

    e2e.wait_until(messages, lambda seen: seen == ["recent"], timeout=60, what="the old event to expire")
    stream = logs.describe_log_streams(logGroupName=group)["logStreams"][0]
    assert stream["firstEventTimestamp"] > now_ms()
    # An event already past the retention is refused as expired.
    expired = logs.put_log_events(logGroupName=group, logStreamName="s",
                                  logEvents=[{"timestamp": now_ms() - 8_000, "message": "stale"}])
    assert expired["rejectedLogEventsInfo"] == {"expiredLogEventEndIndex": 0}


def test_events_survive_a_server_restart(processes):
    server = processes.server(["--no-proxy"])
    logs = e2e.aws_client("logs", server.url)
    logs.create_log_group(logGroupName="/restart")
    logs.create_log_stream(logGroupName="/restart", logStreamName="s")
    put(logs, "/restart", "s", [f"event {n}" for n in range(1000)], start=now_ms() - 5_000)
    server.process.kill()
    server.process.restart()
    server.wait_ready()
    events = logs.get_log_events(logGroupName="/restart", logStreamName="s", startFromHead=True)["events"]
    assert [event["message"] for event in events] == [f"event {n}" for n in range(1000)]
