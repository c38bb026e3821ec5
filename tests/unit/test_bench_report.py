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


def test_the_create_dagrun_floor_is_shown_beside_the_one_client_target():
    result = _result()
    row = result["phases"]["sqlite"]["triggering"][0]
    row.update({"floor": _agg(19, [19, 19]), "ratio_floor_vs_rest_rounds": [None, 1.9],
                "ratio_webhook_vs_floor_rounds": [1.58, 1.6]})
    result["targets"] = evaluate(result["phases"])
    one_client = next(t for t in result["targets"] if t["target"].endswith("one client"))
    assert "create_dagrun alone 19 runs/s: 1.9x REST, webhook 1.59x of it" in one_client["detail"]
    assert "| sqlite | 19 | 1.9× | [None, 1.9] | 1.59× | 0.5 |" in render(result)


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


def _overload_row(wrk: dict) -> dict:
    return {"requests": 10, "concurrency": 4, "statuses": {"200": 8, "503": 2}, "share_503": 0.2,
            "retry_after_on_every_503": True, "max_s": 3.0, "p99_s": 2.0, "max_503_s": 0.5, "server_max_s": 0.9,
            "server_p99_s": 0.8, "server_max_503_s": 0.6, "server_answers_logged": 10, "retries": 2,
            "deliveries_with_a_run": 10, "runs_added": 10, "wrk": wrk}


def test_the_wrk_view_of_the_overload_passes_only_without_timeouts_and_with_a_run_per_200():
    good = {"connections": 4, "seconds": 15.0, "statuses": {"200": 90, "503": 30}, "socket_errors": {}, "max_s": 2.5,
            "p99_s": 2.0, "p50_s": 0.4, "server_max_503_s": 0.7, "client_cpu_s": 0.1, "runs_added": 90}
    cases = {"good": good, "timeout": {**good, "socket_errors": {"timeout": 1}},
             "500": {**good, "statuses": {"200": 90, "500": 1}}, "lost run": {**good, "runs_added": 89},
             "in flight at the stop": {**good, "runs_added": 94}, "a run too many": {**good, "runs_added": 95},
             "no Retry-After": {**good, "statuses": {"200": 90, "503 without Retry-After": 1}}}
    verdicts = {}
    for name, wrk in cases.items():
        targets = [t for t in evaluate({"pg": {"overload": _overload_row(wrk)}}) if "wrk" in t["target"]]
        assert len(targets) == 2
        verdicts[name] = [t["pass"] for t in targets]
    assert verdicts == {"good": [True, True], "timeout": [False, True], "500": [False, True],
                        "lost run": [True, False], "in flight at the stop": [True, True],
                        "a run too many": [True, False], "no Retry-After": [False, True]}


def test_a_unique_header_gives_every_wrk_request_its_own_value():
    from bench.load import Request

    script = Request("burst", "http://h/p", 200, body="{}", unique_header="Idempotency-Key").script()
    assert "function request()" in script and "wrk.headers['Idempotency-Key'] = 'burst-" in script
    assert "function request()" not in Request("plain", "http://h/p", 200).script()
