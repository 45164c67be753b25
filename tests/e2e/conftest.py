"""Fixtures for Berth's end-to-end tests.

- `berth` (one `berth up` per test module, its own free loopback port, data dir and a cluster
  name unique to this run; a module's `BERTH_UP_EXTRA` list adds `berth up` flags), `ecs` (boto3 client with the strict response validator on every
  call), `aws` (the real aws CLI), `cluster` (the module's cluster name).
- `tmp_processes` builds separate `berth server` / `berth agent` processes for crash tests.
- Every berth process is killed at teardown; every Docker container whose agent labels mention
  one of this run's clusters is removed. Failed tests show the tail of the berth logs.
- A boto3 response that does not match botocore's output shape fails the test (see
  shape_validator.py), even if the test swallowed the exception.
"""

from __future__ import annotations

import signal
import time

import pytest

import berth_e2e as e2e


def pytest_configure(config):
    config.addinivalue_line("markers", "docker: needs the Docker Engine and the test image")


# --------------------------------------------------------------------------------------------
# Hooks: shape problems fail the test; failed tests show berth's logs.


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    e2e.SHAPE_PROBLEMS.clear()
    result = yield
    problems = list(e2e.SHAPE_PROBLEMS)
    e2e.SHAPE_PROBLEMS.clear()
    if problems:
        raise e2e.ShapeMismatch(
            "responses that do not match botocore's output shapes:\n  " + "\n  ".join(problems)
        )
    return result


_STARTED = pytest.StashKey[float]()


def pytest_runtest_setup(item):
    item.stash[_STARTED] = time.monotonic()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.failed:
        started = item.stash.get(_STARTED, 0.0)
        relevant = [p for p in e2e.ALL_PROCESSES if p.alive or p.started_at >= started]
        for process in relevant:
            report.sections.append((f"berth log: {process.name}", process.log_tail()))
    return report


# --------------------------------------------------------------------------------------------
# Session prerequisites


@pytest.fixture(scope="session")
def docker_required():
    reachable, detail = e2e.docker_reachable()
    if not reachable:
        pytest.fail(
            "Docker is unreachable; the end-to-end tests need a running Docker Engine and are "
            f"never skipped: {detail}",
            pytrace=False,
        )
    result = e2e.docker("image", "inspect", e2e.TEST_IMAGE, check=False)
    if result.returncode != 0:
        pytest.fail(
            f"the test image {e2e.TEST_IMAGE} is missing; build it with `bash tests/images/build.sh`",
            pytrace=False,
        )
    return detail


@pytest.fixture(scope="session")
def berth_bin():
    binary = e2e.berth_binary()
    if not binary.exists():
        pytest.fail(f"{binary} is missing: run `cargo build --release -p berth` first", pytrace=False)
    return binary


@pytest.fixture(scope="session", autouse=True)
def _session_cleanup():
    yield
    for process in e2e.ALL_PROCESSES:
        if process.alive:
            process.kill(signal.SIGKILL)
    e2e.remove_containers_mentioning(e2e.SESSION_TOKEN)


@pytest.fixture(scope="session")
def e2e_tmp(tmp_path_factory):
    return tmp_path_factory.mktemp("berth-e2e")


# --------------------------------------------------------------------------------------------
# One `berth up` per module


@pytest.fixture(scope="module")
def berth(request, berth_bin, docker_required, tmp_path_factory):
    short = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_").replace("_", "-")[:20]
    cluster = e2e.unique_name(short)
    tmp = tmp_path_factory.mktemp(f"up-{short}")
    # A module may add `berth up` flags (e.g. short service settle times) with BERTH_UP_EXTRA.
    extra = list(getattr(request.module, "BERTH_UP_EXTRA", ()))
    endpoint = e2e.start_up(tmp, cluster, ["--task-cleanup-wait", "1h", *extra])
    try:
        client = e2e.ecs_client(endpoint.url)
        e2e.wait_for_instances(client, cluster, 1)
        yield endpoint
    finally:
        endpoint.process.stop()
        e2e.remove_containers_mentioning(cluster)


@pytest.fixture(scope="module")
def cluster(berth):
    return berth.cluster


@pytest.fixture(scope="module")
def ecs(berth):
    return e2e.ecs_client(berth.url)


@pytest.fixture(scope="module")
def aws(berth, tmp_path_factory):
    return e2e.AwsCli(berth.url, tmp_path_factory.mktemp("aws-cli"))


@pytest.fixture(scope="module")
def instance(ecs, cluster):
    """The container instance of the module's `berth up` agent."""
    instances = e2e.wait_for_instances(ecs, cluster, 1)
    return instances[0]


@pytest.fixture
def cleanup_tasks():
    """A list of (client, cluster, task ARN); each is stopped when the test ends, so a failed
    test does not leave tasks that skew the next one's resource accounting."""
    tasks: list[tuple] = []
    yield tasks
    for client, cluster_name, task_arn in tasks:
        try:
            client.stop_task(cluster=cluster_name, task=task_arn, reason="e2e cleanup")
        except Exception:
            pass


@pytest.fixture
def processes(tmp_path, berth_bin, docker_required):
    """Factory for separate `berth server` / `berth agent` processes (crash tests). Everything
    it starts is killed, and the containers of its clusters removed, at teardown."""

    class Factory:
        def __init__(self):
            self.tmp = tmp_path
            self.started: list[e2e.BerthProcess] = []
            self.clusters: list[str] = []

        def server(self, extra=()) -> e2e.BerthEndpoint:
            endpoint = e2e.start_server(self.tmp, extra)
            self.started.append(endpoint.process)
            return endpoint

        def agent(self, server_url: str, cluster: str, name: str, extra=()) -> e2e.BerthProcess:
            process = e2e.start_agent(self.tmp, server_url, cluster, name, extra)
            self.started.append(process)
            self.clusters.append(cluster)
            return process

    factory = Factory()
    try:
        yield factory
    finally:
        for process in reversed(factory.started):
            if process.alive:
                process.kill(signal.SIGKILL)
        for cluster_name in factory.clusters:
            e2e.remove_containers_mentioning(cluster_name)


@pytest.fixture(scope="module")
def elb(berth):
    """boto3's ELBv2 client on the module's endpoint, with the strict response validator."""
    return e2e.elbv2_client(berth.url)


@pytest.fixture
def services(ecs, cluster):
    """Names of services this test created; each is force-deleted at teardown."""
    names: list[str] = []
    yield names
    e2e.delete_services_quietly(ecs, cluster, names)
