"""The report's PNG: throughput over time, latency distributions, and who used the CPU."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402


def draw(results: dict[str, Any], path: Path) -> None:
    fig, axes = plt.subplots(2, 3, figsize=(18, 10))
    panels = (_ingest, _drain, _replay, _freshness, _reads, _cpu)
    for ax, panel in zip(axes.flat, panels, strict=True):
        try:
            panel(ax, results)
        except (KeyError, TypeError, ValueError):
            ax.set_title(f"{panel.__name__.strip('_')}: not measured")
    fig.suptitle("Kartoteka benchmark", fontsize=14)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _ingest(ax: Axes, r: dict[str, Any]) -> None:
    ing = r["ingest"]
    for key in ("batch", "batch_alone"):
        xs, ys = zip(*ing[key]["series"], strict=True)
        ax.plot(xs, ys, label=f"POST {key} ({ing[key]['per_s']:.0f}/s)")
    ax.axhline(ing["single"]["per_s"], color="g", ls=":", label="POST single (16 clients)")
    ax.axhline(ing["baseline_produce"]["per_s"], color="k", ls="--", label="raw kafka-python produce")
    ax.set(title="Ingest throughput", xlabel="s", ylabel="interactions/s")
    ax.legend(fontsize=8)


def _rates(series: list[list[float]], column: int) -> tuple[list[float], list[float]]:
    """Per-second rate of a cumulative column of a watcher series."""
    xs, ys, last_t, last_v = [], [], None, None
    for row in series:
        t, v = row[0], row[column]
        if last_t is None or t - last_t >= 1.0:
            if last_t is not None:
                xs.append(t)
                ys.append((v - last_v) / (t - last_t))
            last_t, last_v = t, v
    return xs, ys


def _drain(ax: Axes, r: dict[str, Any]) -> None:
    series = r["drain"]["series"]
    for column, label in ((2, "resolver (records)"), (3, "relay (events)"), (1, "timeline rows")):
        ax.plot(*_rates(series, column), label=label)
    ax.axhline(2000, color="r", ls=":", label="target 2,000/s")
    ax.set(title=f"Drain: {r['drain']['per_s']}/s end to end", xlabel="s since first 202", ylabel="per s")
    ax.legend(fontsize=8)


def _replay(ax: Axes, r: dict[str, Any]) -> None:
    ax.plot(*_rates(r["replay"]["series"], 1), label="timeline rows/s")
    ax.axhline(5000, color="r", ls=":", label="target 5,000/s")
    ax.axhline(r["replay"]["baseline_consume_copy"]["per_s"], color="k", ls="--", label="raw consume+COPY")
    ax.set(title=f"Replay: {r['replay']['per_s']}/s", xlabel="s since first row", ylabel="rows/s")
    ax.legend(fontsize=8)


def _cdf(ax: Axes, values: list[float], label: str) -> None:
    if values:
        n = len(values)
        ax.plot(values, [(i + 1) / n for i in range(n)], label=label)


def _freshness(ax: Axes, r: dict[str, Any]) -> None:
    f = r["freshness"]
    _cdf(ax, f["latencies"], f"202 -> timeline (p99 {f['latency_ms']['p99']:.0f} ms)")
    ax.axvline(500, color="r", ls=":", label="target p99 500 ms")
    ax.set(title=f"Freshness at {f['offered_per_s']:.0f}/s offered", xlabel="ms", ylabel="fraction",
           xscale="log")
    ax.legend(fontsize=8)


def _reads(ax: Axes, r: dict[str, Any]) -> None:
    for endpoint in r["reads"]["endpoints"].values():
        for name, fig in endpoint.items():
            if isinstance(fig, dict) and "latencies" in fig:
                _cdf(ax, fig["latencies"], f"{name} (p99 {fig['api_ms']['p99']:.1f} ms)")
    for limit in (20, 50):
        ax.axvline(limit, color="r", ls=":")
    reads = r["reads"]
    ax.set(title=f"Reads at {reads['customers']:,} customers / {reads['interactions']:,} interactions",
           xlabel="ms", ylabel="fraction", xscale="log")
    ax.legend(fontsize=7)


def _cpu(ax: Axes, r: dict[str, Any]) -> None:
    phases = {
        "ingest batch": r.get("ingest", {}).get("batch", {}).get("cpu_cores"),
        "drain": r.get("drain", {}).get("cpu_cores"),
        "freshness": r.get("freshness", {}).get("cpu_cores"),
        "replay": r.get("replay", {}).get("cpu_cores"),
        "reads search": r.get("reads", {}).get("endpoints", {}).get("search", {}).get("cpu_cores"),
    }
    phases = {k: v for k, v in phases.items() if v}
    names = sorted({n for v in phases.values() for n in v if n != "machine"})
    bottom = [0.0] * len(phases)
    for name in names:
        values = [cpu.get(name, 0.0) for cpu in phases.values()]
        ax.bar(list(phases), values, bottom=bottom, label=name)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.axhline(2, color="k", ls="--", label="cores on this machine")
    ax.set(title="CPU cores used per phase", ylabel="cores")
    ax.legend(fontsize=7, ncol=2)
    ax.tick_params(axis="x", labelsize=8)
