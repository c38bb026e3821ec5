"""Creating webhook runs and reading their state; the Airflow line's creator is chosen here.

``airflow3`` and ``airflow2`` each create a run the way their Airflow does; everything else
(the request, the result, the reasons a run is not created) is shared in ``common``.
"""

from __future__ import annotations

from airflow_webhook_trigger.airflow.dag_runs.common import (
    ConfRefused,
    CreatedRun,
    DagGone,
    DagPaused,
    RunRequest,
    run_state,
)
from airflow_webhook_trigger.airflow.versions import IS_AIRFLOW_2

if IS_AIRFLOW_2:
    from airflow_webhook_trigger.airflow.dag_runs.airflow2 import create_run
else:
    from airflow_webhook_trigger.airflow.dag_runs.airflow3 import create_run

__all__ = ["RunRequest", "CreatedRun", "DagGone", "DagPaused", "ConfRefused", "create_run", "run_state"]
