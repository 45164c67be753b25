"""ACM certificates and HTTPS listeners: certificates made with the `openssl` CLI are imported
with the real aws CLI, described, listed and read back (never their key); an HTTPS listener
serves one of them to a real TLS client that verifies it against its own CA, picks a second by
SNI after AddListenerCertificates, speaks HTTP/2 to curl through ALPN, forwards to a busybox
httpd task, and carries a WebSocket upgrade to an echo server on loopback (an `ip` target).
A certificate a listener uses cannot be deleted.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import socket
import socketserver
import ssl
import subprocess
import threading
from pathlib import Path

import botocore.exceptions
import pytest

import berth_e2e as e2e
from elb_e2e import FAST_HEALTH, health, host_port, register, run_web_task, short, web_definition

pytestmark = pytest.mark.docker

# Listeners bind loopback only: tests talk to nothing else.
BERTH_UP_EXTRA = ["--proxy-bind", "127.0.0.1"]

WEB_NAME = "web.example.test"
API_NAME = "api.example.test"


# --------------------------------------------------------------------------------------------
# Certificates, made with the openssl CLI


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


class Pki:
    """A CA and leaf certificates it signed, as PEM files in one directory."""

    def __init__(self, directory: Path):
        self.directory = directory
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
                "-days", "2", "-subj", "/CN=Berth Test CA/O=Berth E2E", cwd=directory)
        self.ca = directory / "ca.pem"

    def leaf(self, name: str, algorithm: str = "rsa:2048") -> tuple[Path, Path]:
        """A certificate for `name` (CN and DNS SAN) signed by the CA, and its PKCS#8 key."""
        key, csr, certificate = (self.directory / f"{name}.{ext}" for ext in ("key", "csr", "pem"))
        extensions = self.directory / f"{name}.ext"
        extensions.write_text(f"subjectAltName=DNS:{name}\nextendedKeyUsage=serverAuth\n"
                              "keyUsage=digitalSignature,keyEncipherment\n")
        if algorithm == "ec":
            openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key.name,
                    "-out", csr.name, "-subj", f"/CN={name}", cwd=self.directory)
        else:
            openssl("req", "-newkey", algorithm, "-nodes", "-keyout", key.name, "-out", csr.name,
                    "-subj", f"/CN={name}", cwd=self.directory)
        openssl("x509", "-req", "-in", csr.name, "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-days", "1", "-extfile", extensions.name, "-out", certificate.name, cwd=self.directory)
        return certificate, key


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> Pki:
    assert shutil.which("openssl"), "the openssl CLI makes this module's certificates"
    return Pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def acm(berth):
    return e2e.aws_client("acm", berth.url)


@pytest.fixture(scope="module")
def acm_cli(berth, tmp_path_factory):
    return e2e.AwsCli(berth.url, tmp_path_factory.mktemp("aws-acm"), service="acm")


def import_with_cli(acm_cli, certificate: Path, key: Path, chain: Path | None = None, *extra: str) -> str:
    args = ["import-certificate", "--certificate", f"fileb://{certificate}", "--private-key", f"fileb://{key}"]
    if chain is not None:
        args += ["--certificate-chain", f"fileb://{chain}"]
    return acm_cli(*args, *extra)["CertificateArn"]


def error_code(call, **params) -> tuple[str, str]:
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        call(**params)
    return raised.value.response["Error"]["Code"], raised.value.response["Error"]["Message"]


# --------------------------------------------------------------------------------------------
# The ACM API


def test_import_describe_list_get_tags_and_refusals(acm, acm_cli, pki):
    certificate, key = pki.leaf("import.example.test")
    arn = import_with_cli(acm_cli, certificate, key, pki.ca, "--tags", "Key=team,Value=web")
    assert arn.startswith(f"arn:aws:acm:{e2e.REGION}:") and ":certificate/" in arn

    detail = acm_cli("describe-certificate", "--certificate-arn", arn)["Certificate"]
    assert detail["DomainName"] == "import.example.test"
    assert detail["SubjectAlternativeNames"] == ["import.example.test"]
    assert (detail["Type"], detail["Status"], detail["KeyAlgorithm"]) == ("IMPORTED", "ISSUED", "RSA_2048")
    assert detail["Issuer"] == "Berth E2E"
    assert detail["SignatureAlgorithm"] == "SHA256WITHRSA"
    assert detail["InUseBy"] == []
    assert {usage["Name"] for usage in detail["ExtendedKeyUsages"]} == {"TLS_WEB_SERVER_AUTHENTICATION"}
    assert detail["NotBefore"] < detail["NotAfter"]
    serial = subprocess.run(["openssl", "x509", "-in", str(certificate), "-noout", "-serial"],
                            capture_output=True, text=True, check=True).stdout.strip().split("=")[1]
    assert detail["Serial"].replace(":", "") == serial.lower()
    assert "PRIVATE KEY" not in json.dumps(detail)

    got = acm.get_certificate(CertificateArn=arn)
    assert got["Certificate"].strip() == certificate.read_text().strip()
    assert got["CertificateChain"].strip() == pki.ca.read_text().strip()
    assert "PRIVATE KEY" not in json.dumps(got)

    listed = [summary["CertificateArn"] for summary in acm.list_certificates()["CertificateSummaryList"]]
    assert arn in listed
    issued = acm.list_certificates(CertificateStatuses=["ISSUED"])["CertificateSummaryList"]
    assert arn in [summary["CertificateArn"] for summary in issued]
    assert acm.list_certificates(CertificateStatuses=["EXPIRED"])["CertificateSummaryList"] == []
    # ACM lists RSA_1024 and RSA_2048 certificates unless key types are named.
    ec_certificate, ec_key = pki.leaf("ec.example.test", "ec")
    ec_arn = acm.import_certificate(Certificate=ec_certificate.read_bytes(), PrivateKey=ec_key.read_bytes())[
        "CertificateArn"]
    assert ec_arn not in [s["CertificateArn"] for s in acm.list_certificates()["CertificateSummaryList"]]
    ec_listed = acm.list_certificates(Includes={"keyTypes": ["EC_prime256v1"]})["CertificateSummaryList"]
    assert [s["CertificateArn"] for s in ec_listed] == [ec_arn]
    # Pages of one, by NextToken.
    pages, token = [], None
    for _ in range(10):
        page = acm.list_certificates(MaxItems=1, **({"NextToken": token} if token else {}),
                                     Includes={"keyTypes": ["RSA_2048", "EC_prime256v1"]})
        pages += [s["CertificateArn"] for s in page["CertificateSummaryList"]]
        token = page.get("NextToken")
        if not token:
            break
    assert {arn, ec_arn} <= set(pages) and len(pages) == len(set(pages))

    acm.add_tags_to_certificate(CertificateArn=arn, Tags=[{"Key": "env", "Value": "test"}])
    acm.remove_tags_from_certificate(CertificateArn=arn, Tags=[{"Key": "team"}])
    assert acm.list_tags_for_certificate(CertificateArn=arn)["Tags"] == [{"Key": "env", "Value": "test"}]

    # A re-import keeps the ARN and takes the new certificate.
    renewed, renewed_key = pki.leaf("renewed.example.test")
    assert import_with_cli(acm_cli, renewed, renewed_key, None, "--certificate-arn", arn) == arn
    assert acm.describe_certificate(CertificateArn=arn)["Certificate"]["DomainName"] == "renewed.example.test"

    # Refusals name the field; none quotes the key.
    other_certificate, _ = pki.leaf("other.example.test")
    code, message = error_code(acm.import_certificate, Certificate=other_certificate.read_bytes(),
                               PrivateKey=key.read_bytes())
    assert code == "ValidationException" and "private key" in message, message
    assert key.read_text().splitlines()[1] not in message
    code, message = error_code(acm.import_certificate, Certificate=b"not a certificate", PrivateKey=key.read_bytes())
    assert code == "ValidationException" and "certificate" in message, message
    result = acm_cli.fails("import-certificate", "--certificate", f"fileb://{certificate}",
                           "--private-key", f"fileb://{certificate}")
    assert "ValidationException" in result.stderr and "private key" in result.stderr, result.stderr
    missing = arn[:-4] + ("0000" if not arn.endswith("0000") else "1111")
    assert error_code(acm.describe_certificate, CertificateArn=missing)[0] == "ResourceNotFoundException"
    assert error_code(acm.describe_certificate, CertificateArn="arn:aws:s3:::not-a-certificate")[0] \
        == "InvalidArnException"

    acm.delete_certificate(CertificateArn=ec_arn)
    assert error_code(acm.get_certificate, CertificateArn=ec_arn)[0] == "ResourceNotFoundException"


# --------------------------------------------------------------------------------------------
# HTTPS through the proxy


def tls_context(pki: Pki, alpn: list[str] | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(pki.ca))
    if alpn:
        context.set_alpn_protocols(alpn)
    return context


def https_exchange(port: int, server_name: str, pki: Pki, request: bytes) -> tuple[bytes, dict]:
    """Sends `request` over TLS (verifying the certificate for `server_name` against the
    test CA) and reads until the server closes; answers the bytes and the peer certificate."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with tls_context(pki).wrap_socket(raw, server_hostname=server_name) as tls:
            tls.sendall(request)
            chunks = []
            for _ in range(1000):
                chunk = tls.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
            return b"".join(chunks), tls.getpeercert()


def https_get(port: int, server_name: str, pki: Pki, path: str = "/") -> tuple[int, str, str]:
    """(status, body, the served certificate's CN)."""
    answer, certificate = https_exchange(
        port, server_name, pki, f"GET {path} HTTP/1.1\r\nHost: {server_name}\r\nConnection: close\r\n\r\n".encode())
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    common_name = dict(pair[0] for pair in certificate["subject"])["commonName"]
    return status, body.decode(errors="replace").strip(), common_name


def answered_https(port: int, server_name: str, pki: Pki):
    try:
        return https_get(port, server_name, pki)
    except (OSError, ssl.SSLError, IndexError, ValueError):
        return None


class EchoHandler(socketserver.BaseRequestHandler):
    """Plain HTTP: `GET /` answers 200 (the health check); a WebSocket upgrade is accepted and
    each text frame echoed, until the client closes (a bounded number of frames)."""

    GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    def handle(self) -> None:
        self.request.settimeout(10)
        data = b""
        while b"\r\n\r\n" not in data and len(data) < 65536:
            chunk = self.request.recv(4096)
            if not chunk:
                return
            data += chunk
        head = data.split(b"\r\n\r\n", 1)[0].decode(errors="replace").split("\r\n")
        headers = {line.split(":", 1)[0].strip().lower(): line.split(":", 1)[1].strip() for line in head[1:] if ":" in line}
        if headers.get("upgrade", "").lower() != "websocket":
            body = b"echo-ok"
            self.request.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))
            return
        accept = base64.b64encode(hashlib.sha1((headers["sec-websocket-key"] + self.GUID).encode()).digest())
        self.request.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                             b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n")
        for _ in range(16):
            frame = read_frame(self.request)
            if frame is None or frame[0] == 0x8:
                return
            self.request.sendall(encode_frame(frame[1], mask=False))


def recv_exact(sock, count: int) -> bytes | None:
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def read_frame(sock) -> tuple[int, bytes] | None:
    """One WebSocket frame (opcode, payload), unmasked; short payloads only."""
    header = recv_exact(sock, 2)
    if header is None:
        return None
    opcode, length, masked = header[0] & 0x0F, header[1] & 0x7F, header[1] & 0x80
    assert length < 126, "the test sends short frames only"
    mask = recv_exact(sock, 4) if masked else b"\0\0\0\0"
    payload = recv_exact(sock, length) or b""
    return opcode, bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))


def encode_frame(payload: bytes, mask: bool) -> bytes:
    key = os.urandom(4) if mask else b""
    body = bytes(byte ^ key[index % 4] for index, byte in enumerate(payload)) if mask else payload
    return bytes([0x81, (0x80 if mask else 0) | len(payload)]) + key + body


@pytest.fixture
def echo_server():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), EchoHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def websocket_echo(port: int, server_name: str, pki: Pki, messages: list[str]) -> tuple[bytes, list[str]]:
    """Upgrades `/ws` through the listener and sends each message; answers the response head
    and the echoes."""
    key = base64.b64encode(os.urandom(16)).decode()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with tls_context(pki, ["http/1.1"]).wrap_socket(raw, server_hostname=server_name) as tls:
            tls.sendall(f"GET /ws HTTP/1.1\r\nHost: {server_name}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
            head = b""
            while b"\r\n\r\n" not in head and len(head) < 65536:
                chunk = tls.recv(1)
                if not chunk:
                    break
                head += chunk
            echoes = []
            if head.startswith(b"HTTP/1.1 101"):
                for message in messages:
                    tls.sendall(encode_frame(message.encode(), mask=True))
                    frame = read_frame(tls)
                    echoes.append(frame[1].decode() if frame else "")
                tls.sendall(bytes([0x88, 0x80]) + os.urandom(4))
            expected = base64.b64encode(hashlib.sha1((key + EchoHandler.GUID).encode()).digest())
            assert expected in head or not head.startswith(b"HTTP/1.1 101"), head
            return head, echoes


def test_https_listener_serves_imported_certificates_by_sni_with_h2_and_websockets(
        ecs, elb, acm, acm_cli, cluster, pki, echo_server):
    web_certificate, web_key = pki.leaf(WEB_NAME)
    api_certificate, api_key = pki.leaf(API_NAME)
    web_arn = import_with_cli(acm_cli, web_certificate, web_key, pki.ca)
    api_arn = import_with_cli(acm_cli, api_certificate, api_key)

    definition = register(ecs, web_definition(e2e.unique_name("tls"), "secure"))
    task = run_web_task(ecs, cluster, definition)
    instance = e2e.container_instances(ecs, cluster)[0]["ec2InstanceId"]
    web_group = elb.create_target_group(Name=short("tls"), Protocol="HTTP", Port=8080, TargetType="instance",
                                        HealthCheckPath="/", **FAST_HEALTH)["TargetGroups"][0]["TargetGroupArn"]
    elb.register_targets(TargetGroupArn=web_group, Targets=[{"Id": instance, "Port": host_port(task)}])
    echo_group = elb.create_target_group(Name=short("echo"), Protocol="HTTP", Port=echo_server, TargetType="ip",
                                         HealthCheckPath="/", **FAST_HEALTH)["TargetGroups"][0]["TargetGroupArn"]
    elb.register_targets(TargetGroupArn=echo_group, Targets=[{"Id": "127.0.0.1", "Port": echo_server}])

    lb = elb.create_load_balancer(Name=short("tls"), Subnets=["subnet-a"])["LoadBalancers"][0]
    port = e2e.free_port()
    unknown = web_arn[:-4] + ("0000" if not web_arn.endswith("0000") else "1111")
    code, _ = error_code(elb.create_listener, LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTPS", Port=port,
                         Certificates=[{"CertificateArn": unknown}],
                         DefaultActions=[{"Type": "forward", "TargetGroupArn": web_group}])
    assert code == "CertificateNotFound"
    listener = elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTPS", Port=port,
                                   Certificates=[{"CertificateArn": web_arn}],
                                   DefaultActions=[{"Type": "forward", "TargetGroupArn": web_group}])["Listeners"][0]
    assert listener["Protocol"] == "HTTPS" and listener["SslPolicy"]
    assert listener["Certificates"] == [{"CertificateArn": web_arn}]
    elb.create_rule(ListenerArn=listener["ListenerArn"], Priority=10,
                    Conditions=[{"Field": "path-pattern", "Values": ["/ws"]}],
                    Actions=[{"Type": "forward", "TargetGroupArn": echo_group}])
    e2e.wait_until(lambda: sorted(t["TargetHealth"]["State"] for t in health(elb, web_group) + health(elb, echo_group)),
                   lambda states: states == ["healthy", "healthy"], timeout=90, interval=0.5,
                   what="the task and the echo server to pass their health checks")

    # A real HTTPS GET, verified against the test CA, reaches the busybox task.
    assert e2e.wait_until(lambda: answered_https(port, WEB_NAME, pki), lambda answer: answer and answer[0] == 200,
                          timeout=30, what="the HTTPS listener to answer") == (200, "secure", WEB_NAME)

    # SNI: the second certificate is served for its own name once added; the default otherwise.
    elb.add_listener_certificates(ListenerArn=listener["ListenerArn"], Certificates=[{"CertificateArn": api_arn}])
    described = elb.describe_listener_certificates(ListenerArn=listener["ListenerArn"])["Certificates"]
    assert sorted((c["CertificateArn"], c["IsDefault"]) for c in described) == sorted([(web_arn, True), (api_arn, False)])
    e2e.wait_until(lambda: answered_https(port, API_NAME, pki), lambda answer: answer == (200, "secure", API_NAME),
                   timeout=30, what="the SNI certificate to be served")
    assert https_get(port, WEB_NAME, pki)[2] == WEB_NAME

    # HTTP/2 through ALPN, with curl verifying the certificate (.ci/run installs curl).
    assert shutil.which("curl"), "curl speaks HTTP/2 to the listener"
    result = subprocess.run(
        ["curl", "--http2", "-sS", "--max-time", "10", "--cacert", str(pki.ca),
         "--resolve", f"{WEB_NAME}:{port}:127.0.0.1", "-w", "\n%{http_version}", f"https://{WEB_NAME}:{port}/"],
        capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    body, version = result.stdout.rsplit("\n", 1)
    assert (body.strip(), version) == ("secure", "2")

    # A WebSocket upgrade through the listener reaches the echo server and echoes both ways.
    head, echoes = websocket_echo(port, WEB_NAME, pki, ["hello berth", "second frame"])
    assert head.startswith(b"HTTP/1.1 101"), head
    assert echoes == ["hello berth", "second frame"]

    # The certificates are in use: ACM says by whom, and refuses to delete them.
    assert acm.describe_certificate(CertificateArn=web_arn)["Certificate"]["InUseBy"] == [lb["LoadBalancerArn"]]
    code, _ = error_code(acm.delete_certificate, CertificateArn=web_arn)
    assert code == "ResourceInUseException"
    result = acm_cli.fails("delete-certificate", "--certificate-arn", api_arn)
    assert "ResourceInUseException" in result.stderr, result.stderr

    # Once the listener lets go, they can be deleted.
    elb.remove_listener_certificates(ListenerArn=listener["ListenerArn"], Certificates=[{"CertificateArn": api_arn}])
    acm.delete_certificate(CertificateArn=api_arn)
    elb.delete_listener(ListenerArn=listener["ListenerArn"])
    acm_cli("delete-certificate", "--certificate-arn", web_arn)
    assert error_code(acm.describe_certificate, CertificateArn=web_arn)[0] == "ResourceNotFoundException"
    ecs.stop_task(cluster=cluster, task=task["taskArn"])
