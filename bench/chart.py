"""One PNG from the benchmark's JSON: the four comparisons the issue asks for, side by side."""

from __future__ import annotations

from pathlib import Path

from bench.targets import median_ratio

__all__ = ["write_chart"]

WEBHOOK_COLOR, REST_COLOR = "#2b7bba", "#c0504d"
PATH_COLORS = {"404": "#2b7bba", "204": "#5aa469", "200": "#8064a2", "empty_bridge": "#9e9e9e",
               "empty_a2wsgi": "#cfcfcf", "native_asgi": "#d9a441"}


def _bars(ax, groups: list[str], series: dict[str, list[float]], colors: dict[str, str], fmt: str = "{:.0f}") -> None:
    width = 0.8 / max(1, len(series))
    for i, (name, values) in enumerate(series.items()):
        xs = [g + (i - (len(series) - 1) / 2) * width for g in range(len(groups))]
        bars = ax.bar(xs, values, width, label=name, color=colors.get(name))
        for bar, value in zip(bars, values):
            ax.annotate(fmt.format(value), (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                        ha="center", va="bottom", fontsize=7)
    ax.set_xticks(range(len(groups)), groups, fontsize=8)


def _triggering(ax, phases: dict) -> None:
    groups, webhook, rest, ratios = [], [], [], []
    for db, phase in phases.items():
        for row in phase.get("triggering", []):
            groups.append(f"{db}\nc={row['concurrency']}")
            webhook.append(row["webhook"]["per_s"])
            rest.append(row["rest"]["per_s"])
            ratios.append(median_ratio(row["ratio_rounds"]))  # what the target is judged on
    _bars(ax, groups, {"webhook": webhook, "Airflow REST": rest}, {"webhook": WEBHOOK_COLOR, "Airflow REST": REST_COLOR})
    for x, ratio in enumerate(ratios):
        label = "REST: no run" if ratio is None else (f"{ratio:.0f}x\n(REST stalled)" if ratio > 20 else f"{ratio:.2f}x")
        ax.annotate(label, (x, max(webhook[x], rest[x]) * 1.12 + 1), ha="center", fontsize=8, weight="bold")
    ax.set_ylim(0, max(webhook + rest + [1]) * 1.3)
    ax.set_title("Triggering: runs created per second (higher is better; ratio: median of rounds)", fontsize=10)
    ax.set_ylabel("runs/s")
    ax.legend(fontsize=8, loc="upper left")


def _trigger_latency(ax, phases: dict) -> None:
    groups, series = [], {"webhook p50": [], "webhook p99": [], "REST p50": [], "REST p99": []}
    for db, phase in phases.items():
        for row in phase.get("triggering", []):
            groups.append(f"{db}\nc={row['concurrency']}")
            series["webhook p50"].append(row["webhook"]["p50_ms"])
            series["webhook p99"].append(row["webhook"]["p99_ms"])
            series["REST p50"].append(row["rest"]["p50_ms"])
            series["REST p99"].append(row["rest"]["p99_ms"])
    colors = {"webhook p50": WEBHOOK_COLOR, "webhook p99": "#9cc3e4", "REST p50": REST_COLOR, "REST p99": "#e6a3a1"}
    _bars(ax, groups, series, colors)
    ax.set_yscale("log")
    ax.set_title("Triggering: latency in ms, log scale (lower is better)", fontsize=10)
    ax.set_ylabel("ms")
    ax.legend(fontsize=7, ncol=2, loc="upper left")


def _no_write(ax, phases: dict) -> None:
    groups, series = [], {name: [] for name in ("404", "204", "empty_bridge", "empty_a2wsgi", "native_asgi")}
    for db, phase in phases.items():
        for row in phase.get("no_write", []):
            groups.append(f"{db}\nc={row['concurrency']}")
            for name in series:
                series[name].append(row[name]["per_s"])
    _bars(ax, groups, series, PATH_COLORS)
    ax.set_title("No-write paths vs empty handlers: requests/s (higher is better)", fontsize=10)
    ax.set_ylabel("requests/s")
    ax.legend(fontsize=7, ncol=5, loc="upper left")
    ax.set_ylim(0, max([v for s in series.values() for v in s] + [1]) * 1.25)


def _scale(ax, phases: dict) -> None:
    rows = next((phase["scale"] for phase in phases.values() if phase.get("scale")), [])
    if not rows:
        ax.set_visible(False)
        return
    sizes = [row["dags"] for row in rows]
    for path in ("404", "204", "200"):
        ax.plot(sizes, [row["paths"][path]["p50_ms"] for row in rows], marker="o", label=f"{path} p50",
                color=PATH_COLORS[path])
    ax.set_xscale("log")
    ax.set_xlabel("DAGs declaring webhooks")
    ax.set_ylabel("p50 latency, ms (concurrency 1)")
    ax.set_ylim(0, max(row["paths"][p]["p50_ms"] for row in rows for p in ("404", "204", "200")) * 1.4)
    memory = ax.twinx()
    memory.plot(sizes, [row["rss_mb"] for row in rows], marker="s", linestyle="--", color="#555555", label="RSS (MB)")
    memory.set_ylabel("api-server RSS, MB")
    low = min(row["rss_mb"] for row in rows)
    memory.set_ylim(low * 0.8, low * 0.8 + max(120, (max(row["rss_mb"] for row in rows) - low * 0.8) * 1.3))
    lines = ax.get_legend_handles_labels()
    more = memory.get_legend_handles_labels()
    ax.legend(lines[0] + more[0], lines[1] + more[1], fontsize=8, loc="upper left")
    ax.set_title("Latency and memory vs number of declared webhooks", fontsize=10)


def write_chart(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    phases = result["phases"]
    fig, axes = plt.subplots(2, 2, figsize=(15, 10))
    _triggering(axes[0][0], phases)
    _trigger_latency(axes[0][1], phases)
    _no_write(axes[1][0], phases)
    _scale(axes[1][1], phases)
    m = result["machine"]
    met = sum(t["pass"] for t in result["targets"])
    fig.suptitle(
        f"airflow-webhook-trigger vs Airflow {m['airflow']} REST API — same api-server, same DAG, same database\n"
        f"{m['cpu_count']} CPU ({m['cpu_model']}), {m['date']}, load generator wrk; "
        f"targets met: {met}/{len(result['targets'])}",
        fontsize=11,
    )
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
