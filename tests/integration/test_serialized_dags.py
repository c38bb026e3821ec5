"""The index reads the private ``_data``/``_data_compressed`` columns of ``serialized_dag`` in
batches (``airflow/serialized_dags.py``): they must hold exactly what Airflow's public
``SerializedDagModel.data`` gives, for every DAG the test stack serialized."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration

COMPARE = """
import json
from uuid import UUID
from sqlalchemy import select
from airflow.models.serialized_dag import SerializedDagModel
from airflow_webhook_trigger.airflow import serialized_dags
from airflow_webhook_trigger.airflow.database import create_session
from airflow_webhook_trigger.airflow.versions import IS_AIRFLOW_2

with create_session() as session:
    heads = serialized_dags.serialized_heads(session)
    batched = serialized_dags.serialized_data(session, heads.values())
    differ = []
    for head in heads.values():
        key = SerializedDagModel.dag_id if IS_AIRFLOW_2 else SerializedDagModel.id
        row = session.scalars(select(SerializedDagModel).where(key == (head.dag_id if IS_AIRFLOW_2 else UUID(head.row_id)))).one()
        if row.data != batched[head.row_id]:
            differ.append(head.dag_id)
print(json.dumps({"dags": len(heads), "differ": differ}))
"""


def test_private_columns_hold_what_the_public_property_gives(stack):
    done = subprocess.run([sys.executable, "-c", COMPARE], env=stack.env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["dags"] >= 10 and result["differ"] == []
