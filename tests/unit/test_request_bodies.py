"""Bodies beyond JSON: multipart, urlencoded, binary, and none at all, as ``trigger.*`` sees them."""

from __future__ import annotations

import base64

import httpx
import pytest

from airflow_webhook_trigger.form_data import BodyRefused, MalformedBody, PayloadTooLarge
from airflow_webhook_trigger.dispatch import body_refused_status
from airflow_webhook_trigger.request import WebhookRequest, trigger_variables
from airflow_webhook_trigger.run_conf import run_conf


def request_of(content: bytes, content_type: str | None) -> WebhookRequest:
    headers = (("Content-Type", content_type),) if content_type is not None else ()
    return WebhookRequest(method="POST", headers=headers, body=content)


def multipart(data: dict, files: dict) -> WebhookRequest:
    built = httpx.Request("POST", "http://sender/", data=data, files=files)
    return request_of(built.read(), built.headers["content-type"])


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))


def test_multipart_fields_and_files():
    request = multipart(
        {"title": "Quarterly report", "tag": ["a", "b"]},
        {"report": ("r\u00e9sum\u00e9.png", PNG, "image/png"), "notes": ("notes.txt", b"plain text")},
    )
    variables = trigger_variables(request)
    assert variables["formFields"] == {"title": ["Quarterly report"], "tag": ["a", "b"]}
    assert variables["body"] is None  # the fields and files are given parsed, not twice
    report, notes = variables["parts"]
    assert report == {
        "name": "report",
        "filename": "r\u00e9sum\u00e9.png",
        "contentType": "image/png",
        "size": len(PNG),
        "content": base64.b64encode(PNG).decode(),
    }
    assert notes["filename"] == "notes.txt" and base64.b64decode(notes["content"]) == b"plain text"
    conf = run_conf(variables)
    assert conf["formFields"] == variables["formFields"] and conf["parts"] == variables["parts"]


def test_multipart_part_without_content_type_has_a_null_content_type():  # Kestra 2.x (was text/plain)
    boundary = "XyZ"
    body = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.csv\"\r\n\r\n"
        f"x,y\r\n1,2\r\n--{boundary}--\r\n"
    ).encode()
    variables = trigger_variables(request_of(body, f"multipart/form-data; boundary={boundary}"))
    assert variables["parts"][0]["contentType"] is None
    assert base64.b64decode(variables["parts"][0]["content"]) == b"x,y\r\n1,2"
    assert variables["formFields"] == {}


def test_an_oversize_file_is_refused_with_413(monkeypatch):
    monkeypatch.setenv("AIRFLOW__WEBHOOK_TRIGGER__MAX_PART_SIZE", "100")
    with pytest.raises(PayloadTooLarge) as info:
        trigger_variables(multipart({"a": "1"}, {"big": ("big.bin", b"x" * 101, "application/octet-stream")}))
    assert body_refused_status(info.value) == 413
    assert "big.bin" in str(info.value) and "max_part_size" in str(info.value)
    # exactly the limit is fine, and a long text field is not a file
    variables = trigger_variables(multipart({"a": "y" * 500}, {"ok": ("ok.bin", b"x" * 100)}))
    assert variables["parts"][0]["size"] == 100 and len(variables["formFields"]["a"][0]) == 500


def test_the_default_part_limit_is_256_kib():
    variables = trigger_variables(multipart({}, {"f": ("f.bin", b"\0" * 262144)}))
    assert variables["parts"][0]["size"] == 262144
    with pytest.raises(PayloadTooLarge):
        trigger_variables(multipart({}, {"f": ("f.bin", b"\0" * 262145)}))


@pytest.mark.parametrize(
    "content, content_type",
    [
        (b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n", "multipart/form-data; boundary=XyZ"),
        (b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--XyZ--\r\n", "multipart/form-data"),
        (b"not multipart at all", "multipart/form-data; boundary=XyZ"),
        (b"--XyZ\r\nContent-Type: text/plain\r\n\r\n1\r\n--XyZ--\r\n", "multipart/form-data; boundary=XyZ"),
    ],
    ids=["truncated", "no boundary", "garbage", "no content-disposition"],
)
def test_a_malformed_multipart_body_is_refused_with_400(content, content_type):
    with pytest.raises(MalformedBody) as info:
        trigger_variables(request_of(content, content_type))
    assert body_refused_status(info.value) == 400 and isinstance(info.value, BodyRefused)
    assert "multipart" in str(info.value) or "Content-Disposition" in str(info.value)


def test_urlencoded_form():
    variables = trigger_variables(request_of(b"name=john&age=12&age=13&empty=&msg=a%20b+c", "application/x-www-form-urlencoded"))
    assert variables["formFields"] == {"name": ["john"], "age": ["12", "13"], "empty": [""], "msg": ["a b c"]}
    assert variables["body"] == "name=john&age=12&age=13&empty=&msg=a%20b+c"  # the raw text, as in Kestra
    assert run_conf(variables)["formFields"] == variables["formFields"]
    assert "parts" not in run_conf(variables)


@pytest.mark.parametrize("content_type", ["application/octet-stream", "image/png", "application/pdf", "application/zip"])
def test_binary_bodies_are_base64(content_type):
    variables = trigger_variables(request_of(PNG, content_type))
    assert base64.b64decode(variables["body"]) == PNG
    assert "formFields" not in variables and "parts" not in variables


def test_bytes_that_are_not_utf8_are_base64_even_with_a_text_type():
    assert base64.b64decode(trigger_variables(request_of(PNG, "text/plain"))["body"]) == PNG


def test_no_content_type():
    assert trigger_variables(request_of(b'{"a": 1}', None))["body"] == {"a": 1}
    assert trigger_variables(request_of(b"just text", None))["body"] == "just text"
    assert base64.b64decode(trigger_variables(request_of(PNG, None))["body"]) == PNG
    assert trigger_variables(request_of(b"", None))["body"] is None
    assert "formFields" not in trigger_variables(request_of(b"a=1", None))


def test_trigger_date_is_the_iso_time_received():
    from datetime import datetime, timezone

    received = datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone.utc)
    request = WebhookRequest(method="GET", received_at=received)
    assert trigger_variables(request)["date"] == "2024-05-06T07:08:09+00:00"
