"""Helpers for Berth's end-to-end tests: real `berth` processes, raw and SDK/CLI clients,
Docker inspection and bounded polling.

Rules these helpers enforce: every wait is a bounded poll with a deadline (a timeout is a
failure with the last observed value, never an assertion about speed); every process and
container a test creates is registered here so that it is killed or removed afterwards and its
log is shown when a test fails.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Callable, Iterable

import boto3
from botocore.config import Config

import shape_validator

REGION = "us-east-1"
ACCOUNT = "000000000000"
TARGET_PREFIX = "AmazonEC2ContainerServiceV20141113."
TEST_IMAGE = os.environ.get("BERTH_TEST_IMAGE", "berth-test/busybox:latest")
# Unique per pytest run: every cluster name contains it, so cleanup can find what this run made.
SESSION_TOKEN = uuid.uuid4().hex[:8]
REPO_ROOT = Path(__file__).resolve().parents[2]

LABEL_CLUSTER = "com.amazonaws.ecs.cluster"
LABEL_TASK_ARN = "com.amazonaws.ecs.task-arn"
LABEL_CONTAINER_INSTANCE = "dev.berth.container-instance"

TASK_STATUS_ORDER = [
    "PROVISIONING",
    "PENDING",
    "ACTIVATING",
    "RUNNING",
    "DEACTIVATING",
    "STOPPING",
    "DEPROVISIONING",
    "STOPPED",
    "DELETED",
]

# Problems the strict response validator found; the pytest hook in conftest fails the test.
SHAPE_PROBLEMS: list[str] = []
# Every berth process started by this run (for log display on failure and final cleanup).
ALL_PROCESSES: list["BerthProcess"] = []


def unique_name(prefix: str) -> str:
    return f"e2e-{SESSION_TOKEN}-{prefix}-{uuid.uuid4().hex[:6]}"


def cluster_arn(name: str) -> str:
    return f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{name}"


# --------------------------------------------------------------------------------------------
# Polling


class WaitTimeout(AssertionError):
    pass


def wait_until(
    probe: Callable[[], Any],
    done: Callable[[Any], bool] = bool,
    *,
    timeout: float = 60.0,
    interval: float = 0.25,
    what: str = "condition",
) -> Any:
    """Calls `probe` until `done(value)` holds and returns that value. On the deadline, fails
    with the last value seen. `time.sleep` appears only here, inside a bounded loop."""
    deadline = time.monotonic() + timeout
    last: Any = None
    attempts = 0
    while True:
        attempts += 1
        last = probe()
        if done(last):
            return last
        if time.monotonic() >= deadline:
            raise WaitTimeout(
                f"gave up waiting for {what} after {timeout:.0f}s ({attempts} attempts); last value: "
                f"{_short(last)}"
            )
        time.sleep(interval)


def _short(value: Any, limit: int = 3000) -> str:
    try:
        text = json.dumps(value, default=str, indent=1)
    except Exception:
        text = repr(value)
    return text if len(text) <= limit else text[:limit] + "...(truncated)"


# --------------------------------------------------------------------------------------------
# Processes


def berth_binary() -> Path:
    configured = os.environ.get("BERTH_BIN")
    if configured:
        return Path(configured)
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO_ROOT / "target"))
    if not target.is_absolute():
        target = REPO_ROOT / target
    return target / "release" / "berth"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class BerthProcess:
    """One `berth …` process with its log file. Can be killed (any signal) and restarted with
    the same arguments (same port, same data dir)."""

    def __init__(self, name: str, args: list[str], log_path: Path):
        self.name = name
        self.args = [str(arg) for arg in args]
        self.log_path = log_path
        self.process: subprocess.Popen | None = None
        self.started_at = 0.0
        self.starts = 0
        ALL_PROCESSES.append(self)

    def start(self) -> "BerthProcess":
        assert not self.alive, f"{self.name} is already running"
        binary = berth_binary()
        if not binary.exists():
            raise AssertionError(
                f"{binary} does not exist: build it with `cargo build --release -p berth` "
                "(or set BERTH_BIN)"
            )
        self.starts += 1
        with open(self.log_path, "ab") as log:
            log.write(f"\n===== start #{self.starts}: {binary} {' '.join(self.args)}\n".encode())
        log = open(self.log_path, "ab")
        env = dict(os.environ)
        env.setdefault("RUST_LOG", "info")
        env.setdefault("RUST_BACKTRACE", "1")
        env.setdefault("NO_COLOR", "1")
        self.process = subprocess.Popen(
            [str(binary), *self.args],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
        log.close()
        self.started_at = time.monotonic()
        return self

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def kill(self, sig: int = signal.SIGKILL, wait: float = 20.0) -> int | None:
        """Sends `sig` and waits (bounded) for the exit; returns the exit code."""
        if not self.alive:
            return self.process.returncode if self.process else None
        assert self.process is not None
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(timeout=10)

    def stop(self) -> None:
        """Graceful stop (SIGTERM), then SIGKILL if it does not exit within 15 s."""
        if self.alive:
            self.kill(signal.SIGTERM, wait=15.0)
        if self.alive:
            self.kill(signal.SIGKILL)

    def restart(self) -> "BerthProcess":
        if self.alive:
            self.kill(signal.SIGKILL)
        return self.start()

    def log_tail(self, lines: int = 150) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return "(no log)"
        tail = text.splitlines()[-lines:]
        state = "running" if self.alive else f"exited with {self.process.returncode if self.process else '?'}"
        return f"--- {self.name} ({state}), last {len(tail)} lines of {self.log_path} ---\n" + "\n".join(tail)


class BerthEndpoint:
    """An ECS endpoint served by berth (by `berth up` or `berth server`)."""

    def __init__(self, process: BerthProcess, port: int, data_dir: Path, cluster: str | None = None):
        self.process = process
        self.port = port
        self.data_dir = data_dir
        self.cluster = cluster
        self.url = f"http://127.0.0.1:{port}"

    def wait_ready(self, timeout: float = 90.0) -> None:
        """Polls ListClusters until it answers 200, failing early if the process died."""

        def probe():
            if not self.process.alive:
                raise AssertionError(
                    f"{self.process.name} exited before answering ListClusters\n{self.process.log_tail()}"
                )
            try:
                status, _, _ = raw_call(self.url, "ListClusters", {}, timeout=5)
                return status
            except (OSError, urllib.error.URLError, http.client.HTTPException):
                return None

        wait_until(probe, lambda status: status == 200, timeout=timeout, interval=0.2,
                   what=f"{self.process.name} to answer ListClusters on {self.url}")


def start_up(tmp: Path, cluster: str, extra: Iterable[str] = ()) -> BerthEndpoint:
    """`berth up` on a free loopback port with its own data dir and cluster."""
    port = free_port()
    data_dir = tmp / f"up-{port}"
    data_dir.mkdir(parents=True, exist_ok=True)
    process = BerthProcess(
        f"berth up :{port}",
        ["up", "--listen", f"127.0.0.1:{port}", "--data-dir", data_dir, "--cluster", cluster,
         "--region", REGION, "--account", ACCOUNT, *extra],
        tmp / f"berth-up-{port}.log",
    ).start()
    endpoint = BerthEndpoint(process, port, data_dir, cluster)
    endpoint.wait_ready()
    return endpoint


def start_server(tmp: Path, extra: Iterable[str] = (), port: int | None = None) -> BerthEndpoint:
    port = port or free_port()
    data_dir = tmp / f"server-{port}"
    data_dir.mkdir(parents=True, exist_ok=True)
    process = BerthProcess(
        f"berth server :{port}",
        ["server", "--listen", f"127.0.0.1:{port}", "--data-dir", data_dir,
         "--region", REGION, "--account", ACCOUNT, *extra],
        tmp / f"berth-server-{port}.log",
    ).start()
    endpoint = BerthEndpoint(process, port, data_dir)
    endpoint.wait_ready()
    return endpoint


def start_agent(tmp: Path, server_url: str, cluster: str, name: str, extra: Iterable[str] = ()) -> BerthProcess:
    data_dir = tmp / f"agent-{name}"
    data_dir.mkdir(parents=True, exist_ok=True)
    process = BerthProcess(
        f"berth agent {name}",
        ["agent", "--server", server_url, "--cluster", cluster, "--data-dir", data_dir, *extra],
        tmp / f"berth-agent-{name}.log",
    ).start()
    process.data_dir = data_dir  # type: ignore[attr-defined]
    return process


# --------------------------------------------------------------------------------------------
# Clients


def raw_call(url: str, operation: str | None, body: Any, *, headers: dict | None = None,
             timeout: float = 30.0, target: str | None = None) -> tuple[int, Any, bytes]:
    """POSTs an AWS JSON 1.1 request. `body` may be a dict (encoded) or bytes/str (sent as is).
    Returns (status, parsed JSON or None, raw bytes); HTTP errors are returned, not raised."""
    if isinstance(body, (bytes, bytearray)):
        data = bytes(body)
    elif isinstance(body, str):
        data = body.encode()
    else:
        data = json.dumps(body).encode()
    request_headers = {"Content-Type": "application/x-amz-json-1.1"}
    if target is not None:
        request_headers["X-Amz-Target"] = target
    elif operation is not None:
        request_headers["X-Amz-Target"] = TARGET_PREFIX + operation
    request_headers.update(headers or {})
    request = urllib.request.Request(url + "/", data=data, headers=request_headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    try:
        parsed = json.loads(raw) if raw.strip() else None
    except ValueError:
        parsed = None
    return status, parsed, raw


def raw_query(url: str, params: dict[str, str], *, timeout: float = 30.0) -> tuple[int, None, bytes]:
    """POSTs an unsigned AWS Query form to Berth's endpoint; returns (status, None, raw body)."""
    data = urllib.parse.urlencode(params).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    request = urllib.request.Request(url.rstrip("/") + "/", data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, None, response.read()
    except urllib.error.HTTPError as error:
        return error.code, None, error.read()


class ShapeMismatch(AssertionError):
    pass


def _after_call(http_response, model, **_kwargs):
    if model.has_event_stream_output and http_response.status_code == 200:
        # The body is a stream that stays open; botocore parses each event against the model.
        return
    problems = shape_validator.validate_response(model, http_response.status_code, http_response.content,
                                                 http_response.headers)
    if problems:
        SHAPE_PROBLEMS.extend(problems)
        raise ShapeMismatch(
            "response does not match botocore's model:\n  " + "\n  ".join(problems)
            + f"\nbody: {http_response.content[:2000]!r}"
        )


def aws_client(service: str, url: str, validate: bool = True, parameter_validation: bool = True):
    """A boto3 client of `service` for Berth's one endpoint with dummy credentials, no retries,
    and (by default) the strict response validator (JSON or XML, by the service's protocol)
    hooked in for every call. Without `parameter_validation`, botocore sends what it is given,
    for tests of the server's own checks."""
    session = boto3.session.Session(
        aws_access_key_id="test", aws_secret_access_key="test", region_name=REGION
    )
    client = session.client(
        service,
        endpoint_url=url,
        # Host prefixes (StartLiveTail's `stream-`) would name hosts that do not exist here.
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"},
                      connect_timeout=5, read_timeout=60, parameter_validation=parameter_validation,
                      inject_host_prefix=False),
    )
    if validate:
        client.meta.events.register("after-call", _after_call)
    return client


def ecs_client(url: str, validate: bool = True):
    return aws_client("ecs", url, validate)


def elbv2_client(url: str, validate: bool = True):
    return aws_client("elbv2", url, validate)


def aws_command() -> list[str]:
    found = shutil.which("aws")
    if found:
        return [found]
    return [sys.executable, "-m", "awscli"]


class AwsCli:
    """Runs the real `aws` CLI against an endpoint, either with `--endpoint-url` or through
    the `AWS_ENDPOINT_URL_ECS` environment variable."""

    def __init__(self, url: str, workdir: Path, service: str = "ecs"):
        self.url = url
        self.workdir = workdir
        self.service = service
        workdir.mkdir(parents=True, exist_ok=True)

    def env(self, via_env: bool) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items()
               if not key.startswith("AWS_") and key != "BOTO_CONFIG"}
        env.update({
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_CONFIG_FILE": str(self.workdir / "no-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(self.workdir / "no-credentials"),
            "AWS_PAGER": "",
            "AWS_MAX_ATTEMPTS": "1",
            "AWS_RETRY_MODE": "standard",
        })
        if via_env:
            env["AWS_ENDPOINT_URL_ECS"] = self.url
        return env

    def run(self, *args: str, via_env: bool = False, timeout: float = 120.0) -> subprocess.CompletedProcess:
        command = aws_command()
        if not via_env:
            command += ["--endpoint-url", self.url]
        command += ["--output", "json", self.service, *[str(arg) for arg in args]]
        return subprocess.run(command, env=self.env(via_env), capture_output=True, text=True,
                              timeout=timeout, cwd=self.workdir)

    def __call__(self, *args: str, via_env: bool = False) -> Any:
        """Runs and returns the parsed JSON output; fails the test on a non-zero exit."""
        result = self.run(*args, via_env=via_env)
        if result.returncode != 0:
            raise AssertionError(
                f"aws {self.service} {' '.join(map(str, args))} exited {result.returncode}\n"
                f"stdout: {result.stdout}\nstderr: {result.stderr}"
            )
        return json.loads(result.stdout) if result.stdout.strip() else {}

    def fails(self, *args: str, via_env: bool = False) -> subprocess.CompletedProcess:
        """Runs a command that must fail; returns the result for assertions on stderr."""
        result = self.run(*args, via_env=via_env)
        assert result.returncode != 0, f"aws {self.service} {' '.join(args)} unexpectedly succeeded: {result.stdout}"
        return result

    def write_json(self, name: str, document: Any) -> str:
        path = self.workdir / name
        path.write_text(json.dumps(document, indent=2))
        return f"file://{path}"


# --------------------------------------------------------------------------------------------
# Docker


def http_get(port: int) -> tuple[int, str] | None:
    """GET / on a loopback port: (status, body), or None while nothing answers there."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        return error.code, ""
    except OSError:
        return None


def docker(*args: str, check: bool = True, timeout: float = 60.0) -> subprocess.CompletedProcess:
    result = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} failed ({result.returncode}): {result.stderr}")
    return result


def containers_for_task(task_arn: str, all_states: bool = True) -> list[str]:
    """IDs of the Docker containers labelled with this task ARN."""
    args = ["ps", "-q", "--no-trunc", "--filter", f"label={LABEL_TASK_ARN}={task_arn}"]
    if all_states:
        args.insert(1, "-a")
    return [line for line in docker(*args).stdout.split() if line]


def inspect_container(container_id: str) -> dict:
    return json.loads(docker("inspect", container_id).stdout)[0]


def berth_containers() -> list[tuple[str, dict]]:
    """(id, labels) of every container that carries one of the agent's labels."""
    ids: set[str] = set()
    for label in (LABEL_TASK_ARN, LABEL_CONTAINER_INSTANCE, LABEL_CLUSTER):
        result = docker("ps", "-a", "-q", "--no-trunc", "--filter", f"label={label}", check=False)
        ids.update(line for line in result.stdout.split() if line)
    found = []
    for container_id in sorted(ids):
        result = docker("inspect", "--format", "{{json .Config.Labels}}", container_id, check=False)
        if result.returncode == 0:
            found.append((container_id, json.loads(result.stdout) or {}))
    return found


def remove_containers_mentioning(needle: str) -> list[str]:
    """Force-removes every agent-labelled container whose labels mention `needle` (a cluster
    name that contains this run's token)."""
    removed = []
    for container_id, labels in berth_containers():
        if any(needle in str(value) for value in labels.values()):
            docker("rm", "-f", "-v", container_id, check=False)
            removed.append(container_id)
    return removed


def docker_reachable() -> tuple[bool, str]:
    if shutil.which("docker") is None:
        return False, "the docker CLI is not installed"
    result = subprocess.run(["docker", "info", "--format", "{{.ServerVersion}}"],
                            capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        return False, result.stderr.strip() or result.stdout.strip()
    return True, result.stdout.strip()


# --------------------------------------------------------------------------------------------
# ECS helpers


def describe_task(ecs, cluster: str, task_arn: str) -> dict:
    response = ecs.describe_tasks(cluster=cluster, tasks=[task_arn])
    assert not response.get("failures"), f"DescribeTasks failures: {response['failures']}"
    assert len(response["tasks"]) == 1, response
    return response["tasks"][0]


def wait_task(ecs, cluster: str, task_arn: str, done: Callable[[dict], bool], *, timeout: float = 120.0,
              what: str = "task state") -> dict:
    return wait_until(lambda: describe_task(ecs, cluster, task_arn), done, timeout=timeout, interval=0.5,
                      what=f"{what} of {task_arn}")


def wait_status(ecs, cluster: str, task_arn: str, status: str, timeout: float = 120.0) -> dict:
    """Waits for lastStatus == status; fails at once if the task stopped instead (unless
    STOPPED is what we wait for)."""

    def done(task: dict) -> bool:
        if task["lastStatus"] == "STOPPED" and status != "STOPPED":
            raise AssertionError(f"task stopped while waiting for {status}: {_short(task)}")
        return task["lastStatus"] == status

    return wait_task(ecs, cluster, task_arn, done, timeout=timeout, what=f"lastStatus {status}")


def resource_value(resources: list[dict], name: str) -> Any:
    for resource in resources:
        if resource["name"] == name:
            for field in ("integerValue", "longValue", "doubleValue", "stringSetValue"):
                if field in resource:
                    return resource[field]
    raise AssertionError(f"no {name} resource in {resources}")


def container_instances(ecs, cluster: str) -> list[dict]:
    arns = ecs.list_container_instances(cluster=cluster)["containerInstanceArns"]
    if not arns:
        return []
    return ecs.describe_container_instances(cluster=cluster, containerInstances=arns)["containerInstances"]


def wait_for_instances(ecs, cluster: str, count: int = 1, timeout: float = 90.0) -> list[dict]:
    return wait_until(
        lambda: container_instances(ecs, cluster),
        lambda instances: len([i for i in instances if i["status"] == "ACTIVE" and i.get("agentConnected")]) >= count,
        timeout=timeout, interval=0.5, what=f"{count} connected ACTIVE container instance(s) in {cluster}",
    )


def busybox_task_definition(family: str, command: list[str], *, memory: int = 32, name: str = "main",
                            port_mappings: list[dict] | None = None, stop_timeout: int = 2,
                            image: str = TEST_IMAGE, **container_extra) -> dict:
    container = {
        "name": name,
        "image": image,
        "essential": True,
        "memory": memory,
        "cpu": 64,
        "command": command,
        "stopTimeout": stop_timeout,
    }
    if port_mappings is not None:
        container["portMappings"] = port_mappings
    container.update(container_extra)
    return {"family": family, "containerDefinitions": [container], "requiresCompatibilities": ["EC2"]}


def register_fake_instance(ecs, cluster: str, *, cpu: int = 1024, memory: int = 1024, **extra) -> dict:
    """Registers a container instance with no agent behind it (as the ECS agent would, with an
    instance identity document), for API-only tests."""
    identity = {
        "instanceId": f"i-{uuid.uuid4().hex[:17]}",
        "region": REGION,
        "availabilityZone": f"{REGION}a",
        "instanceType": "m5.large",
        "accountId": ACCOUNT,
    }
    resources = [
        {"name": "CPU", "type": "INTEGER", "integerValue": cpu},
        {"name": "MEMORY", "type": "INTEGER", "integerValue": memory},
        {"name": "PORTS", "type": "STRINGSET", "stringSetValue": ["22"]},
        {"name": "PORTS_UDP", "type": "STRINGSET", "stringSetValue": []},
    ]
    return ecs.register_container_instance(
        cluster=cluster,
        instanceIdentityDocument=json.dumps(identity),
        instanceIdentityDocumentSignature="",
        totalResources=resources,
        **extra,
    )["containerInstance"]


# --------------------------------------------------------------------------------------------
# Services


def service_arn(cluster: str, name: str) -> str:
    return f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/{cluster}/{name}"


def describe_service(ecs, cluster: str, name: str, **extra) -> dict:
    response = ecs.describe_services(cluster=cluster, services=[name], **extra)
    assert not response.get("failures"), f"DescribeServices failures: {response['failures']}"
    assert len(response["services"]) == 1, response
    return response["services"][0]


def primary_deployment(service: dict) -> dict:
    primaries = [d for d in service["deployments"] if d["status"] == "PRIMARY"]
    assert len(primaries) == 1, f"expected one PRIMARY deployment: {_short(service['deployments'])}"
    return primaries[0]


def describe_tasks_of(ecs, cluster: str, task_arns: Iterable[str]) -> list[dict]:
    """DescribeTasks in batches of 100; every ARN must be found."""
    arns = list(task_arns)
    found: list[dict] = []
    for start in range(0, len(arns), 100):
        response = ecs.describe_tasks(cluster=cluster, tasks=arns[start:start + 100])
        assert not response.get("failures"), f"DescribeTasks failures: {response['failures']}"
        found.extend(response["tasks"])
    return found


def list_service_task_arns(ecs, cluster: str, name: str, desired_status: str = "RUNNING") -> list[str]:
    arns: list[str] = []
    token = None
    for _ in range(100):
        kwargs = {"cluster": cluster, "serviceName": name, "desiredStatus": desired_status}
        if token:
            kwargs["nextToken"] = token
        response = ecs.list_tasks(**kwargs)
        arns.extend(response["taskArns"])
        token = response.get("nextToken")
        if not token:
            return arns
    raise AssertionError("ListTasks kept returning a nextToken")


def service_tasks(ecs, cluster: str, name: str, desired_status: str = "RUNNING") -> list[dict]:
    """The service's tasks with this desiredStatus (ListTasks --service-name, then DescribeTasks)."""
    arns = list_service_task_arns(ecs, cluster, name, desired_status)
    return describe_tasks_of(ecs, cluster, arns) if arns else []


def is_steady(service: dict, desired: int, task_definition: str | None = None) -> bool:
    """One PRIMARY deployment, COMPLETED, with `desired` tasks running and none pending (on
    `task_definition` if given)."""
    deployments = service["deployments"]
    return (
        service["status"] == "ACTIVE"
        and len(deployments) == 1
        and deployments[0]["status"] == "PRIMARY"
        and deployments[0].get("rolloutState") == "COMPLETED"
        and service["desiredCount"] == desired
        and service["runningCount"] == desired
        and service["pendingCount"] == 0
        and (task_definition is None or deployments[0]["taskDefinition"] == task_definition)
    )


def wait_service_steady(ecs, cluster: str, name: str, desired: int, task_definition: str | None = None,
                        timeout: float = 120.0) -> dict:
    return wait_until(lambda: describe_service(ecs, cluster, name),
                      lambda service: is_steady(service, desired, task_definition),
                      timeout=timeout, interval=0.5,
                      what=f"service {name} to be steady with {desired} tasks"
                           + (f" on {task_definition}" if task_definition else ""))


def wait_service_running(ecs, cluster: str, name: str, count: int, task_definition: str | None = None,
                         timeout: float = 120.0) -> list[dict]:
    """Waits until exactly `count` tasks of the service have desiredStatus RUNNING, all of them
    RUNNING (and on `task_definition` if given); returns them."""

    def done(tasks: list[dict]) -> bool:
        return len(tasks) == count and all(
            task["lastStatus"] == "RUNNING"
            and (task_definition is None or task["taskDefinitionArn"] == task_definition)
            for task in tasks)

    return wait_until(lambda: service_tasks(ecs, cluster, name), done, timeout=timeout, interval=0.5,
                      what=f"{count} RUNNING tasks of service {name}")


def event_messages(service: dict) -> list[str]:
    return [event["message"] for event in service.get("events", [])]


def running_containers_of_cluster(cluster: str) -> dict[str, list[str]]:
    """task ARN -> IDs of the *running* Docker containers labelled with this cluster."""
    result = docker("ps", "-q", "--no-trunc", "--filter", f"label={LABEL_CLUSTER}", check=False)
    found: dict[str, list[str]] = {}
    for container_id in result.stdout.split():
        inspected = docker("inspect", "--format", "{{json .Config.Labels}}", container_id, check=False)
        if inspected.returncode != 0:
            continue  # removed meanwhile
        labels = json.loads(inspected.stdout) or {}
        if cluster in str(labels.get(LABEL_CLUSTER, "")):
            found.setdefault(labels.get(LABEL_TASK_ARN, "?"), []).append(container_id)
    return found


def delete_services_quietly(ecs, cluster: str, names: Iterable[str]) -> None:
    """Best-effort cleanup: force-deletes each service (its tasks are stopped)."""
    for name in names:
        try:
            ecs.delete_service(cluster=cluster, service=name, force=True)
        except Exception:
            pass
