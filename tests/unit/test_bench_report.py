"""The benchmark's verdicts: a target is judged on the median of its paired per-round ratios."""

from __future__ import annotations

from bench.report import render
from bench.targets import evaluate, median_ratio


def test_median_ratio_ignores_rounds_without_a_baseline():
    assert median_ratio([0.7, 0.9, 0.85, 0.95, 0.2]) == 0.85  # one disturbed round does not decide
    assert median_ratio([None, 410.5, 513.0]) == 461.75
    assert median_ratio([None, None]) is None


def _agg(per_s: float, rounds: list[float]) -> dict:
    return {"per_s": per_s, "per_s_rounds": rounds, "p50_ms": 1.0, "p99_ms": 2.0, "failed": 0, "status": {},
            "socket_errors": {}, "server_cpu_ms_per_request": 0.5, "drain_s": 0.0}


def _result() -> dict:
    no_write = {"concurrency": 1, "404": _agg(90, [80, 100]), "204": _agg(70, [70, 70]),
                "empty_bridge": _agg(100, [100, 100]), "empty_a2wsgi": _agg(90, [90, 90]),
                "native_asgi": _agg(200, [200, 200]),
                "ratio_404_vs_empty_bridge": 0.9, "ratio_404_vs_empty_bridge_rounds": [0.8, 1.0],
                "ratio_204_vs_empty_bridge": 0.7, "ratio_204_vs_empty_bridge_rounds": [0.7, 0.7],
                "cpu_ratio_404_vs_empty_bridge": 0.9, "cpu_ratio_204_vs_empty_bridge": 0.7,
                "ratio_404_vs_empty_a2wsgi": 1.0, "ratio_204_vs_empty_a2wsgi": 0.78}
    triggering = {"concurrency": 1, "webhook": _agg(30, [30, 30]), "rest": _agg(10, [0, 10]),
                  "ratio_runs_per_s": 3.0, "ratio_rounds": [None, 3.0]}
    return {"mode": "quick", "settings": {}, "phases": {"sqlite": {
                "api_server_workers": 1, "no_write": [no_write], "triggering": [triggering]}},
            "machine": {"date": "d", "cpu_count": 2, "cpu_model": "cpu", "memory_gb": 1, "python": "3.11",
                        "airflow": "3.3.2", "load_average_at_start": [0.1]}}


def test_targets_use_the_median_of_rounds_and_the_report_shows_them():
    result = _result()
    result["targets"] = evaluate(result["phases"])
    verdicts = {t["target"]: (t["measured"], t["pass"]) for t in result["targets"]}
    assert verdicts["sqlite: 404 req/s vs empty handler (same bridge), concurrency 1"] == (0.9, True)
    assert verdicts["sqlite: 204 req/s vs empty handler (same bridge), concurrency 1"] == (0.7, False)
    assert verdicts["sqlite: webhook runs/s vs REST (real JWT auth), one client"] == (3.0, True)
    text = render(result)
    assert "| sqlite: 204 req/s vs empty handler (same bridge), concurrency 1 | 0.7 | >= 0.8x | **FAIL** |" in text
    assert "3 of 4 met." in text


def test_one_client_must_reach_twice_the_rest_rate_and_more_clients_one_and_a_half():
    rows = [{"concurrency": c, "webhook": _agg(18, [18, 18]), "rest": _agg(10, [10, 10]),
             "ratio_runs_per_s": 1.8, "ratio_rounds": [1.7, 1.8, 1.9]} for c in (1, 4)]
    verdicts = {t["target"]: (t["measured"], t["threshold"], t["pass"]) for t in evaluate({"pg": {"triggering": rows}})}
    assert verdicts["pg: webhook runs/s vs REST (real JWT auth), one client"] == (1.8, ">= 2.0x", False)
    assert verdicts["pg: webhook runs/s vs REST (real JWT auth), concurrency 4"] == (1.8, ">= 1.5x", True)


def test_replica_rows_pass_only_when_every_delivery_made_exactly_one_run():
    once = {"deliveries": 5, "requests": 10, "concurrency": 16, "statuses": {"200": 10}, "runs_added": 5,
            "runs_named_by_200s": 5}
    row = {"concurrency": 16, "two_replicas": _agg(30, [30, 30]), "one_replica": _agg(20, [20, 20]),
           "ratio_rounds": [1.5, 1.5], "ratio_runs_per_s": 1.5, "exactly_once": once}
    result = {"mode": "full", "settings": {}, "phases": {"postgres": {"api_server_workers": 2, "replicas": row}},
              "machine": _result()["machine"]}
    verdicts = {t["target"]: t["pass"] for t in evaluate(result["phases"])}
    assert verdicts == {"postgres: two replicas behind nginx, concurrency 16, failed requests": True,
                        "postgres: 5 deliveries sent twice over two replicas, runs": True}
    result["targets"] = evaluate(result["phases"])
    assert "| postgres | 16 | 30 | 20 | 1.5× |" in render(result)
    twice = dict(once, runs_added=6)  # a redelivery became a second run
    row["exactly_once"] = twice
    assert not [t for t in evaluate(result["phases"]) if "sent twice" in t["target"]][0]["pass"]
