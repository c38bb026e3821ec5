"""The demo: a real Airflow with the example DAGs, a webhook fired, the run shown succeeding.

Run it with ``bash scripts/demo`` (add ``--keep`` to leave Airflow running and explore the UI).
It uses Airflow's embedded SQLite default in a temporary AIRFLOW_HOME and removes it at the end.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tools.stack import REPO, AirflowStack  # noqa: E402

KEY = "4wjtkzwVGBM9yKnjm3yv8r"


def step(text: str) -> None:
    print(f"\n==> {text}", flush=True)


def post(url: str, body: dict) -> tuple[int, dict | None]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--keep", action="store_true", help="leave Airflow running until Ctrl-C")
    args = parser.parse_args()

    started = time.monotonic()
    stack = AirflowStack([REPO / "example_dags"], progress=True)
    try:
        step("Starting Airflow 3 (SQLite) with the example DAGs: migrate, serialize DAGs, api-server, scheduler")
        stack.start(scheduler=True)
        print(f"    Airflow UI: {stack.url}  (AIRFLOW_HOME={stack.home})")

        url = f"{stack.url}/api/v1/executions/webhook/demo/webhook_mapping/{KEY}"
        step(f"A body that fails the condition: POST {{\"hello\": \"webhook\"}} to\n    {url}")
        status, _ = post(url, {"hello": "webhook"})
        print(f"    -> {status} (204: conditions not met, no run)")

        step('The same URL with {"hello": "world"}')
        status, answer = post(url, {"hello": "world"})
        print(f"    -> {status} {json.dumps(answer, indent=2)}")
        if status != 200:
            print("    the webhook did not create a run; see", stack.home / "api-server.log")
            return 1

        step("Waiting for the run to finish (scheduler + LocalExecutor)")
        run = stack.wait_run("webhook_mapping", answer["id"], timeout=180)
        print(f"    run {run['dag_run_id']}: {run['state'].upper()}")
        print(f"    conf: {json.dumps(run['conf'])}")
        print(f"    open it: {answer['url']}")
        print(f"\nDemo finished in {time.monotonic() - started:.0f} s.")
        if args.keep:
            print("Airflow keeps running (everyone is admin in this demo). Ctrl-C to stop.")
            while True:
                time.sleep(3600)
        return 0 if run["state"] == "success" else 1
    except KeyboardInterrupt:
        return 0
    finally:
        step("Stopping Airflow")
        stack.cleanup()


if __name__ == "__main__":
    sys.exit(main())
