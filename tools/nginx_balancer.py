"""nginx as the one address in front of several api-server replicas (plain HTTP, loopback only).

The upstream and proxy settings are those of ``docs/nginx-webhook-only.conf`` (which
``tests/integration/test_reverse_proxy.py`` tests as shipped, TLS and all) with one ``server``
line per replica, round robin. Not the flood limit (``limit_req``): a test burst from one
address would hit it. Each answer carries ``X-Upstream`` (the replica that served it), so a
test can see the requests were spread. nginx's defaults decide what happens when a replica
dies: a request not yet sent to it goes to the next replica (``proxy_next_upstream error
timeout``), a POST already sent is not replayed (not idempotent) and its sender gets 502.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from tools.stack import free_port

__all__ = ["NginxBalancer", "available", "SKIP_REASON"]

SKIP_REASON = "nginx is not installed (apt-get install nginx): the replicas are not tested behind one address"
PREFIX = "/api/v1/executions/webhook/"


def _binary() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)


def available() -> bool:
    return _binary() is not None


class NginxBalancer:
    def __init__(self, upstream_ports: list[int]) -> None:
        binary = _binary()
        if binary is None:
            raise RuntimeError(SKIP_REASON)
        self.folder = Path(tempfile.mkdtemp(prefix="nginx-replicas-"))
        self.folder.chmod(0o755)  # nginx's workers (user nobody when started as root) use the temp folders
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        servers = "\n".join(f"    server 127.0.0.1:{port} max_fails=1 fail_timeout=10s;" for port in upstream_ports)
        temp = " ".join(f"{kind}_temp_path {self.folder / kind};" for kind in
                        ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        (self.folder / "nginx.conf").write_text(f"""
worker_processes 1;
pid {self.folder / 'nginx.pid'};
error_log {self.folder / 'error.log'};
events {{ worker_connections 1024; }}
http {{
  {temp}
  access_log {self.folder / 'access.log'};
  upstream airflow_api {{
{servers}
    keepalive 16;
  }}
  server {{
    listen 127.0.0.1:{self.port};
    client_max_body_size 1m;
    location {PREFIX} {{
      limit_except GET POST PUT {{ deny all; }}
      proxy_pass http://airflow_api{PREFIX};
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_read_timeout 120s;
      proxy_request_buffering on;
      add_header X-Upstream $upstream_addr always;
    }}
    location / {{ return 404; }}
  }}
}}
""")
        self.proc = subprocess.Popen([binary, "-p", str(self.folder), "-e", str(self.folder / "startup.error.log"),
                                      "-c", str(self.folder / "nginx.conf"), "-g", "daemon off;"],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nginx exited: {self.proc.stdout.read().decode(errors='replace')}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    self.close()
                    raise TimeoutError("nginx did not listen within 20 s")
                time.sleep(0.1)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> NginxBalancer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
