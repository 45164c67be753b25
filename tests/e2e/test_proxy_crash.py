"""`berth proxy` as a process of its own: it serves what `berth server --no-proxy` describes,
and after `kill -9` it serves its last document at once, with the control plane away too;
when the server returns it follows the server's changes again.

The target is a Python HTTP server on loopback registered as an `ip` target (127.0.0.1 is
allowed): this test needs no container.
"""

from __future__ import annotations

import http.server
import signal
import threading

import pytest

import berth_e2e as e2e
from elb_e2e import FAST_HEALTH, request, short


class Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's naming)
        body = b"hello from the target"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # quiet
        pass


@pytest.fixture
def target():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def answer(port: int):
    try:
        return request(port)[:2]
    except OSError:
        return None


def test_a_killed_proxy_serves_its_last_document_even_without_the_server(tmp_path, target):
    server = e2e.start_server(tmp_path, ["--no-proxy", "--proxy-bind", "127.0.0.1"])
    proxy_dir = tmp_path / "proxy"
    proxy = e2e.BerthProcess("berth proxy", ["proxy", "--server", server.url, "--data-dir", proxy_dir,
                                             "--id", "edge-1"], tmp_path / "berth-proxy.log").start()
    elb = e2e.elbv2_client(server.url)
    group = elb.create_target_group(Name=short("crash"), Protocol="HTTP", Port=80, TargetType="ip",
                                    HealthCheckPath="/", **FAST_HEALTH)["TargetGroups"][0]["TargetGroupArn"]
    elb.register_targets(TargetGroupArn=group, Targets=[{"Id": "127.0.0.1", "Port": target}])
    lb = elb.create_load_balancer(Name=short("crash"), Subnets=["subnet-a"])["LoadBalancers"][0]
    port = e2e.free_port()
    listener = elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=port,
                                   DefaultActions=[{"Type": "forward", "TargetGroupArn": group}])
    listener_arn = listener["Listeners"][0]["ListenerArn"]
    # The standalone proxy reports health to the server it follows.
    e2e.wait_until(lambda: elb.describe_target_health(TargetGroupArn=group)["TargetHealthDescriptions"],
                   lambda found: [t["TargetHealth"]["State"] for t in found] == ["healthy"],
                   timeout=60, interval=0.5, what="the target to be healthy")
    assert e2e.wait_until(lambda: answer(port), bool, timeout=30, what="the listener to answer") == (
        200, "hello from the target")
    document = proxy_dir / "document.json"
    assert document.exists() and oct(document.stat().st_mode & 0o777) == "0o600"

    server.process.kill(signal.SIGKILL)
    proxy.kill(signal.SIGKILL)
    assert answer(port) is None, "nothing listens once the proxy is dead"
    proxy.start()
    # Straight from its cache: the server is still down.
    assert e2e.wait_until(lambda: answer(port), bool, timeout=30, what="the restarted proxy to answer") == (
        200, "hello from the target")
    assert not server.process.alive

    # The server comes back; the proxy follows its next change.
    server.process.start()
    server.wait_ready()
    elb.modify_listener(ListenerArn=listener_arn, DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": {
        "StatusCode": "503", "ContentType": "text/plain", "MessageBody": "down for maintenance"}}])
    assert e2e.wait_until(lambda: answer(port), lambda got: got == (503, "down for maintenance"), timeout=60,
                          what="the proxy to follow the server again") == (503, "down for maintenance")
    proxy.stop()
    server.process.stop()
