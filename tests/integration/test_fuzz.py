"""Generated requests against the real api-server never get a 5xx.

Hypothesis builds methods, paths (unicode, dots, percent-encodings, encoded slashes), query
strings, headers and bodies (random bytes, invalid UTF-8, malformed and deeply nested JSON,
template-injection text) and sends them with ``http.client``, which sends the path exactly as
given. Every answer must be below 500, JSON unless it is a 204 or the answer to a HEAD, and
every 200 must name a run that Airflow's REST API can show. Template text sent as data must
arrive in the run's conf exactly as sent: ``tests/dags/fuzz_requests.py`` copies it there.
"""

from __future__ import annotations

import collections
import gzip
import http.client
import json
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.integration

PREFIX = "/api/v1/executions/webhook"
FUZZ = f"{PREFIX}/t4.fuzz/fuzz_requests/t4-fuzz-key"
ECHO = f"{PREFIX}/t4.fuzz/fuzz_requests/t4-fuzz-echo"
SEEN: collections.Counter = collections.Counter()  # status -> count, over the generated requests
SETTINGS = settings(max_examples=150, deadline=None, derandomize=False,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large, HealthCheck.filter_too_much])

INJECTIONS = [
    "{{ 7*7 }}", "{{7*'7'}}", "{% for x in range(10**9) %}x{% endfor %}", "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ secret('SIG_GITHUB') }}", "{{ var.value.SIG_GITHUB }}", "{{ conn.x.password }}", "{{ trigger }}",
    "{{ flow.id }}", "${{ 1 }}", "{#", "{{", "}}", "{%", "%}", "{% raw %}", "{{ lipsum.__globals__ }}",
    "#{7*7}", "${7*7}", "<%= 7*7 %>", "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
]
SEGMENTS = ["..", ".", "%2e%2e", "%2E", "%2F", "%2f..%2f", "%00", "%ff%fe", "%", "%zz", "%25", ";x=1", "~",
            "t4.fuzz", "fuzz_requests", "t4-fuzz-key", "t4-fuzz-echo", "default", "load_sqlite", "t4-load-key",
            "%C3%A9", "%F0%9F%98%80", "..%2F..%2Fapi%2Fv2", "%5C..%5C", quote("{{ 7*7 }}", safe="")]


def quoted(text: str, safe: str) -> str:
    return quote(text.encode("utf-8", "surrogatepass"), safe=safe)


segments = st.one_of(
    st.sampled_from(SEGMENTS),
    st.builds(quoted, st.text(max_size=20), st.sampled_from(["", "%", "/", ".~"])),
)
paths = st.one_of(
    st.sampled_from([FUZZ, FUZZ, FUZZ, ECHO, f"{PREFIX}/default/load_sqlite/t4-load-key"]),
    st.sampled_from([FUZZ, FUZZ, FUZZ, ECHO, f"{PREFIX}/default/load_sqlite/t4-load-key"]),
    st.lists(segments, min_size=1, max_size=5).map(lambda parts: f"{PREFIX}/" + "/".join(parts)),
    st.tuples(st.sampled_from([FUZZ, ECHO]), segments).map(lambda pair: "/".join(pair)),
)
queries = st.lists(st.tuples(st.one_of(st.text(max_size=10), st.sampled_from(["skip", "echo", "a"])),
                             st.one_of(st.text(max_size=30), st.sampled_from(INJECTIONS))), max_size=4)
# header values: what http.client can put on the wire (latin-1, no CR/LF), stripped like servers do
header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF, blacklist_characters="\x7f"),
                      max_size=60).map(str.strip)
CONTENT_TYPES = ["application/json", "text/plain", "application/x-www-form-urlencoded", "application/xml",
                 "multipart/form-data; boundary=xyz", "multipart/form-data", "application/octet-stream",
                 "application/json; charset=latin-1", "application/vnd.api+json", "", "garbage/////;;;=="]
headers = st.dictionaries(
    st.sampled_from(["X-Fuzz", "X-Echo", "User-Agent", "Idempotency-Key", "X-Hub-Signature-256",
                     "Stripe-Signature", "Accept", "Accept-Encoding", "X-Forwarded-For", "Authorization", "Cookie",
                     "X-GitHub-Delivery", "webhook-id", "X-T4-Skip"]),
    st.one_of(header_text, st.sampled_from(INJECTIONS)), max_size=5,
).flatmap(lambda hs: st.sampled_from(CONTENT_TYPES).map(lambda ct: {**hs, **({"Content-Type": ct} if ct else {})}))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30) | st.sampled_from(INJECTIONS),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=25,
)
bodies = st.one_of(
    st.just(b""),
    st.binary(max_size=2000),
    st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")),  # lone surrogates: invalid UTF-8
    json_values.map(lambda v: json.dumps(v).encode()),
    json_values.map(lambda v: json.dumps(v, ensure_ascii=False).encode()),
    json_values.map(lambda v: json.dumps(v)[:-1].encode()),  # truncated: malformed
    st.integers(1, 5000).map(lambda d: b"[" * d + b"]" * d),
    st.integers(1, 3000).map(lambda d: b'{"a":' * d + b"1" + b"}" * d),
    st.sampled_from(INJECTIONS).map(lambda t: json.dumps({"text": t, "nope": t}).encode()),
    st.sampled_from(INJECTIONS).map(str.encode),
    st.sampled_from([b'{"a": NaN}', b"[1e400]", b'{"a": "\\u0000"}', b'{"a": "\\ud800"}', b"\xff\xfe{}",
                     b"nul\x00byte", b"\xef\xbb\xbf{\"bom\": 1}", b"--xyz\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--xyz--\r\n"]),
)
methods = st.sampled_from(["POST"] * 5 + ["PUT", "GET", "DELETE", "PATCH", "OPTIONS", "TRACE", "HEAD"])


def send(stack, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict, bytes]:
    host, port = stack.url.rsplit("//", 1)[1].split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=60)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        answer_headers = {k.lower(): v for k, v in response.getheaders()}
        content = response.read()
        if answer_headers.get("content-encoding") == "gzip":  # Airflow's GZip middleware, on Accept-Encoding
            content = gzip.decompress(content)
        return response.status, answer_headers, content
    finally:
        connection.close()


def check_answer(stack, method: str, status: int, answer_headers: dict, content: bytes) -> None:
    assert status < 500, content[:500]
    if status == 204 or method == "HEAD":
        return
    assert answer_headers.get("content-type", "").startswith("application/json"), (status, content[:300])
    answer = json.loads(content)
    assert isinstance(answer, dict) and ("message" in answer or "id" in answer or (
        # a decoded path Starlette's mount cannot match (a newline: ".../%0A") is Airflow's own 404
        status in (404, 405) and set(answer) == {"detail"})), answer
    if status == 200:
        run = stack.get_run(answer["dag_id"], answer["id"])  # the REST API can read and show it
        assert run is not None, f"200 for run {answer['id']} the REST API cannot show"


def test_the_fuzz_targets_are_served(stack):
    """Without this, a broken target DAG would turn every generated request into a harmless 404."""
    status, _headers, content = send(stack, "POST", FUZZ, {"Content-Type": "application/json",
                                                            "User-Agent": "t4"}, b'{"a": 1}')
    assert status == 200, content
    assert stack.get_run("fuzz_requests", json.loads(content)["id"])["conf"]["in_body"] == {"a": 1}
    status, _headers, content = send(stack, "POST", ECHO, {"Content-Type": "application/json"}, b"{}")
    assert status == 204, content  # found, and its conditions (on missing fields) are false


@SETTINGS
@given(method=methods, path=paths, query=queries, headers=headers, body=bodies)
def test_generated_requests_never_get_a_5xx(stack, method, path, query, headers, body):
    target = path + ("?" + urlencode(query, quote_via=quote) if query else "")
    status, answer_headers, content = send(stack, method, target, headers, body)
    SEEN[status] += 1
    check_answer(stack, method, status, answer_headers, content)


def test_the_generated_requests_reached_every_step():
    """The fuzzing above was not 150 times the same 404: it got runs, refusals and misses."""
    if not SEEN:
        pytest.skip("run together with test_generated_requests_never_get_a_5xx")
    print(f"\nstatuses of the generated requests: {dict(sorted(SEEN.items()))}")
    assert {200, 404} <= set(SEEN) and len(SEEN) >= 3, SEEN


echo_text = st.one_of(
    st.sampled_from(INJECTIONS),
    st.tuples(st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=15),
              st.sampled_from(INJECTIONS)).map("".join),
).filter(lambda t: t == t.strip() and t)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(text=echo_text)
def test_template_text_in_request_data_stays_data(stack, text):
    """The same text in the body, a header and a parameter: the conditions compare them as
    plain strings, and the run's conf holds the text exactly as sent, never rendered."""
    query = urlencode({"echo": text}, quote_via=quote)
    body = json.dumps({"text": text, "again": text}).encode()
    status, _headers, content = send(stack, "POST", f"{ECHO}?{query}",
                                     {"Content-Type": "application/json", "X-Echo": text}, body)
    assert status == 200, content
    run = stack.get_run("fuzz_requests", json.loads(content)["id"])
    assert run["conf"]["echo"] == text
    assert run["conf"]["echo_text"] == f"[{text}]"
    assert run["conf"]["body"] == {"text": text, "again": text}
    assert run["conf"]["parameters"] == {"echo": [text]}


def test_injection_in_every_place_at_once(stack):
    """A key, namespace and DAG id made of template text are just unknown URLs (404)."""
    for injection in INJECTIONS:
        segment = quote(injection, safe="")
        for path in (f"{PREFIX}/{segment}/fuzz_requests/t4-fuzz-key", f"{PREFIX}/t4.fuzz/{segment}/t4-fuzz-key",
                     f"{PREFIX}/t4.fuzz/fuzz_requests/{segment}"):
            status, _headers, content = send(stack, "POST", path, {"Content-Type": "application/json"}, b"{}")
            assert status == 404, (path, content)


def _cut_off(stack, head: str, partial: bytes) -> None:
    """Send a request whose body stops early, then go away without reading an answer."""
    import socket

    host, port = stack.url.rsplit("//", 1)[1].split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(head.encode("latin-1") + partial)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow, HealthCheck.data_too_large])
@given(body=bodies.filter(lambda b: len(b) >= 2), cut=st.floats(0.0, 0.99), chunked=st.booleans())
def test_a_cut_off_body_is_never_dispatched(stack, body, cut, chunked):
    """The client sends part of its body (fewer bytes than its Content-Length, or chunks without
    the last one) and disconnects: no run, and the retry with the whole body is the first run."""
    import uuid

    marker = uuid.uuid4()  # fresh on every example, also when Hypothesis replays one
    partial = body[: int(len(body) * cut)]
    head = (f"POST {FUZZ} HTTP/1.1\r\nHost: fuzz\r\nContent-Type: application/json\r\nUser-Agent: t4\r\n"
            f"Idempotency-Key: cut-{marker}\r\n")
    if chunked:
        sent = (f"{len(partial):x}\r\n".encode() + partial + b"\r\n") if partial else b""
        _cut_off(stack, head + "Transfer-Encoding: chunked\r\n\r\n", sent)  # no "0\r\n\r\n"
    else:
        _cut_off(stack, head + f"Content-Length: {len(body)}\r\n\r\n", partial)
    status, _headers, content = send(stack, "POST", FUZZ, {"Content-Type": "application/json", "User-Agent": "t4",
                                                            "Idempotency-Key": f"cut-{marker}"}, body)
    check_answer(stack, "POST", status, _headers, content)
    if status == 200:  # the whole body made a run: the first for this delivery id, not a duplicate
        assert json.loads(content)["duplicate"] is False, content


def test_odd_paths_never_put_a_key_in_the_access_log(stack):
    """Whatever follows ``{namespace}/{dag_id}`` is masked in the web server's access log (Airflow
    3's api-server and Airflow 2's gunicorn alike), however the path is spelled."""
    import time
    import uuid

    key = f"t4-odd-{uuid.uuid4().hex}"
    base = f"{PREFIX}/t4.fuzz/fuzz_requests"
    for path in (f"{base}/{key}", f"{base}/{key}/extra", f"{base}/x/{key}", f"{PREFIX}/t4.fuzz//{key}",
                 f"{PREFIX}//fuzz_requests/{key}", f"{base}%2F{key}", f"{PREFIX}/t4.fuzz%2Ffuzz_requests%2F{key}",
                 f"{PREFIX}/t4.fuzz/..%2F..%2Fx/{key}", f"{base}/{key}?q=1"):
        status, _headers, _content = send(stack, "POST", path, {"Content-Type": "application/json"}, b"{}")
        assert status < 500, path
    probe = uuid.uuid4().hex
    send(stack, "GET", f"{base}/{key}?probe={probe}", {}, b"")
    deadline = time.monotonic() + 30
    while probe not in stack.log("api-server") and time.monotonic() < deadline:
        time.sleep(0.2)
    log = stack.log("api-server")
    assert probe in log and "/fuzz_requests/***" in log
    assert key not in log
