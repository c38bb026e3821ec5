"""Limits, through the real api-server (uvicorn -> Airflow's app -> a2wsgi -> Flask).

Body size (``[webhook_trigger] max_body_size``, 1 MiB by default): 413 from Content-Length
alone, and for chunked bodies while reading them, without waiting for (or buffering) the rest.
Rate limit (``rateLimit: "3/minute"``): 429 with Retry-After. Odd methods, huge headers and
path traversal never reach a 5xx.
"""

from __future__ import annotations

import http.client
import select
import socket
import time
import uuid

import pytest

pytestmark = pytest.mark.integration

PREFIX = "/api/v1/executions/webhook"
SIZED = f"{PREFIX}/default/limits_bodies/t4-limits-sized"
LIMIT = 1024 * 1024  # the default max_body_size; the session stack does not change it
TOO_LARGE = {"message": f"Payload Too Large: the body must be at most {LIMIT} bytes"}


# --- body size --------------------------------------------------------------------------------


def test_body_at_the_limit_is_read(http):
    response = http.post(SIZED, content=b"x" * LIMIT, headers={"Content-Type": "text/plain"})
    assert response.status_code == 204, response.text  # read whole, conditions evaluated (false)


def test_body_over_the_limit_with_content_length_is_413(http):
    response = http.post(SIZED, content=b"x" * (LIMIT + 1), headers={"Content-Type": "text/plain"})
    assert response.status_code == 413
    assert response.json() == TOO_LARGE


def test_chunked_body_over_the_limit_is_413(http):
    def chunks():
        for _ in range(20):
            yield b"y" * (64 * 1024)  # 1.25 MiB in all, no Content-Length

    response = http.post(SIZED, content=chunks(), headers={"Content-Type": "text/plain", "X-T4-Run": "1"})
    assert response.request.headers.get("transfer-encoding") == "chunked"
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert response.json() == TOO_LARGE


def test_small_chunked_body_is_accepted(http, stack):
    marker = uuid.uuid4().hex

    def chunks():
        yield b'{"marker": '
        yield f'"{marker}"}}'.encode()

    response = http.post(SIZED, content=chunks(), headers={"Content-Type": "application/json", "X-T4-Run": "1"})
    assert response.status_code == 200, response.text
    assert stack.get_run("limits_bodies", response.json()["id"])["conf"]["body"] == {"marker": marker}


def test_50_mb_chunked_upload_is_cut_short(stack):
    """The answer comes as soon as the limit is passed, and the connection is closed: the sender
    does not get to push (nor the server to take in) the remaining tens of megabytes."""
    import httpx

    sent = 0

    def fifty_megabytes():
        nonlocal sent
        while sent < 50 * 1024 * 1024:
            sent += 64 * 1024
            yield b"z" * (64 * 1024)

    started = time.monotonic()
    try:
        with httpx.Client(base_url=stack.url, timeout=60) as client:
            response = client.post(SIZED, content=fifty_megabytes(), headers={"Content-Type": "text/plain"})
        assert response.status_code == 413
        assert response.json() == TOO_LARGE
        assert response.headers.get("connection") == "close"
    except (httpx.WriteError, httpx.RemoteProtocolError, httpx.ReadError):
        pass  # the server closed the connection while we were still writing: also cut short
    assert sent < 40 * 1024 * 1024, f"the whole body was sent ({sent} bytes) before the answer"
    assert time.monotonic() - started < 30


def test_413_arrives_before_the_chunked_body_ends(stack):
    """Raw HTTP: 2.5 MiB of a chunked body that never ends. A server that read the whole body
    first would never answer; this one answers 413 once it has read past the limit."""
    host, port = stack.url.rsplit("//", 1)[1].split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(f"POST {SIZED} HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\n"
                     "Content-Type: text/plain\r\n\r\n".encode())
        chunk = b"w" * (64 * 1024)
        for _ in range(40):
            if select.select([sock], [], [], 0)[0]:
                break  # the answer is here before the body ended: stop sending, read it
            try:
                sock.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
            except (BrokenPipeError, ConnectionResetError):
                break  # the server answered and closed while we were still sending
        answer = b""
        while b"\r\n\r\n" not in answer:
            data = sock.recv(4096)
            assert data, f"connection closed without an answer: {answer!r}"
            answer += data
    status_line = answer.split(b"\r\n", 1)[0]
    assert b" 413 " in status_line, answer[:300]
    assert b"connection: close" in answer.lower()


# --- rate limit -------------------------------------------------------------------------------


def test_rate_limit_answers_429_with_retry_after(stack, http):
    """3 per minute per worker: the 4th request within the minute (on one worker) is refused
    before anything is written. With W workers the limit applies per worker: up to 3W pass."""
    marker = uuid.uuid4().hex
    statuses, refused = [], None
    for attempt in range(3 * stack.workers + 1):
        response = http.post(f"{PREFIX}/default/limits_bodies/t4-limits-rated", json={"marker": marker, "n": attempt})
        statuses.append(response.status_code)
        if response.status_code == 429:
            refused = response
            break
        assert response.status_code == 200, response.text
    assert statuses[:3] == [200, 200, 200], statuses
    assert refused is not None, f"no 429 after {statuses}"
    retry_after = refused.headers.get("Retry-After")
    assert retry_after is not None and retry_after.isdigit() and 1 <= int(retry_after) <= 60, retry_after
    assert "3 per 1 minute" in refused.json()["message"] or "3/minute" in refused.json()["message"], refused.text
    runs = [r for r in stack.list_runs("limits_bodies") if marker in str(r.get("conf"))]
    assert len(runs) == statuses.count(200)  # the refused request wrote nothing


# --- odd requests -----------------------------------------------------------------------------


def raw_request(stack, method: str, path: str, body: bytes = b"{}", headers: dict | None = None):
    """One request with the path exactly as given (no client normalises '..' or '%2e')."""
    host, port = stack.url.rsplit("//", 1)[1].split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=60)
    try:
        connection.request(method, path, body=body, headers={"Content-Type": "application/json", **(headers or {})})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


@pytest.mark.parametrize("method", ["DELETE", "PATCH", "OPTIONS", "TRACE", "PROPFIND", "MKCOL", "PURGE"])
def test_odd_methods_are_405_json(stack, method):
    status, headers, body = raw_request(stack, method, f"{PREFIX}/default/load_sqlite/t4-load-key")
    assert status == 405, body
    assert body.startswith(b"{") and b"Method Not Allowed" in body, body
    assert {h.lower(): v for h, v in headers.items()}["allow"] == "GET, POST, PUT"


def test_head_is_405_without_a_body(stack):
    status, _headers, body = raw_request(stack, "HEAD", f"{PREFIX}/default/load_sqlite/t4-load-key")
    assert status == 405 and body == b""


@pytest.mark.parametrize("method", ["GET", "PUT", "POST"])
def test_kestra_methods_are_accepted(stack, method):
    status, _headers, body = raw_request(stack, method, f"{PREFIX}/default/load_sqlite/t4-load-key")
    assert status == 200, body


@pytest.mark.parametrize("size", [8 * 1024, 64 * 1024, 1024 * 1024])
def test_huge_header_is_never_a_5xx(stack, size):
    try:
        status, _headers, body = raw_request(stack, "POST", f"{PREFIX}/default/load_sqlite/t4-load-key",
                                             headers={"X-Huge": "h" * size})
    except (ConnectionError, http.client.RemoteDisconnected):
        return  # refusing the connection is a fine answer to a megabyte of header
    assert status < 500, body
    assert status in (200, 400, 413, 431), (status, body)


def test_many_headers_are_never_a_5xx(stack):
    headers = {f"X-Many-{i}": "v" * 50 for i in range(500)}
    status, _headers, body = raw_request(stack, "POST", f"{PREFIX}/default/load_sqlite/t4-load-key", headers=headers)
    assert status < 500, body


TRAVERSALS = [
    "/default/load_sqlite/..",
    "/default/../load_sqlite/t4-load-key",
    "/default/load_sqlite/./t4-load-key",
    "/../../../api/v2/dags",
    "/default/load_sqlite/t4-load-key/..",
    "/default/load_sqlite/%2e%2e",
    "/%2e%2e/%2e%2e/%2e%2e/api/v2/dags",
    "/default/load_sqlite/%2E%2E%2F%2E%2E",
    "/default%2Ft4_load/t4-load-key",  # decodes to the valid path: still one segment holding "/"
    "/default/load_sqlite%2ft4-load-key",
    "/default/load_sqlite/t4-load-key%2F..",
    "/..%2F..%2F..%2Fapi%2Fv2%2Fdags/x/y",
    "/default/load_sqlite/..%5C..%5Cwindows",
    "/default/load_sqlite/t4-load-key%00",
    "/%00/%00/%00",
    "/default/load_sqlite/%25",
    "/default/load_sqlite/%",
    "/d%C3%A9j%C3%A0/%F0%9F%98%80/%ff%fe",
    "/default/load_sqlite/t4-load-key/extra",
    "/default/load_sqlite/t4-load-key/",
    "/default/load_sqlite",
    "/",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_path_traversal_is_404_json(stack, path):
    status, _headers, body = raw_request(stack, "POST", PREFIX + path)
    assert status == 404, (status, body)
    assert body == b'{"message": "Not Found: webhook not found"}', body


def test_the_untraversed_path_works(stack):
    """The control for the traversal cases: the same URL, plainly written, starts a run."""
    status, _headers, body = raw_request(stack, "POST", f"{PREFIX}/default/load_sqlite/t4-load-key")
    assert status == 200, body
