"""latest.json and latest.md: every figure with its baseline, ratio, target and the machine's load."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

Getter = Callable[[dict[str, Any]], Any]
TARGETS: list[tuple[str, Getter, str, float, str]] = [
    ("batch ingest while draining / raw produce", lambda r: r["ingest"]["batch"]["ratio_to_raw"],
     ">=", 0.6, "x"),
    ("single deliveries, 16 clients", lambda r: r["ingest"]["single"]["per_s"], ">=", 2500, "/s"),
    ("projection drain", lambda r: r["drain"]["per_s"], ">=", 6000, "/s"),
    ("Python processes PSS while draining", lambda r: r["drain"]["memory"]["drain"]["python_pss_peak_mb"],
     "<", 1500, "MB"),
    ("freshness p99 at 200/s", lambda r: r["freshness"]["latency_ms"]["p99"], "<", 100, "ms"),
    ("card p99", lambda r: r["reads"]["endpoints"]["card"]["card"]["api_ms"]["p99"], "<", 10, "ms"),
    ("timeline p99", lambda r: r["reads"]["endpoints"]["timeline"]["timeline"]["api_ms"]["p99"],
     "<", 10, "ms"),
    ("search p99 (phone, email, name)", lambda r: r["reads"]["endpoints"]["search"]["all"]["api_ms"]["p99"],
     "<", 50, "ms"),
    ("reports p99 (dormant, birthdays, activity)",
     lambda r: r["reads"]["endpoints"]["reports"]["all"]["api_ms"]["p99"], "<", 200, "ms"),
    ("card page HTML p99", lambda r: r["reads"]["endpoints"]["card_page"]["card_page"]["api_ms"]["p99"],
     "<", 30, "ms"),
    ("replay", lambda r: r["replay"]["per_s"], ">=", 5000, "/s"),
    ("raw mail ingestion (~5 KB)", lambda r: r["channels"]["email"]["per_s"], ">=", 300, "/s"),
    ("cdr-csv lines", lambda r: r["channels"]["cdr"]["per_s"], ">=", 5000, "/s"),
]


def verdicts(results: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for name, get, op, target, unit in TARGETS:
        try:
            value = get(results)
        except (KeyError, TypeError):
            value = None
        met = None if value is None else (value >= target if op == ">=" else value < target)
        found.append({"target": name, "value": value, "op": op, "goal": target, "unit": unit, "met": met})
    return found


def write(results: dict[str, Any], out: Path) -> tuple[Path, Path]:
    results["targets"] = verdicts(results)
    json_path, md_path = out / "latest.json", out / "latest.md"
    json_path.write_text(json.dumps(results, indent=1, ensure_ascii=False, default=str))
    from bench.markdown import render

    md_path.write_text(render(results))
    return json_path, md_path
