"""The key never reaches Airflow 2's gunicorn access log (``http/access_log.py``)."""

from __future__ import annotations

import io
import logging

import pytest

from airflow_webhook_trigger.http.access_log import (
    MaskWebhookKeys,
    mask_keys,
    mask_keys_in_gunicorn_access_log,
)

KEY = "s3cr3t-KEY_value"
PATH = f"/api/v1/executions/webhook/company.team/orders/{KEY}"
GUNICORN_FORMAT = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"'  # gunicorn's default


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        (PATH, "/api/v1/executions/webhook/company.team/orders/***"),
        (f"POST {PATH}?a=1 HTTP/1.1", "POST /api/v1/executions/webhook/company.team/orders/***?a=1 HTTP/1.1"),
        (f"https://hooks.example.com{PATH}#x", "https://hooks.example.com/api/v1/executions/webhook/company.team/orders/***#x"),
        # everything after ns/dag is masked, whatever the path looks like
        (f"{PATH}/extra", "/api/v1/executions/webhook/company.team/orders/***"),
        (f"/airflow{PATH}", "/airflow/api/v1/executions/webhook/company.team/orders/***"),  # a sub-path
        (f"/api/v1/main/executions/webhook/ns/dag/{KEY}", "/api/v1/main/executions/webhook/ns/dag/***"),  # a tenant
        (f"/api/v1/executions/webhook/ns//{KEY}", "/api/v1/executions/webhook/ns//***"),
        (f"/api/v1/executions/webhook//dag/{KEY}", "/api/v1/executions/webhook//dag/***"),
        (f"/api/v1/executions/webhook/ns/dag%2F{KEY}", "/api/v1/executions/webhook/ns/dag%2F***"),
        (f"/api/v1/executions/webhook/ns%2Fdag%2f{KEY}", "/api/v1/executions/webhook/ns%2Fdag%2f***"),
        (f"/api/v1/executions/webhook/ns/..%2F..%2Fx/{KEY}", "/api/v1/executions/webhook/ns/..%2F***"),
        (f"/api/v1/executions/webhook/ns/../../x/{KEY}", "/api/v1/executions/webhook/ns/../***"),
        (f"/api/v1/executions%2Fwebhook/ns/dag/{KEY}", "/api/v1/executions%2Fwebhook/ns/dag/***"),
        (f"'{PATH}'", "'/api/v1/executions/webhook/company.team/orders/***'"),  # a repr in a log line
        ("/api/v1/dags/orders/dagRuns", "/api/v1/dags/orders/dagRuns"),
        ("/api/v1/executions/webhook/ns/dag", "/api/v1/executions/webhook/ns/dag"),  # no key segment
    ],
)
def test_mask_keys(text, masked):
    assert mask_keys(text) == masked


def _gunicorn_atoms() -> dict:
    atoms = {"h": "127.0.0.1", "l": "-", "u": "-", "t": "[27/Nov/2026:00:00:00 +0000]", "r": f"POST {PATH} HTTP/1.1",
             "s": "200", "b": "12", "f": f"http://sender{PATH}", "a": "curl/8", "U": PATH, "{raw_uri}e": PATH}
    try:  # the dict subclass gunicorn really passes, where installed (Airflow 2)
        from gunicorn.glogging import SafeAtoms

        return SafeAtoms(atoms)
    except ImportError:
        return atoms


def test_filter_masks_every_atom_gunicorn_logs():
    logger = logging.getLogger("test_access_log.gunicorn")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger.addHandler(handler)
    logger.addFilter(MaskWebhookKeys())
    logger.propagate = False
    logger.setLevel(logging.INFO)
    try:
        logger.info(GUNICORN_FORMAT, _gunicorn_atoms())
        logger.info("%(U)s %({raw_uri}e)s", _gunicorn_atoms())
        logger.info("plain %s", f"GET {PATH}")
    finally:
        logger.removeHandler(handler)
    lines = stream.getvalue()
    assert KEY not in lines
    assert lines.count("/orders/***") == 5, lines


def test_installed_once_on_gunicorns_access_logger():
    logger = logging.getLogger("gunicorn.access")
    mask_keys_in_gunicorn_access_log()
    mask_keys_in_gunicorn_access_log()
    assert sum(isinstance(f, MaskWebhookKeys) for f in logger.filters) == 1
