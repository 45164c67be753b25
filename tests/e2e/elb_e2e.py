"""Helpers for the load-balancing end-to-end tests: target groups with ALB's fastest health
checks, listeners on free loopback ports, busybox httpd task definitions that say which
revision answered, plain HTTP requests through a listener, and `SteadyLoad`, a bounded request
loop that records every answer while a deployment runs.
"""

from __future__ import annotations

import http.client
import threading
import time
from typing import Callable

import berth_e2e as e2e

# ALB's smallest health check interval and thresholds, so targets decide in ~10 s.
FAST_HEALTH = {"HealthCheckIntervalSeconds": 5, "HealthCheckTimeoutSeconds": 2,
               "HealthyThresholdCount": 2, "UnhealthyThresholdCount": 2}


def short(prefix: str) -> str:
    return f"{prefix}-{e2e.uuid.uuid4().hex[:8]}"


def web_definition(family: str, body: str, extra_files: dict[str, str] | None = None) -> dict:
    """httpd on 8080 serving `body` at /, `body`-api at /api/, and any extra files."""
    files = {"index.html": body, "api/index.html": f"{body}-api", **(extra_files or {})}
    script = " && ".join(
        f"mkdir -p /www/$(dirname {path}) && echo {content} > /www/{path}" for path, content in files.items())
    return e2e.busybox_task_definition(
        family, ["sh", "-c", f"{script} && exec httpd -f -p 8080 -h /www"], memory=16,
        port_mappings=[{"containerPort": 8080, "hostPort": 0, "protocol": "tcp"}])


def register(ecs, definition: dict) -> str:
    return ecs.register_task_definition(**definition)["taskDefinition"]["taskDefinitionArn"]


def instance_id(ecs, cluster: str) -> str:
    return e2e.container_instances(ecs, cluster)[0]["ec2InstanceId"]


def host_port(task: dict) -> int:
    return task["containers"][0]["networkBindings"][0]["hostPort"]


def target_group(elb, name_prefix: str, **extra) -> str:
    params = {"Name": short(name_prefix), "Protocol": "HTTP", "Port": 8080, "TargetType": "instance",
              "HealthCheckPath": "/", **FAST_HEALTH, **extra}
    return elb.create_target_group(**params)["TargetGroups"][0]["TargetGroupArn"]


def load_balancer_with_listener(elb, default_group: str) -> tuple[str, str, int]:
    lb = elb.create_load_balancer(Name=short("lb"), Subnets=["subnet-a"])["LoadBalancers"][0]
    port = e2e.free_port()
    listener = elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=port,
                                   DefaultActions=[{"Type": "forward", "TargetGroupArn": default_group}])
    return lb["LoadBalancerArn"], listener["Listeners"][0]["ListenerArn"], port


def set_delay(elb, group: str, seconds: int) -> None:
    elb.modify_target_group_attributes(TargetGroupArn=group, Attributes=[
        {"Key": "deregistration_delay.timeout_seconds", "Value": str(seconds)}])


def health(elb, group: str) -> list[dict]:
    return elb.describe_target_health(TargetGroupArn=group)["TargetHealthDescriptions"]


def wait_health(elb, group: str, states: list[str], timeout: float = 90.0) -> list[dict]:
    """Waits until the group's targets are in exactly these states (in any order)."""
    return e2e.wait_until(lambda: health(elb, group),
                          lambda found: sorted(t["TargetHealth"]["State"] for t in found) == sorted(states),
                          timeout=timeout, interval=0.5, what=f"targets of {group} to be {states}")


def request(port: int, path: str = "/", host: str | None = None,
            connection: http.client.HTTPConnection | None = None) -> tuple[int, str, dict]:
    conn = connection or http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Host": host} if host else {}
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    body = response.read().decode(errors="replace").strip()
    if connection is None:
        conn.close()
    return response.status, body, {name.lower(): value for name, value in response.getheaders()}


def run_web_task(ecs, cluster: str, definition_arn: str) -> dict:
    task = ecs.run_task(cluster=cluster, taskDefinition=definition_arn)["tasks"][0]
    return e2e.wait_status(ecs, cluster, task["taskArn"], "RUNNING")


class SteadyLoad:
    """GET / over one keep-alive connection, again and again, from a thread: at most
    `max_requests`, for at most `max_seconds`. Records every answer; a refused or broken
    connection is a failure (and the connection is made again)."""

    def __init__(self, port: int, max_requests: int = 20000, max_seconds: float = 240.0,
                 connect: Callable[[], http.client.HTTPConnection] | None = None, host: str | None = None):
        self.port, self.max_requests, self.max_seconds = port, max_requests, max_seconds
        # How to open the connection (HTTPS with SNI, say) and the Host header to send.
        self.connect = connect or (lambda: http.client.HTTPConnection("127.0.0.1", port, timeout=10))
        self.host = host
        self.bodies: list[str] = []
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "SteadyLoad":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        deadline = time.monotonic() + self.max_seconds
        conn = self.connect()
        for _ in range(self.max_requests):
            if self._stop.is_set() or time.monotonic() > deadline:
                break
            try:
                status, body, _ = request(self.port, host=self.host, connection=conn)
                if status == 200:
                    self.bodies.append(body)
                else:
                    self.failures.append(f"{status} {body[:80]}")
            except (OSError, http.client.HTTPException) as error:
                self.failures.append(repr(error))
                conn.close()
                conn = self.connect()
            # ~200 requests/s: steady, not a benchmark.
            self._stop.wait(0.005)
        conn.close()
