"""The Webhooks page's HTML, rendered from ``page.html`` with Jinja (autoescaped).

Apart from the routes (``app.py``) so that it needs no FastAPI: the page's pieces are tested on
Airflow 2 too, where the api-server (and FastAPI) does not exist.
"""

from __future__ import annotations

from datetime import timezone
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote

import jinja2

from airflow_webhook_trigger.airflow.links import ui_base_url
from airflow_webhook_trigger.urls import UI_PREFIX

__all__ = ["HERE", "base_url", "render_page", "ui_root"]

HERE = Path(__file__).parent


def ui_root(request) -> str:
    """The Airflow UI's root path as the browser sees it (``""``, or ``/airflow`` behind a proxy)."""
    root = request.scope.get("root_path", "")
    return root.removesuffix(UI_PREFIX)


def base_url(request) -> str:
    """Where senders reach this Airflow: configured base URL, else this request's origin."""
    return ui_base_url() or f"{request.url.scheme}://{request.url.netloc}{ui_root(request)}"


@lru_cache(maxsize=1)
def _environment():
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(HERE)), autoescape=True,
                             trim_blocks=True, lstrip_blocks=True)
    env.filters["q"] = lambda value: quote(str(value), safe="")
    env.filters["iso"] = lambda when: when.astimezone(timezone.utc).isoformat() if when else ""
    return env


def render_page(request, page) -> str:
    root = ui_root(request)
    return _environment().get_template("page.html").render(
        page=page, ui_root=root, self_root=f"{root}{UI_PREFIX}",
    )
