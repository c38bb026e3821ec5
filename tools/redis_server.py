"""A throwaway Redis server for the tests: ``redis-server`` on a free loopback port, no persistence.

``RedisServer()`` starts ``redis-server --port P --save '' --appendonly no`` in a temporary
directory and waits until it answers PING; ``stop()`` / ``start()`` take it down and bring it
back on the same port (an outage the rate limiter must survive); ``close()`` removes it. The
server is Debian's ``redis-server`` (``apt-get install redis-server``, as ``.ci/run`` does):
``available()`` says whether it is there, so tests can skip saying why.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

__all__ = ["RedisServer", "available", "SKIP_REASON"]

SKIP_REASON = "redis-server is not installed (apt-get install redis-server): shared rate limits are not tested"


def _binary() -> str | None:
    return shutil.which("redis-server") or next(
        (p for p in ("/usr/bin/redis-server", "/usr/sbin/redis-server") if Path(p).exists()), None)


def available() -> bool:
    return _binary() is not None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    def __init__(self, *, start: bool = True) -> None:
        binary = _binary()
        if binary is None:
            raise RuntimeError(SKIP_REASON)
        self.binary = binary
        self.dir = Path(tempfile.mkdtemp(prefix="redis-test-"))
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None
        if start:
            self.start()

    def start(self, timeout: float = 20) -> RedisServer:
        assert self.proc is None or self.proc.poll() is not None, "already running"
        log = open(self.dir / "redis.log", "ab")
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.dir), "--protected-mode", "yes"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while not self.ping():
            if self.proc.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.proc.returncode}: {self.log()[-2000:]}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"redis-server did not answer PING within {timeout} s: {self.log()[-2000:]}")
            time.sleep(0.05)
        return self

    def ping(self) -> bool:
        return self.command("PING") == b"+PONG"

    def command(self, *args: str) -> bytes | None:
        """One command in RESP; its first reply line (``+PONG``, ``:3``...), or None when no server answers."""
        payload = f"*{len(args)}\r\n".encode() + b"".join(
            f"${len(a.encode())}\r\n".encode() + a.encode() + b"\r\n" for a in args)
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=2) as sock:
                sock.sendall(payload)
                reply = b""
                while b"\r\n" not in reply:
                    data = sock.recv(4096)
                    if not data:
                        break
                    reply += data
                return reply.split(b"\r\n", 1)[0]
        except OSError:
            return None

    def flush(self) -> None:
        assert self.command("FLUSHALL") == b"+OK"

    def stop(self) -> None:
        """Stop the server now (SIGKILL: as abrupt as a crash; nothing is persisted anyway)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=20)

    def log(self) -> str:
        path = self.dir / "redis.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> RedisServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
