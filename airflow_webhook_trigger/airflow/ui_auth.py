"""Who is asking, and what they may see: Airflow's own authentication and authorization.

Why reuse Airflow's code instead of reading the token ourselves: the page must trust exactly
what the rest of the UI trusts, with the same expiry and revocation checks: the ``_token``
cookie set at login (refreshed by Airflow's ``JWTRefreshMiddleware``, which also runs in front
of plugin apps) or an ``Authorization: Bearer`` header (REST clients, and SimpleAuthManager's
all-admins mode). So the user comes from ``airflow.api_fastapi.core_api.security.get_user``, and
every permission is the configured auth manager's answer (FAB, Keycloak, Simple or another),
with the DAG's team passed along in multi-team deployments.

Three permissions, each the one Airflow itself asks for the same information:

- a webhook, its URL (key masked) and its declaration: read access to its DAG, as for the
  DAG's page (``GET`` on the DAG);
- its deliveries: read access to the DAG's audit log, as for Browse -> Audit Log;
- its URL *with the key*: the right to trigger the DAG (``POST`` on its runs). The key is the
  right to start runs, so a read-only user must not get it from this page.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from airflow_webhook_trigger.airflow.versions import DAG_DETAILS_HAS_TEAM, HAS_DAG_TEAMS

__all__ = [
    "current_user",
    "login_url",
    "may_read_audit_log",
    "may_trigger",
    "readable_dag_ids",
    "triggerable_dag_ids",
    "user_name",
]


async def current_user(request: Any) -> Any | None:
    """The authenticated Airflow user of this request, or None (anonymous, expired, revoked)."""
    from airflow.api_fastapi.core_api.security import bearer_scheme, get_user  # the web stack: api-server only
    from fastapi import HTTPException

    try:
        return await get_user(request, None, await bearer_scheme(request))
    except HTTPException:
        return None


def _auth_manager() -> Any:
    from airflow.api_fastapi.app import get_auth_manager  # the web stack: api-server only

    return get_auth_manager()


def _teams(dag_ids: Iterable[str]) -> dict[str, str | None]:
    if not HAS_DAG_TEAMS:  # no multi-team deployments before 3.2
        return {}
    from airflow.models.dag import DagModel  # the ORM: on use only

    dag_ids = list(dag_ids)
    return DagModel.get_dag_id_to_team_name_mapping(dag_ids) if dag_ids else {}


def readable_dag_ids(user: Any, dag_ids: Iterable[str]) -> set[str]:
    """Those of ``dag_ids`` the user may read (the same query as Airflow's DAG list)."""
    wanted = set(dag_ids)
    if not wanted:
        return set()
    return wanted & _auth_manager().get_authorized_dag_ids(user=user, method="GET")


def _is_authorized_dag(user: Any, dag_id: str | None, method: str, entity_name: str, team: str | None) -> bool:
    from airflow.api_fastapi.auth.managers.models.resource_details import (  # api-server only
        DagAccessEntity,
        DagDetails,
    )

    team_arg = {"team_name": team} if DAG_DETAILS_HAS_TEAM else {}
    details = DagDetails(id=dag_id, **team_arg) if dag_id else None
    return _auth_manager().is_authorized_dag(
        method=method, access_entity=DagAccessEntity[entity_name], details=details, user=user
    )


def may_read_audit_log(user: Any) -> bool:
    """Whether the user may read the audit log at all (then filtered by the DAGs they may read)."""
    return _is_authorized_dag(user, None, "GET", "AUDIT_LOG", None)


def may_trigger(user: Any, dag_id: str) -> bool:
    """Whether the user may start runs of the DAG, which is what revealing its key allows."""
    return _is_authorized_dag(user, dag_id, "POST", "RUN", _teams([dag_id]).get(dag_id))


def triggerable_dag_ids(user: Any, dag_ids: Iterable[str]) -> set[str]:
    dag_ids = set(dag_ids)
    teams = _teams(dag_ids)
    return {dag_id for dag_id in dag_ids if _is_authorized_dag(user, dag_id, "POST", "RUN", teams.get(dag_id))}


def login_url(next_url: str) -> str:
    """The auth manager's login page, coming back to ``next_url`` afterwards."""
    return _auth_manager().get_url_login(next_url=next_url)


def user_name(user: Any) -> str:
    try:
        return str(user.get_name())
    except Exception:  # noqa: BLE001 - a name is only for the audit entry
        return "unknown"
