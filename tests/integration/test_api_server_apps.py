"""A separate api-server for the webhook traffic from the internet (docs/deploy.md).

``airflow api-server --apps`` chooses what one api-server serves (Airflow 3,
``airflow/api_fastapi/app.py: create_app``): ``execution`` mounts only the Execution API that
task workers call (``/execution``); ``core`` the UI, the REST API, auth and every plugin's
``fastapi_apps`` (``init_plugins``), so the webhook; ``all`` (the default) both. An api-server
for the internet is therefore ``--apps core``: it serves the webhook without the Execution API,
and the reverse proxy or Ingress in front of it forwards only the webhook paths
(deploy/ingress.yaml, docs/nginx-webhook-only.conf).

These start one ``--apps core`` and one ``--apps execution`` api-server beside the shared stack,
on its home and database, and check who serves what.
"""

from __future__ import annotations

import httpx
import pytest

pytestmark = [pytest.mark.integration, pytest.mark.airflow3_only]  # Airflow 2's webserver has no --apps

WEBHOOK = "/api/v1/executions/webhook/io.kestra.tests/endpoint_webhook/a-secret-key"  # tests/dags/endpoint_webhook.py
UNKNOWN = "/api/v1/executions/webhook/io.kestra.tests/endpoint_webhook/not-the-key"


@pytest.fixture(scope="module")
def servers(stack):
    urls = stack.start_extra_api_servers("core", "execution")
    try:
        yield urls
    finally:
        for apps in urls:
            stack.stop_process(f"api-server-{apps}")


def test_core_serves_the_webhook_and_creates_the_run(servers, stack):
    with httpx.Client(base_url=servers["core"], timeout=60) as client:
        response = client.post(WEBHOOK, json={"via": "apps=core"})
        assert response.status_code == 200, response.text
        run = stack.get_run("endpoint_webhook", response.json()["dag_run_id"])  # in the shared database
        assert run is not None and run["conf"]["body"] == {"via": "apps=core"}
        assert client.post(UNKNOWN, json={}).json() == {"message": "Not Found: webhook not found"}  # the plugin's 404
        assert client.get("/webhook-trigger-ui/").status_code in (200, 401, 403)  # the Webhooks page is mounted too


def test_core_does_not_serve_the_execution_api(servers):
    with httpx.Client(base_url=servers["core"], timeout=60) as client:
        assert client.get("/api/v2/monitor/health").status_code == 200
        health = client.get("/execution/health")
        # not mounted: what answers is the UI's catch-all (its HTML page) or a 404, never the Execution API's JSON
        assert health.status_code == 404 or "text/html" in health.headers.get("content-type", ""), health.text[:300]


def test_execution_does_not_serve_the_webhook(servers):
    with httpx.Client(base_url=servers["execution"], timeout=60) as client:
        assert client.get("/execution/health").status_code == 200
        response = client.post(WEBHOOK, json={"via": "apps=execution"})
        assert (response.status_code, response.json()) == (404, {"detail": "Not Found"})  # Airflow's, not the plugin's
        assert client.get("/api/v2/monitor/health").status_code == 404
