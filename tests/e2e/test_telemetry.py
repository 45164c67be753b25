"""Berth's own telemetry: the server's and the agent's `/metrics` (Prometheus text format 0.0.4,
read here by a strict parser) count what was done through them, and Berth's log lines are
plain text without ANSI escapes when they go to a file, or one JSON object a line with
`--log-format json`.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import time
import urllib.request

import pytest

import berth_e2e as e2e

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# --------------------------------------------------------------------------------------------
# A strict reader of the text format, version 0.0.4.

_METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*\Z")
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")
_TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}


class FormatError(AssertionError):
    pass


def _value(text: str) -> float:
    if text in ("+Inf", "-Inf", "NaN"):
        return float(text.replace("Inf", "inf").replace("NaN", "nan"))
    if not re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", text):
        raise FormatError(f"{text!r} is not a sample value")
    return float(text)


def _labels(text: str) -> dict[str, str]:
    """`a="1",b="x\\"y"` (inside the braces) into a dict; only \\\\, \\" and \\n are escapes."""
    labels: dict[str, str] = {}
    position = 0
    while position < len(text):
        equals = text.find('="', position)
        if equals < 0:
            raise FormatError(f"no =\" in labels {text!r}")
        name = text[position:equals]
        if not _LABEL_NAME.match(name) or name in labels:
            raise FormatError(f"bad or repeated label name {name!r}")
        position, value = equals + 2, []
        while True:
            if position >= len(text):
                raise FormatError(f"unterminated label value in {text!r}")
            char = text[position]
            if char == "\\":
                escaped = text[position + 1:position + 2]
                if escaped not in ('\\', '"', 'n'):
                    raise FormatError(f"bad escape \\{escaped} in {text!r}")
                value.append("\n" if escaped == "n" else escaped)
                position += 2
            elif char == '"':
                position += 1
                break
            else:
                value.append(char)
                position += 1
        labels[name] = "".join(value)
        if position < len(text):
            if text[position] != ",":
                raise FormatError(f"expected , after a label in {text!r}")
            position += 1
    return labels


def parse_exposition(text: str) -> tuple[dict[str, str], list[tuple[str, dict[str, str], float]]]:
    """Types by family and samples (name, labels, value). Every line is HELP, TYPE or a sample;
    a family's TYPE comes once, before its contiguous samples; histogram buckets are cumulative
    and end at +Inf with their _count."""
    if text and not text.endswith("\n"):
        raise FormatError("the exposition does not end with a newline")
    types: dict[str, str] = {}
    samples: list[tuple[str, dict[str, str], float]] = []
    current, finished = None, set()
    for number, line in enumerate(text.splitlines(), 1):
        try:
            if line.startswith("# "):
                words = line[2:].split(" ", 2)
                if len(words) < 3 or words[0] not in ("HELP", "TYPE") or not _METRIC_NAME.match(words[1]):
                    raise FormatError("a comment that is neither HELP nor TYPE")
                if words[0] == "TYPE":
                    if words[2] not in _TYPES or words[1] in types:
                        raise FormatError("an unknown or repeated TYPE")
                    types[words[1]] = words[2]
                    if current:
                        finished.add(current)
                    current = words[1]
                continue
            match = re.fullmatch(r"([^{ ]+)(?:\{(.*)\})? (\S+)(?: (-?\d+))?", line)
            if not match:
                raise FormatError("not a sample line")
            name, labels, value = match.group(1), _labels(match.group(2) or ""), _value(match.group(3))
            if not _METRIC_NAME.match(name):
                raise FormatError(f"{name!r} is not a metric name")
            family = name if name in types else next(
                (name[:-len(suffix)] for suffix in ("_bucket", "_sum", "_count")
                 if name.endswith(suffix) and types.get(name[:-len(suffix)]) == "histogram"), None)
            if family is None or family != current or family in finished:
                raise FormatError("a sample outside its family's block")
            samples.append((name, labels, value))
        except FormatError as error:
            raise FormatError(f"line {number}: {error}: {line!r}") from None
    for family in (name for name, kind in types.items() if kind == "histogram"):
        series: dict[tuple, list] = {}
        counts: dict[tuple, float] = {}
        for name, labels, value in samples:
            key = tuple(sorted((k, v) for k, v in labels.items() if k != "le"))
            if name == family + "_bucket":
                series.setdefault(key, []).append((_value(labels["le"]), value))
            elif name == family + "_count":
                counts[key] = value
        for key, buckets in series.items():
            bounds, values = [b for b, _ in buckets], [v for _, v in buckets]
            if bounds != sorted(bounds) or values != sorted(values) or bounds[-1] != math.inf \
                    or values[-1] != counts.get(key):
                raise FormatError(f"{family}{dict(key)}: buckets {buckets} disagree with _count {counts.get(key)}")
    return types, samples


def value(samples, name: str, **labels: str) -> float | None:
    matching = [v for n, ls, v in samples if n == name and all(ls.get(k) == w for k, w in labels.items())]
    assert len(matching) <= 1, f"{name} {labels} matches {len(matching)} samples"
    return matching[0] if matching else None


def scrape(url: str):
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == CONTENT_TYPE
        return parse_exposition(response.read().decode())


def test_the_strict_reader_refuses_what_the_format_does_not_allow():
    good = '# HELP a_total A.\n# TYPE a_total counter\na_total{x="q\\"\\\\\\n"} 1\n'
    assert value(parse_exposition(good)[1], "a_total", x='q"\\\n') == 1
    for bad in ["a_total 1\n", '# TYPE a counter\na{1x="v"} 1\n', '# TYPE a counter\na{x="\\t"} 1\n',
                "# TYPE a counter\na one\n", "# TYPE a counter\n# TYPE b counter\na 1\n",
                '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_count 1\n',
                "# TYPE a counter\na 1", "# EOF\n"]:
        with pytest.raises(FormatError):
            parse_exposition(bad)


# --------------------------------------------------------------------------------------------
# /metrics of `berth up`: the server's on its endpoint, the embedded agent's on its own port.


def agent_metrics_url(data_dir) -> str:
    port_file = data_dir / "metrics-port"
    port = e2e.wait_until(lambda: port_file.read_text().strip() if port_file.exists() else "",
                          lambda text: text.isdigit(), what=f"the agent's {port_file}")
    return f"http://127.0.0.1:{port}/metrics"


@pytest.mark.docker
def test_server_and_agent_metrics_count_what_was_done(berth, ecs, cluster):
    for _ in range(3):
        ecs.describe_clusters(clusters=[cluster])
    status, _, _ = e2e.raw_call(berth.url, "DescribeServices", {"cluster": "no-such-cluster", "services": ["x"]})
    assert status == 400
    logs = e2e.aws_client("logs", berth.url)
    group = f"/telemetry/{cluster}"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="direct")
    logs.put_log_events(logGroupName=group, logStreamName="direct",
                        logEvents=[{"timestamp": _now_ms(),
                                    "message": f"event {n}"} for n in range(4)])
    family = e2e.unique_name("telemetry")
    definition = e2e.busybox_task_definition(
        family, ["sh", "-c", "for n in 1 2 3 4 5; do echo line $n; done; sleep 600"],
        logConfiguration={"logDriver": "awslogs",
                          "options": {"awslogs-group": group, "awslogs-region": e2e.REGION,
                                      "awslogs-stream-prefix": "app"}})
    ecs.register_task_definition(**definition)
    task_arn = ecs.run_task(cluster=cluster, taskDefinition=family)["tasks"][0]["taskArn"]
    try:
        e2e.wait_status(ecs, cluster, task_arn, "RUNNING")
        agent_url = agent_metrics_url(berth.data_dir / "agent")

        def agent_scrape():
            return scrape(agent_url)[1]

        agent = e2e.wait_until(
            agent_scrape,
            lambda samples: value(samples, "berth_agent_tasks", status="RUNNING") == 1
            and (value(samples, "berth_agent_log_lines_shipped_total") or 0) >= 5,
            what="the agent's metrics to show the running task and its shipped lines")
        assert value(agent, "berth_agent_desired_polls_total", outcome="ok") >= 1
        assert value(agent, "berth_agent_reports_total", outcome="ok") >= 1
        assert value(agent, "berth_agent_log_bytes_shipped_total") >= len("line 1") * 5
        assert value(agent, "berth_agent_log_shipping_lag_seconds") >= 0
        assert value(agent, "berth_agent_log_last_shipped_timestamp_seconds") > 1.5e9

        types, server = scrape(berth.url + "/metrics")
        assert value(server, "berth_api_requests_total", service="ecs", operation="DescribeClusters",
                     outcome="ok") == 3
        assert value(server, "berth_api_requests_total", service="ecs", operation="DescribeServices",
                     outcome="client_error") == 1
        assert value(server, "berth_api_requests_total", service="ecs", operation="RunTask", outcome="ok") == 1
        assert value(server, "berth_api_requests_total", service="logs", operation="PutLogEvents",
                     outcome="ok") == 1
        assert value(server, "berth_api_request_duration_seconds_count", service="ecs",
                     operation="DescribeClusters", outcome="ok") == 3
        assert types["berth_api_request_duration_seconds"] == "histogram"
        assert value(server, "berth_api_requests_total", service="agent", operation="report", outcome="ok") >= 1
        assert value(server, "berth_log_events_stored_total", source="put_log_events") == 4
        assert value(server, "berth_log_lines_received_total") >= 5
        assert value(server, "berth_log_events_stored_total", source="agent") >= 5
        assert value(server, "berth_placement_duration_seconds_count", caller="run_task") >= 1
        assert value(server, "berth_store_commit_duration_seconds_count") >= 1
        assert value(server, "berth_store_commit_batches_count") >= 1
        assert value(server, "berth_reconciler_pass_duration_seconds_count", reconciler="service") >= 1
        assert value(server, "berth_reconciler_pass_duration_seconds_count", reconciler="liveness") >= 1
        assert value(server, "berth_store_file_size_bytes", file="berth.redb") > 0
        assert value(server, "berth_store_file_size_bytes", file="logs.redb") > 0
    finally:
        ecs.stop_task(cluster=cluster, task=task_arn, reason="telemetry test over")


def _now_ms() -> int:
    return int(time.time() * 1000)


@pytest.mark.docker
def test_a_separate_agent_serves_metrics_on_the_address_it_is_given(processes):
    server = processes.server(["--no-proxy"])
    ecs = e2e.ecs_client(server.url)
    name = e2e.unique_name("tele-agent")
    ecs.create_cluster(clusterName=name)
    port = e2e.free_port()
    agent = processes.agent(server.url, name, "metrics", ["--metrics-listen", f"127.0.0.1:{port}"])
    e2e.wait_for_instances(ecs, name, 1)
    url = f"http://127.0.0.1:{port}/metrics"
    samples = e2e.wait_until(
        lambda: _scrape_or_none(url),
        lambda samples: samples is not None and (value(samples, "berth_agent_desired_polls_total",
                                                         outcome="ok") or 0) >= 1,
        what="the agent's first answered desired poll in its metrics")
    assert value(samples, "berth_build_info", version=value_label(samples, "berth_build_info", "version")) == 1
    assert (agent.data_dir / "metrics-port").read_text().strip() == str(port)
    _, server_samples = scrape(server.url + "/metrics")
    assert value(server_samples, "berth_api_requests_total", service="ecs", operation="CreateCluster",
                 outcome="ok") == 1


def _scrape_or_none(url: str):
    try:
        return scrape(url)[1]
    except OSError:
        return None


def value_label(samples, name: str, label: str) -> str:
    return next(labels[label] for n, labels, _ in samples if n == name)


# --------------------------------------------------------------------------------------------
# Log lines: no escapes in a file, JSON objects with --log-format json.


def run_server_to_files(tmp_path, extra=(), env_extra=None):
    """`berth server` with stdout and stderr each to a file, NO_COLOR unset; returns the
    process, its endpoint and the two paths. The caller kills it."""
    port = e2e.free_port()
    stdout_path, stderr_path = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    env = {key: val for key, val in os.environ.items() if key not in ("NO_COLOR", "BERTH_LOG", "RUST_LOG")}
    env.update(env_extra or {})
    with open(stdout_path, "wb") as stdout, open(stderr_path, "wb") as stderr:
        process = subprocess.Popen(
            [str(e2e.berth_binary()), *extra, "server", "--listen", f"127.0.0.1:{port}",
             "--data-dir", str(tmp_path / "data"), "--no-proxy"],
            stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL, env=env, start_new_session=True)
    return process, f"http://127.0.0.1:{port}", stdout_path, stderr_path


def wait_answering(process, url: str) -> None:
    def probe():
        assert process.poll() is None, "berth server exited"
        try:
            return e2e.raw_call(url, "ListClusters", {}, timeout=5)[0]
        except OSError:
            return None
    e2e.wait_until(probe, lambda status: status == 200, what="berth server to answer")


def test_text_logs_to_a_file_have_no_ansi_escapes(tmp_path):
    process, url, stdout_path, stderr_path = run_server_to_files(tmp_path, env_extra={"BERTH_LOG": "debug"})
    try:
        wait_answering(process, url)
        e2e.raw_call(url, "DescribeServices", {"cluster": "missing", "services": ["x"]})
        text = e2e.wait_until(lambda: stderr_path.read_bytes(), lambda data: b"request refused" in data,
                              what="a debug line about the refused request")
    finally:
        process.kill()
        process.wait(timeout=20)
    assert b"\x1b[" not in text, text[:500]
    assert b"\x1b[" not in stdout_path.read_bytes()
    assert b" INFO " in text and b"berth server is listening" in text


def test_json_logs_are_one_object_a_line(tmp_path):
    process, url, _, stderr_path = run_server_to_files(tmp_path, ["--log-format", "json"],
                                                       env_extra={"BERTH_LOG": "debug"})
    try:
        wait_answering(process, url)
        e2e.raw_call(url, "DescribeServices", {"cluster": "missing", "services": ["x"]})
        e2e.wait_until(lambda: stderr_path.read_bytes(), lambda data: b"request refused" in data,
                       what="a debug line about the refused request")
    finally:
        process.kill()
        process.wait(timeout=20)
    lines = stderr_path.read_text().splitlines()
    assert lines, "no log lines"
    records = [json.loads(line, object_pairs_hook=no_duplicate_keys) for line in lines]
    for record in records:
        assert {"timestamp", "level", "fields", "target"} <= record.keys(), record
        assert record["level"] in ("TRACE", "DEBUG", "INFO", "WARN", "ERROR")
    listening = [r for r in records if r["fields"].get("message") == "berth server is listening"]
    assert listening and listening[0]["fields"]["endpoint"] == url
    refused = [r for r in records if r["fields"].get("message") == "request refused"]
    assert refused[0]["fields"]["operation"] == "DescribeServices"
    assert refused[0]["fields"]["reason"] == "Cluster not found."
    assert refused[0]["level"] == "DEBUG"


def no_duplicate_keys(pairs: list[tuple[str, object]]) -> dict:
    """A JSON object whose keys are unique (a field named `message` would shadow the line's)."""
    keys = [key for key, _ in pairs]
    assert len(keys) == len(set(keys)), f"duplicate keys in {pairs}"
    return dict(pairs)
