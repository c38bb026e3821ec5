"""``docs/nginx-webhook-only.conf`` in a real nginx in front of the test Airflow.

The shipped file is used as is, except for what only a test can decide (its listen port, the
upstream port, a throwaway certificate and log paths): each of those lines must be found in the
file, so the test breaks if the documented config drifts. Through nginx the webhook works, and
everything else of Airflow (UI, REST API, auth, execution API), also by path tricks, answers 404
or 403 without reaching Airflow. Requests go through ``http.client`` because it sends a path
exactly as given (httpx would resolve ``..`` itself). Skipped when nginx is not installed.
The paths nginx forwards are those of the Kubernetes Ingress, deploy/ingress.yaml (read here, and
compared line by line in tests/unit/test_deploy_recipes.py).
"""

from __future__ import annotations

import datetime
import http.client
import ipaddress
import json
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import yaml

from tools.stack import free_port

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
CONF = REPO / "docs" / "nginx-webhook-only.conf"
NGINX = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)
WEBHOOK = "/api/v1/executions/webhook/t4pg/postgres_faults/t4pg-faults"  # key t4pg-faults (tests/dags/postgres_faults.py)
INGRESS_PATHS = sorted(path["path"] for doc in yaml.safe_load_all((REPO / "deploy" / "ingress.yaml").read_text()) if doc
                       for rule in doc["spec"]["rules"] for path in rule["http"]["paths"])
NGINX_OWN_PAGE = b"<center>nginx</center>"  # what nginx itself answers (return 404, deny: 403)


def _certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, valid for a day."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def _site_config(folder: Path, port: int, upstream_port: int, cert: Path, key: Path) -> str:
    text = CONF.read_text()
    for documented, tested in {
        "listen 443 ssl;": f"listen 127.0.0.1:{port} ssl;",
        "server 127.0.0.1:8080;": f"server 127.0.0.1:{upstream_port};",
        "/etc/ssl/certs/webhooks.example.com.pem": str(cert),
        "/etc/ssl/private/webhooks.example.com.key": str(key),
        "/var/log/nginx/airflow-webhooks.access.log": str(folder / "webhooks.access.log"),
        "/var/log/nginx/airflow-webhooks.error.log": str(folder / "webhooks.error.log"),
    }.items():
        assert text.count(documented) >= 1, f"{CONF.name} no longer holds {documented!r}: update this test"
        text = text.replace(documented, tested)
    return text


@pytest.fixture(scope="module")
def nginx(stack):
    if NGINX is None:
        pytest.skip("nginx is not installed (apt-get install nginx): the reverse proxy config is not tested")
    folder = Path(tempfile.mkdtemp(prefix="t4pg-nginx-"))
    folder.chmod(0o755)  # nginx's workers (user nobody when started as root) use the temp folders
    port = free_port()
    cert, key = _certificate(folder)
    (folder / "airflow-webhooks.conf").write_text(_site_config(folder, port, stack.port, cert, key))
    kinds = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    temp = " ".join(f"{kind}_temp_path {folder / kind};" for kind in kinds)
    (folder / "nginx.conf").write_text(
        f"worker_processes 1;\npid {folder / 'nginx.pid'};\nerror_log {folder / 'main.error.log'};\n"
        f"events {{ worker_connections 256; }}\n"
        # like Debian's nginx.conf: an http-level access log, which the site's own must replace
        f"http {{ {temp}\n access_log {folder / 'default.access.log'};\n"
        f" include {folder / 'airflow-webhooks.conf'}; }}\n"
    )
    proc = subprocess.Popen([NGINX, "-p", str(folder), "-e", str(folder / "startup.error.log"),
                             "-c", str(folder / "nginx.conf"), "-g", "daemon off;"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while True:
            assert proc.poll() is None, f"nginx exited: {proc.stdout.read().decode(errors='replace')}"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "nginx did not listen within 20 s"
                time.sleep(0.1)
        yield Proxy(port, cert, folder)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        shutil.rmtree(folder, ignore_errors=True)


class Proxy:
    def __init__(self, port: int, cert: Path, folder: Path) -> None:
        self.port, self.folder = port, folder
        self.tls = ssl.create_default_context(cafile=str(cert))

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        """(status, body) of one request, the path sent exactly as given."""
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.tls, timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()


def test_the_tenant_url_is_forwarded_and_its_run_created(nginx, stack):
    """Kestra 2.x's /api/v1/main/executions/webhook/...; another tenant never reaches Airflow."""
    tenant_url = WEBHOOK.replace("/api/v1/executions/", "/api/v1/main/executions/")
    status, raw = nginx.request("POST", tenant_url, json.dumps({"via": "tenant"}).encode(),
                                {"Content-Type": "application/json"})
    assert status == 200, raw
    run = stack.get_run("postgres_faults", json.loads(raw)["dag_run_id"])
    assert run is not None and run["conf"]["body"] == {"via": "tenant"}
    status, raw = nginx.request("POST", WEBHOOK.replace("/api/v1/executions/", "/api/v1/acme/executions/"), b"{}")
    assert status == 404 and b"Not Found: webhook not found" not in raw  # nginx's own 404
    log = ""
    for _ in range(50):
        log = (nginx.folder / "webhooks.access.log").read_text()
        if "/api/v1/main/executions/webhook/t4pg/postgres_faults/***" in log:
            break
        time.sleep(0.1)
    assert '"POST /api/v1/main/executions/webhook/t4pg/postgres_faults/*** HTTP/1.1" 200' in log, log[-2000:]
    assert "t4pg-faults" not in log


def test_the_webhook_is_forwarded_and_its_run_created(nginx, stack):
    body = json.dumps({"via": "nginx"}).encode()
    status, raw = nginx.request("POST", WEBHOOK, body, {"Content-Type": "application/json"})
    assert status == 200, raw
    run = stack.get_run("postgres_faults", json.loads(raw)["dag_run_id"])
    assert run is not None and run["conf"]["body"] == {"via": "nginx"}
    status, raw = nginx.request("GET", WEBHOOK + "?source=nginx")
    assert status == 200, raw


@pytest.mark.parametrize("prefix", INGRESS_PATHS)
def test_every_ingress_path_is_forwarded_to_airflow(nginx, prefix):
    """Each path the Ingress routes reaches Airflow through nginx too (an answer of the api-server,
    not nginx's own page), for GET, POST and PUT."""
    for method in ("GET", "POST", "PUT"):
        status, raw = nginx.request(method, f"{prefix}t4pg/postgres_faults/not-the-key", b"{}",
                                    {"Content-Type": "application/json"})
        assert NGINX_OWN_PAGE not in raw, (method, prefix, status, raw[:300])


@pytest.mark.parametrize("path", [p + "x/y/z" for p in (
    "/api/v1/other/executions/webhook/", "/api/v1/mainx/executions/webhook/", "/api/v1/main/executions/webhookx/",
    "/api/v2/main/executions/webhook/", "/api/v1/main/", "/api/v1/",
)] + ["/api/v1/main/executions/webhook"])
def test_only_the_ingress_paths_are_forwarded(nginx, path):
    assert not any(path.startswith(prefix) for prefix in INGRESS_PATHS)
    status, raw = nginx.request("GET", path)
    assert status == 404 and NGINX_OWN_PAGE in raw, (status, raw[:300])


@pytest.mark.parametrize("path", [
    "/", "/api/v2/monitor/health", "/api/v2/version", "/api/v2/dags", "/auth/token", "/auth/login",
    "/ui/config", "/execution/health", "/docs", "/api/v1/executions/webhook", "/api/v1/executions/webhookx/a/b/c",
    # path tricks: each resolves to somewhere outside the prefix, or is sent upstream resolved
    "/api/v1/executions/webhook/../../../v2/monitor/health",
    "/api/v1/executions/webhook/%2e%2e/%2e%2e/%2e%2e/v2/monitor/health",
    "/api/v1/executions/webhook/..%2f..%2f..%2fv2%2fmonitor%2fhealth",
    "/api/v1/executions/webhook/t4pg/postgres_faults/t4pg-faults/../../../../../v2/monitor/health",
    "//api/v2/monitor/health",
    "/api/v2/monitor/health?/api/v1/executions/webhook/",
])
def test_everything_else_is_refused_without_reaching_airflow(nginx, stack, path):
    status, raw = nginx.request("GET", path)
    assert status in (403, 404), (status, raw[:300])
    assert b"metadatabase" not in raw and b"detail" not in raw, raw[:300]  # not an answer of Airflow's API


def test_airflow_itself_answers_those_paths(stack):
    """Control: without nginx the same api-server does serve them (so the 404s above are nginx's)."""
    conn = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=30)
    conn.request("GET", stack.health_url[len(stack.url):])  # /api/v2/monitor/health (Airflow 2: /health)
    response = conn.getresponse()
    assert response.status == 200 and b"metadatabase" in response.read()


def test_a_path_that_resolves_into_the_prefix_is_sent_resolved(nginx, stack):
    status, raw = nginx.request("POST", "/api/v2/../v1/executions/webhook/t4pg/postgres_faults/t4pg-faults", b"{}",
                                {"Content-Type": "application/json"})
    assert status == 200, raw  # upstream got the normalized path, which is the webhook
    assert stack.get_run("postgres_faults", json.loads(raw)["dag_run_id"]) is not None


@pytest.mark.parametrize("method", ["DELETE", "PATCH", "OPTIONS"])
def test_other_methods_are_refused(nginx, method):
    status, _ = nginx.request(method, WEBHOOK)
    assert status == 403


def test_a_body_over_the_limit_is_refused_by_nginx(nginx):
    status, _ = nginx.request("POST", WEBHOOK, b"x" * (2 * 1024 * 1024), {"Content-Type": "text/plain"})
    assert status == 413


def test_the_access_log_masks_the_key(nginx):
    nginx.request("POST", WEBHOOK, b"{}", {"Content-Type": "application/json"})
    nginx.request("GET", WEBHOOK + "?masked=yes")
    nginx.request("POST", "/api/v1/executions/%77ebhook/t4pg/postgres_faults/t4pg%2dfaults", b"{}")  # spelled differently
    for odd in ("/t4pg-faults/extra", "%2Ft4pg-faults", "/x/t4pg-faults", "//t4pg-faults"):  # after ns/dag: all masked
        nginx.request("POST", f"/api/v1/executions/webhook/t4pg/postgres_faults{odd}", b"{}")
    nginx.request("POST", "/api/v1/executions/webhook/t4pg/..%2F..%2Fx/t4pg-faults", b"{}")
    nginx.request("POST", "/api/v1/main/executions/webhook/t4pg/postgres_faults/t4pg-faults", b"{}")  # the tenant form
    log = ""
    for _ in range(50):  # nginx writes the line once the response is sent
        log = (nginx.folder / "webhooks.access.log").read_text()
        if "%77ebhook" not in log and log.count("/postgres_faults/***") >= 8 and "(path not logged)" in log:
            break
        time.sleep(0.1)
    assert '"POST /api/v1/executions/webhook/t4pg/postgres_faults/*** HTTP/1.1" 200' in log, log[-2000:]
    assert '"GET /api/v1/executions/webhook/t4pg/postgres_faults/***?masked=yes HTTP/1.1" 200' in log, log[-2000:]
    assert '"POST /api/v1/main/executions/webhook/t4pg/postgres_faults/*** HTTP/1.1"' in log, log[-2000:]
    assert "t4pg-faults" not in log and "t4pg%2dfaults" not in log and "extra" not in log, log[-2000:]
    assert '"POST (path not logged) HTTP/1.1" 404' in log, log[-2000:]  # ns/..%2F..%2Fx/KEY left the prefix
    default_log = nginx.folder / "default.access.log"
    assert not default_log.exists() or "t4pg-faults" not in default_log.read_text()


def test_a_flood_from_one_address_gets_429_from_nginx(nginx):
    """``limit_req``: 50/s per address with a burst of 100; keep-alive requests come faster than that."""
    conn = http.client.HTTPSConnection("127.0.0.1", nginx.port, context=nginx.tls, timeout=60)
    statuses = []
    try:
        for _ in range(400):
            conn.request("GET", "/api/v1/executions/webhook/t4pg/postgres_no_such_dag/no-key")
            response = conn.getresponse()
            response.read()
            statuses.append(response.status)
    finally:
        conn.close()
    assert set(statuses) <= {404, 429}, set(statuses)
    assert 429 in statuses, f"no 429 in {len(statuses)} requests"
    time.sleep(2.5)  # the bucket drains (50/s) before anything else uses this proxy
