"""The awslogs log driver on real Docker: a task's output reaches CloudWatch Logs while it runs,
through the agent, and survives the agent and the server being killed with kill -9 midway —
every line present exactly once, in order. A definition naming a group that does not exist
(without awslogs-create-group) fails to start with ECS's reason.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import time

import pytest

import berth_e2e as e2e

pytestmark = pytest.mark.docker

LINES_PER_TICK = 100
TICKS = 300  # 100 lines every 100 ms for 30 s: 1,000 lines/s, 30,000 lines.

COUNTER = (
    "n=0; while [ $n -lt %d ]; do i=0; while [ $i -lt %d ]; do echo \"line $((n*%d+i))\"; i=$((i+1)); done; "
    "usleep 100000; n=$((n+1)); done" % (TICKS, LINES_PER_TICK, LINES_PER_TICK)
)


def awslogs(group: str, **options: str) -> dict:
    return {"logDriver": "awslogs",
            "options": {"awslogs-group": group, "awslogs-region": e2e.REGION, **options}}


def all_messages(logs, group: str, stream: str) -> list[str]:
    """Every event of the stream from its head, following forward tokens to the end."""
    messages, token = [], None
    while True:
        page = logs.get_log_events(logGroupName=group, logStreamName=stream, startFromHead=True,
                                   **({"nextToken": token} if token else {}))
        messages += [event["message"] for event in page["events"]]
        if page["nextForwardToken"] == token:
            return messages
        token = page["nextForwardToken"]


class World:
    def __init__(self, processes):
        self.server = processes.server(["--no-proxy"])
        self.name = e2e.unique_name("awslogs")
        self.ecs = e2e.ecs_client(self.server.url)
        self.logs = e2e.aws_client("logs", self.server.url)
        self.ecs.create_cluster(clusterName=self.name)
        self.agent = processes.agent(self.server.url, self.name, "a")
        e2e.wait_for_instances(self.ecs, self.name, 1)

    def run(self, definition: dict) -> str:
        self.ecs.register_task_definition(**definition)
        response = self.ecs.run_task(cluster=self.name, taskDefinition=definition["family"])
        assert response["failures"] == [], response["failures"]
        return response["tasks"][0]["taskArn"]

    def restart_server(self) -> None:
        self.server.process.restart()
        self.server.wait_ready()


def test_output_streams_live_and_survives_kill_9_of_agent_and_server(processes):
    world = World(processes)
    group = f"/ecs/{world.name}"
    family = e2e.unique_name("counter")
    definition = e2e.busybox_task_definition(
        family, ["sh", "-c", COUNTER], memory=32, name="app",
        logConfiguration=awslogs(group, **{"awslogs-create-group": "true", "awslogs-stream-prefix": "web"}))
    task_arn = world.run(definition)
    task_id = task_arn.rsplit("/", 1)[1]
    stream = f"web/app/{task_id}"
    e2e.wait_status(world.ecs, world.name, task_arn, "RUNNING")
    described = world.ecs.describe_tasks(cluster=world.name, tasks=[task_arn])["tasks"][0]
    assert described["lastStatus"] == "RUNNING"

    def stored() -> int:
        try:
            return len(all_messages(world.logs, group, stream))
        except Exception:  # the stream appears with the first batch; the server may be restarting
            return 0

    # Lines arrive while the task runs, not when it exits.
    e2e.wait_until(stored, lambda count: count >= 2_000, timeout=60, what="2,000 lines while the task runs")
    world.agent.kill()
    world.agent.start()
    e2e.wait_until(stored, lambda count: count >= 12_000, timeout=90, what="lines after the agent came back")
    world.restart_server()
    e2e.wait_until(stored, lambda count: count >= 20_000, timeout=90, what="lines after the server came back")
    assert e2e.wait_task(world.ecs, world.name, task_arn, lambda task: task["lastStatus"] == "STOPPED",
                         timeout=120)["containers"][0]["exitCode"] == 0

    expected = [f"line {n}" for n in range(TICKS * LINES_PER_TICK)]
    messages = e2e.wait_until(lambda: all_messages(world.logs, group, stream),
                              lambda seen: len(seen) >= len(expected), timeout=60, what="every line")
    assert len(messages) == len(expected), f"{len(messages) - len(expected)} lines duplicated"
    assert messages == expected
    streams = world.logs.describe_log_streams(logGroupName=group)["logStreams"]
    assert [s["logStreamName"] for s in streams] == [stream]
    # Timestamps are Docker's, in order.
    events = world.logs.get_log_events(logGroupName=group, logStreamName=stream, startFromHead=True,
                                       limit=1000)["events"]
    stamps = [event["timestamp"] for event in events]
    assert stamps == sorted(stamps)
    assert abs(stamps[0] - time.time() * 1000) < 10 * 60_000


def test_lines_are_filtered_and_followed_while_the_task_runs(processes):
    world = World(processes)
    group = f"/ecs/{world.name}"
    world.logs.create_log_group(logGroupName=group)
    family = e2e.unique_name("ticker")
    script = "i=0; while true; do echo \"tick $i\"; [ $((i % 5)) -eq 0 ] && echo \"ERROR at $i\" >&2; i=$((i+1)); usleep 200000; done"
    definition = e2e.busybox_task_definition(family, ["sh", "-c", script], memory=16, name="ticker",
                                             logConfiguration=awslogs(group, **{"awslogs-stream-prefix": "t"}))
    task_arn = world.run(definition)
    stream = f"t/ticker/{task_arn.rsplit('/', 1)[1]}"

    def errors() -> list[str]:
        return [event["message"] for event in
                world.logs.filter_log_events(logGroupName=group, filterPattern="ERROR")["events"]]

    found = e2e.wait_until(errors, lambda seen: len(seen) >= 3, timeout=60, what="stderr lines filtered")
    assert found[:3] == ["ERROR at 0", "ERROR at 5", "ERROR at 10"]
    first = world.logs.get_log_events(logGroupName=group, logStreamName=stream)
    count = len(first["events"])
    later = e2e.wait_until(
        lambda: world.logs.get_log_events(logGroupName=group, logStreamName=stream, startFromHead=True)["events"],
        lambda events: len(events) > count + 5, timeout=30, what="new lines followed")
    # Order holds per output stream; a stdout and a stderr line printed together may swap.
    assert "tick 0" in [event["message"] for event in later[:2]]
    world.ecs.stop_task(cluster=world.name, task=task_arn)
    e2e.wait_status(world.ecs, world.name, task_arn, "STOPPED")


def test_a_missing_group_fails_the_start_with_ecs_reason(processes):
    world = World(processes)
    family = e2e.unique_name("nogroup")
    definition = e2e.busybox_task_definition(family, ["echo", "hi"], memory=16, name="app",
                                             logConfiguration=awslogs(f"/missing/{world.name}"))
    task_arn = world.run(definition)
    task = e2e.wait_status(world.ecs, world.name, task_arn, "STOPPED")
    assert task["stopCode"] == "TaskFailedToStart", task
    reason = task["containers"][0].get("reason", "")
    assert reason.startswith("CannotStartContainerError") and "log group does not exist" in reason, task


def test_berth_logs_prints_and_follows_under_tmux(processes):
    world = World(processes)
    group = f"/ecs/{world.name}"
    family = e2e.unique_name("ticker")
    script = "i=0; while true; do echo \"tick $i\"; i=$((i+1)); usleep 200000; done"
    definition = e2e.busybox_task_definition(
        family, ["sh", "-c", script], memory=16, name="ticker",
        logConfiguration=awslogs(group, **{"awslogs-create-group": "true", "awslogs-stream-prefix": "t"}))
    task_arn = world.run(definition)
    task_id = task_arn.rsplit("/", 1)[1]
    berth = [str(e2e.berth_binary()), "logs", "--server", world.server.url, "--cluster", world.name]

    def printed() -> list[str]:
        result = subprocess.run([*berth, task_id], capture_output=True, text=True, timeout=30)
        assert result.returncode == 0, result.stderr
        return result.stdout.splitlines()

    lines = e2e.wait_until(printed, lambda out: len(out) >= 3, timeout=60, what="berth logs to print the task's lines")
    assert lines[:3] == ["tick 0", "tick 1", "tick 2"]

    socket_name = f"berth-e2e-{e2e.SESSION_TOKEN}-logs"

    def tmux(*args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(["tmux", "-L", socket_name, *args], capture_output=True, text=True, timeout=30,
                              check=check)

    def newest_tick() -> int:
        ticks = re.findall(r"tick (\d+)", tmux("capture-pane", "-p", "-t", "logs").stdout)
        return max(map(int, ticks), default=-1)

    command = " ".join(shlex.quote(part) for part in [*berth, "--follow", task_id])
    tmux("new-session", "-d", "-s", "logs", "-x", "100", "-y", "30", command)
    try:
        first = e2e.wait_until(newest_tick, lambda tick: tick >= 0, timeout=60, what="berth logs --follow to print")
        # New lines appear on the screen as the task prints them.
        e2e.wait_until(newest_tick, lambda tick: tick >= first + 10, timeout=60, what="followed lines")
    finally:
        tmux("kill-server", check=False)
    world.ecs.stop_task(cluster=world.name, task=task_arn)
    e2e.wait_status(world.ecs, world.name, task_arn, "STOPPED")
