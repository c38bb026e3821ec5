"""Everything that touches Airflow itself, one module per job.

Nothing above this package imports ``airflow``; nothing in it imports the rest of this package
(except ``config``), so Airflow's API and its version differences are read here and only here.

- ``versions``: which Airflow is installed, and the feature flags derived from it;
- ``database``: sessions, and "unavailable" / "unique violation" read from a database error;
- ``serialized_dags``: the serialized DAG rows the index is built from, paused/stale flags;
- ``dag_runs``: creating a run (``dag_runs.airflow3`` / ``dag_runs.airflow2``, chosen in
  ``dag_runs/__init__``), reading a run's state;
- ``xcom``: a finished run's XCom values;
- ``variables``: Variables and Connections through the secrets backends;
- ``links``: the UI's base URL and a run's page;
- ``metrics``: Airflow's ``Stats``;
- ``audit_log``: rows of Airflow's audit log, written and read;
- ``ui_auth``: the UI user and what the auth manager lets them read or trigger.

Modules here import Airflow inside their functions: DAG files import this package (for
``webhook()``), and the scheduler, workers and DAG processor load the plugin, so Airflow's ORM
and web stack are only loaded where a request needs them.
"""
