"""Where the Airflow UI is, and where it shows a run or an asset (for answers, the CLI and the Webhooks page)."""

from __future__ import annotations

from urllib.parse import quote

from airflow_webhook_trigger import config
from airflow_webhook_trigger.airflow.versions import IS_AIRFLOW_2

__all__ = ["ui_base_url", "run_url_path", "asset_url_path"]


def ui_base_url() -> str:
    """The Airflow UI's public base URL: [webhook_trigger] base_url, else [api] base_url
    ([webserver] base_url on Airflow 2, as its own links), else ``""``."""
    ui_section = "webserver" if IS_AIRFLOW_2 else "api"
    return (config.get("base_url") or config.get_airflow(ui_section, "base_url")).rstrip("/")


def run_url_path(dag_id: str, run_id: str) -> str:
    """The run's page, relative to the UI's base URL."""
    if IS_AIRFLOW_2:  # the classic UI shows a run in the DAG's grid view
        return f"/dags/{quote(dag_id, safe='')}/grid?dag_run_id={quote(run_id, safe='')}"
    return f"/dags/{quote(dag_id, safe='')}/runs/{quote(run_id, safe='')}"


def asset_url_path(asset_id: int, uri: str) -> str:
    """The asset's page (its events), relative to the UI's base URL."""
    if IS_AIRFLOW_2:  # the classic UI's Datasets page, filtered on the URI
        return f"/datasets?uri={quote(uri, safe='')}"
    return f"/assets/{asset_id}"
