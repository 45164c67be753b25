"""ECS Exec through `berth up`: `berth exec` runs commands in a task's container through the
server and the task's agent (real Docker exec), with output, input, a TTY and the exit code as
a user sees them; tasks run without enableExecuteCommand are refused; every session is recorded
for the operator."""

from __future__ import annotations

import os
import shlex
import subprocess
import urllib.error
import urllib.request

import pytest
from botocore.exceptions import ClientError

import berth_e2e as e2e

pytestmark = pytest.mark.docker

NOT_ENABLED = (
    "The execute command failed because execute command was not enabled when the task was run "
    "or the execute command agent isn’t running. Wait and try the command again."
)
SLEEPER = ["sleep", "3600"]


def running_task(ecs, cluster, cleanup_tasks, *, enable: bool, definition: dict | None = None) -> dict:
    family = e2e.unique_name("exec")
    ecs.register_task_definition(**(definition or e2e.busybox_task_definition(family, SLEEPER)) | {"family": family})
    response = ecs.run_task(cluster=cluster, taskDefinition=family, enableExecuteCommand=enable)
    assert response["failures"] == [], response["failures"]
    task = response["tasks"][0]
    cleanup_tasks.append((ecs, cluster, task["taskArn"]))
    assert task["enableExecuteCommand"] is enable
    return e2e.wait_status(ecs, cluster, task["taskArn"], "RUNNING")


def berth_exec(berth, cluster: str, task_arn: str, *command: str, options: tuple[str, ...] = (),
               stdin: str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(e2e.berth_binary()), "exec", "--server", berth.url, "--cluster", cluster, "--task", task_arn,
         *options, "--", *command],
        input=stdin, stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True, text=True, timeout=120, env=env,
    )


def recorded_sessions(berth) -> list[dict]:
    with urllib.request.urlopen(f"{berth.url}/exec/v1/sessions", timeout=10) as response:
        import json
        return json.loads(response.read())["sessions"]


def test_output_and_exit_code_come_back_and_the_session_is_recorded(berth, ecs, cluster, cleanup_tasks):
    task = running_task(ecs, cluster, cleanup_tasks, enable=True)
    described = e2e.describe_task(ecs, cluster, task["taskArn"])
    assert described["enableExecuteCommand"] is True

    env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDEXECTEST")
    result = berth_exec(berth, cluster, task["taskArn"], "sh", "-c", "echo hi; echo oops >&2; exit 3", env=env)
    assert result.returncode == 3, result
    assert result.stdout == "hi\n"
    assert result.stderr == "oops\n"

    def ours(sessions):
        return [s for s in sessions if s["taskArn"] == task["taskArn"] and s["principal"] == "AKIDEXECTEST"]

    # The end is recorded once the relay has seen the exit, a moment after the client left.
    session = e2e.wait_until(lambda: ours(recorded_sessions(berth)), lambda found: found and found[0]["endedAt"],
                             timeout=30, what="the exec session's recorded end")[0]
    assert session["status"] == "EXITED"
    assert session["exitCode"] == 3
    assert session["containerName"] == "main"
    assert shlex.split(session["command"]) == ["sh", "-c", "echo hi; echo oops >&2; exit 3"]
    assert session["startedAt"] <= session["endedAt"]

    listing = subprocess.run([str(e2e.berth_binary()), "exec-sessions", "list", "--server", berth.url],
                             capture_output=True, text=True, timeout=60)
    assert listing.returncode == 0, listing
    row = next(line for line in listing.stdout.splitlines() if line.startswith(session["sessionId"]))
    assert "\tEXITED\t3\tAKIDEXECTEST\t" in row


def test_standard_input_passes_through(berth, ecs, cluster, cleanup_tasks):
    task = running_task(ecs, cluster, cleanup_tasks, enable=True)
    text = "line one\nline two\n" + "x" * 100_000 + "\n"
    result = berth_exec(berth, cluster, task["taskArn"], "cat", stdin=text)
    assert result.returncode == 0, result.stderr
    assert result.stdout == text


def test_an_interactive_shell_answers_typed_commands_under_tmux(berth, ecs, cluster, cleanup_tasks, tmp_path):
    task = running_task(ecs, cluster, cleanup_tasks, enable=True)
    socket_name = f"berth-e2e-{e2e.SESSION_TOKEN}"
    exit_file = tmp_path / "exit-code"
    command = (
        f"{shlex.quote(str(e2e.berth_binary()))} exec --server {berth.url} --cluster {cluster} "
        f"--task {task['taskArn']} -it -- sh; echo $? > {shlex.quote(str(exit_file))}"
    )

    def tmux(*args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(["tmux", "-L", socket_name, *args], capture_output=True, text=True, timeout=30,
                              check=check)

    def screen() -> str:
        return tmux("capture-pane", "-p", "-t", "exec").stdout

    tmux("new-session", "-d", "-s", "exec", "-x", "100", "-y", "30", command)
    try:
        e2e.wait_until(screen, lambda text: "#" in text, timeout=60, what="the container shell's prompt")
        tmux("send-keys", "-t", "exec", "echo $((6*7))", "Enter")
        e2e.wait_until(screen, lambda text: "42" in text.splitlines(), timeout=30, what="42 on the screen")
        # The remote side has a real terminal of the local window's size.
        tmux("send-keys", "-t", "exec", "stty size", "Enter")
        e2e.wait_until(screen, lambda text: "30 100" in text.splitlines(), timeout=30, what="the TTY size")
        tmux("send-keys", "-t", "exec", "exit 7", "Enter")
        e2e.wait_until(lambda: exit_file.exists() and exit_file.read_text().strip(), lambda code: code == "7",
                       timeout=30, what="berth exec to exit with the shell's exit code")
    finally:
        tmux("kill-server", check=False)


def test_a_task_run_without_execute_command_is_refused(berth, ecs, cluster, cleanup_tasks):
    task = running_task(ecs, cluster, cleanup_tasks, enable=False)
    with pytest.raises(ClientError) as refused:
        ecs.execute_command(cluster=cluster, task=task["taskArn"], command="true", interactive=True)
    assert refused.value.response["Error"]["Code"] == "InvalidParameterException"
    assert refused.value.response["Error"]["Message"] == NOT_ENABLED

    result = berth_exec(berth, cluster, task["taskArn"], "true")
    assert result.returncode != 0
    assert "InvalidParameterException" in result.stderr
    assert "execute command was not enabled" in result.stderr
    assert not [s for s in recorded_sessions(berth) if s["taskArn"] == task["taskArn"]], "nothing recorded"


def test_execute_command_answers_a_session_whose_token_is_required(berth, ecs, cluster, cleanup_tasks):
    task = running_task(ecs, cluster, cleanup_tasks, enable=True)
    response = ecs.execute_command(cluster=cluster, task=task["taskArn"], command="echo hi", interactive=True)
    assert response["taskArn"] == task["taskArn"]
    assert response["containerName"] == "main"
    assert response["interactive"] is True
    session = response["session"]
    assert session["streamUrl"] == f"{berth.url}/exec/v1/sessions/{session['sessionId']}"
    assert len(session["tokenValue"]) >= 32

    attach = urllib.request.Request(session["streamUrl"], headers={
        "Connection": "Upgrade", "Upgrade": "berth-exec", "x-berth-exec-token": "not-the-token"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(attach, timeout=10)
    assert refused.value.code == 401

    with pytest.raises(ClientError) as missing:
        ecs.execute_command(cluster=cluster, task="0" * 32, command="true", interactive=True)
    assert missing.value.response["Error"]["Code"] == "InvalidParameterException"


def test_multi_container_tasks_need_a_container_name(berth, ecs, cluster, cleanup_tasks):
    definition = e2e.busybox_task_definition("unused", SLEEPER, name="first")
    definition["containerDefinitions"].append(
        dict(definition["containerDefinitions"][0], name="second", command=["sh", "-c", "echo second > /tmp/who; sleep 3600"]))
    task = running_task(ecs, cluster, cleanup_tasks, enable=True, definition=definition)
    with pytest.raises(ClientError) as refused:
        ecs.execute_command(cluster=cluster, task=task["taskArn"], command="true", interactive=True)
    assert refused.value.response["Error"]["Code"] == "InvalidParameterException"
    assert "container" in refused.value.response["Error"]["Message"]

    e2e.wait_until(lambda: berth_exec(berth, cluster, task["taskArn"], "cat", "/tmp/who",
                                      options=("--container", "second")),
                   lambda result: result.returncode == 0, timeout=30, what="/tmp/who in the second container")
    result = berth_exec(berth, cluster, task["taskArn"], "cat", "/tmp/who", options=("--container", "second"))
    assert result.stdout == "second\n"


def test_service_tasks_inherit_the_services_flag(berth, ecs, cluster):
    family = e2e.unique_name("exec-svc")
    ecs.register_task_definition(**e2e.busybox_task_definition(family, SLEEPER))
    name = e2e.unique_name("exec-svc")
    created = ecs.create_service(cluster=cluster, serviceName=name, taskDefinition=family, desiredCount=1,
                                 enableExecuteCommand=True)
    try:
        assert created["service"]["enableExecuteCommand"] is True
        tasks = e2e.wait_service_running(ecs, cluster, name, 1)
        assert tasks[0]["enableExecuteCommand"] is True
        result = berth_exec(berth, cluster, tasks[0]["taskArn"], "echo", "from the service")
        assert (result.returncode, result.stdout) == (0, "from the service\n"), result.stderr

        updated = ecs.update_service(cluster=cluster, service=name, enableExecuteCommand=False)
        assert updated["service"]["enableExecuteCommand"] is False
        assert e2e.describe_service(ecs, cluster, name)["enableExecuteCommand"] is False
    finally:
        ecs.update_service(cluster=cluster, service=name, desiredCount=0)
        ecs.delete_service(cluster=cluster, service=name, force=True)
