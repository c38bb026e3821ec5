"""Serialize ONE DAG file into the metadata database, as ``airflow dags reserialize`` does for all.

Why not ``airflow dags reserialize``: it parses every file of the DAGs folder, and with 5,000
DAGs that takes minutes, while the benchmark only wants to know how soon the api-server serves a
declaration once it is in the database. This runs the same two calls that command runs
(``BundleDagBag`` then ``sync_bag_to_db``) on the one file, in the benchmark's AIRFLOW_HOME
(its environment is given by ``bench/server.py``), and prints the wall-clock time at which the
serialized DAG was committed: the benchmark's clock starts there.

Usage: ``python bench/serialize_one.py /path/to/dags/file.py`` -> prints ``{"committed_at": ...}``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def main(path: str) -> None:
    from airflow.configuration import conf
    from airflow.dag_processing.dagbag import BundleDagBag, sync_bag_to_db
    from airflow.utils.session import create_session

    dags_folder = Path(conf.get("core", "dags_folder"))
    bag = BundleDagBag(path, bundle_path=dags_folder, bundle_name="dags-folder")
    if bag.import_errors:
        raise SystemExit(f"import errors: {bag.import_errors}")
    with create_session() as session:
        sync_bag_to_db(bag, "dags-folder", None, session=session)
    print(json.dumps({"committed_at": time.time(), "dags": sorted(bag.dags)}))


if __name__ == "__main__":
    main(sys.argv[1])
