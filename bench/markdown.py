"""Renders the results as the markdown report (bench/results/latest.md)."""

from __future__ import annotations

from itertools import zip_longest
from typing import Any


def _v(value: Any, digits: int = 1) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _table(head: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(_v(c) if not isinstance(c, str) else c for c in row) + " |" for row in rows]
    return lines + [""]


def _cpu(cpu: dict[str, float] | None) -> str:
    if not cpu:
        return "—"
    return ", ".join(f"{k} {v:.2f}" for k, v in sorted(cpu.items(), key=lambda kv: -kv[1]) if v >= 0.01)


def render(r: dict[str, Any]) -> str:
    m = r["machine"]
    out = [
        "# Kartoteka benchmark", "",
        f"Run {r['started_at']} ({r['seconds']:.0f} s), plan `{r['plan']['name']}`, commit `{m['commit']}`.",
        f"Machine: {m['cpus']} CPUs, {m['memory_gb']} GB, load average before {m['loadavg_before']},"
        f" after {m['loadavg_after']}; Python {m['python']}; kernel {m['kernel']}.",
        "Everything (PostgreSQL, Tansu, services, workers and the load generator) shares these cores;"
        " CPU columns are average cores used per process tree while the figure was taken.", "",
        "![charts](latest.png)", "", "## Targets", "",
    ]
    out += _table(["figure", "value", "target", "met"], [
        [t["target"], f"{_v(t['value'], 2)} {t['unit']}", f"{t['op']} {_v(t['goal'])} {t['unit']}",
         {True: "yes", False: "**no**", None: "not measured"}[t["met"]]] for t in r["targets"]
    ])
    for section in (_ingest, _drain, _freshness, _reads, _replay, _channels, _sealing, _profiles, _errors):
        try:
            out += section(r)
        except (KeyError, TypeError) as exc:
            out += [f"_{section.__name__.strip('_')}: not measured ({exc!r})_", ""]
    return "\n".join(out)


def _channels(r: dict[str, Any]) -> list[str]:
    c = r["channels"]
    rows = [[name, c[k]["per_s"], c[k]["raw_produce_per_s"], c[k]["ratio_to_raw"], c[k]["requests"],
             c[k]["latency_ms"]["p50"], c[k]["latency_ms"]["p99"], c[k]["failures"],
             c[k]["ingest_cpu_ms_per_item"], _cpu(c[k]["cpu_cores"])]
            for name, k in (("`POST /v1/channels/email` (messages)", "email"),
                            ("`POST /v1/channels/telephony/cdr` (lines)", "cdr"))]
    return ["## Channel-native ingest", "",
            f"Mail averages {c['email']['mail_bytes_avg']:,} bytes; CDRs {c['cdr']['lines_per_request']} lines"
            " a request; the raw baseline produces the same canonical records with plain kafka-python.", "",
            *_table(["endpoint", "/s", "raw produce /s", "ratio", "requests", "p50 ms", "p99 ms", "failures",
                     "ingest CPU ms/item", "CPU cores"], rows)]


def _ingest(r: dict[str, Any]) -> list[str]:
    i = r["ingest"]
    raw, http = i["baseline_produce"], i["baseline_http"]
    rows = [[f"`POST /v1/interactions/batch` {label}", i[k]["per_s"], raw["per_s"], i[k]["ratio_to_raw"],
             i[k]["users"], i[k]["items_per_request"], i[k]["latency_ms"]["p50"], i[k]["latency_ms"]["p99"],
             i[k]["failures"], _cpu(i[k]["cpu_cores"])]
            for k, label in (("batch", "while the projections drain"), ("batch_alone", "(workers stopped)"))]
    s = i["single"]
    rows.append(["`POST /v1/interactions` (workers stopped)", s["per_s"], s["raw_http_per_s"], s["ratio_to_raw"],
                 s["users"], 1, s["latency_ms"]["p50"], s["latency_ms"]["p99"], s["failures"], _cpu(s["cpu_cores"])])
    rows.append(["raw: FastAPI + pydantic, no Kafka", http["per_s"], "", "", s["users"], 1, http["latency_ms"]["p50"],
                 http["latency_ms"]["p99"], http["failures"], _cpu(http["cpu_cores"])])
    return ["## Ingest", "",
            f"Raw produce baseline: kafka-python, acks=all, `PRODUCER_DEFAULTS`, {raw['records']:,} records of the"
            f" same payloads; median of {raw['median_of']} runs {raw['repetitions']} records/s. Batches: locust,"
            " closed loop. Single deliveries: wrk, closed loop over keep-alive connections, compared with plain"
            " FastAPI on uvicorn (same worker processes) validating the same bodies into a pydantic model"
            f" without Kafka. The batches took {_v(i['batch'].get('drained_s'))} s from the first request to the"
            f" last row in `timeline`.{_ingest_cpu(i)}", ""] + _table(
        ["path", "interactions/s", "raw /s", "ratio", "clients", "items/request", "p50 ms", "p99 ms",
         "failures", "cores used"], rows)


def _ingest_cpu(i: dict[str, Any]) -> str:
    """Ingest's CPU per interaction, alone, beside a bare produce's per record (goal 1's bound)."""
    raw, alone = i["baseline_produce"], i["batch_alone"]
    cores = alone["cpu_cores"].get("ingest")
    if "cpu_us_per_record" not in raw or not cores or not alone["per_s"]:
        return ""  # reports from before the raw produce measured its CPU
    return (f" CPU per interaction with the workers stopped: ingest {cores / alone['per_s'] * 1e6:,.1f} us"
            f" (its cores over its rate); the raw produce {raw['cpu_us_per_record']:,.1f} us per record"
            " (its process, all threads).")


def _drain(r: dict[str, Any]) -> list[str]:
    d = r["drain"]
    b, two = d["baseline_consume_copy"], d.get("baseline_two_hop") or {}
    return ["## Projection drain", "",
            f"{d['interactions']:,} interactions posted in batches ({d['ingest_seconds']} s of ingest);"
            f" first 202 to last visible in `timeline`: {d['seconds']} s. Raw two hops: consume + COPY,"
            " produce, consume + COPY, one process per hop (`bench/twohop.py`).", ""] + _table(
        ["pipeline interactions/s", "raw two hops /s", "ratio", "raw one hop /s", "ratio", "cores used"],
        [[d["per_s"], two.get("per_s"), _v(d.get("ratio_to_raw"), 3), b["per_s"], _v(d.get("ratio_to_one_hop"), 3),
          _cpu(d["cpu_cores"])]]) + _per_interaction(d) + _memory(d.get("memory"))


def _per_interaction(d: dict[str, Any]) -> list[str]:
    us = d.get("cpu_us_per_interaction")
    if not us:
        return []
    busy = sorted(((k, v) for k, v in us.items() if v >= 1), key=lambda kv: -kv[1])
    return ["CPU per interaction over the drain (us): " + ", ".join(f"{k} {v:,.0f}" for k, v in busy)
            + f"; all {sum(us.values()):,.0f}.", ""]


def _memory(m: dict[str, Any] | None) -> list[str]:
    """Every process's memory at idle and over the drain (MB; PSS splits shared pages)."""
    if not m:
        return []
    drain = m["drain"]
    rows = [[name, m["idle"].get(name, {}).get("rss"), m["idle"].get(name, {}).get("pss"), p["rss_start"],
             p["rss_end"], p["pss_end"], p.get("pss_anon_end"), p.get("pss_file_end"), p["uss_end"],
             p["shmem_end"], p.get("threads_end"), p["pss_mb_per_10k"],
             p.get("pss_mb_per_10k_late"), p["pss_mb_per_min"]]
            for name, p in drain["processes"].items()]
    return [f"Memory (MB): Python processes together, PSS {m['idle_python_pss_mb']} at idle, peak"
            f" {drain['python_pss_peak_mb']} (RSS {drain['python_rss_peak_mb']}) during the drain, sampled"
            f" {drain['samples']} times over {drain['seconds']} s. `shmem` is shared memory mapped (PostgreSQL:"
            " its shared buffers, counted in every backend's RSS); `anon` is the PSS a process made"
            " (heaps, malloc arenas, stacks), `file` its share of mapped files (interpreter, libraries);"
            " slopes are least-squares PSS growth.", "",
            *_table(["process", "idle RSS", "idle PSS", "drain start RSS", "end RSS", "end PSS", "anon", "file",
                     "end USS", "shmem", "threads", "PSS MB/10k interactions", "second half", "PSS MB/min"],
                    rows)]


def _sealing(r: dict[str, Any]) -> list[str]:
    s = r["sealing"]
    return ["## Sealing personal data (in process, per interaction)", ""] + _table(
        ["path", "crypto µs", "plain work µs", "share of the phase's CPU (goal ≤ 0.15)"],
        [["ingest", s["ingest_crypto_us"], s["plain_ingest_us"], _v(s["ingest_cpu_share"], 3)],
         ["drain", s["drain_crypto_us"], "—", _v(s["drain_cpu_share"], 3)]]) + [""]


def _settled(f: dict[str, Any]) -> str:
    if "settled_s" not in f:  # a report from before the phase waited
        return ""
    if f["settled_s"] is None:
        return "Started with some worker still lagging after 180 s of waiting (the figure includes its backlog). "
    return f"Started once every worker had caught up ({f['settled_s']:.1f} s after the previous phase). "


def _freshness(r: dict[str, Any]) -> list[str]:
    f = r["freshness"]
    lat, raw = f["latency_ms"], f["baseline_one_hop"]["latency_ms"]
    return ["## Freshness", "",
            f"Single POSTs offered at {f['offered_per_s']:.0f}/s (achieved {f['achieved_per_s']}/s,"
            f" {f['accepted']:,} accepted, {f['unseen']} never seen); visibility polled every"
            f" {f['poll_interval_ms']:.0f} ms. {_settled(f)}Raw baseline: one kafka-python"
            " hop + COPY commit at the same rate.", ""] + _table(
        ["", "p50 ms", "p95 ms", "p99 ms", "max ms"],
        [["202 -> visible in timeline", lat["p50"], lat["p95"], lat["p99"], lat["max"]],
         ["raw: ack -> committed", raw["p50"], raw["p95"], raw["p99"], raw["max"]],
         ["ingest answer (202)", *(f["ingest_latency_ms"][k] for k in ("p50", "p95", "p99", "max"))]]
    ) + [f"p99 ratio to raw: {_v(f['p99_ratio_to_raw'], 2)}; cores used: {_cpu(f['cpu_cores'])}", ""] + _budget(f)


def _budget(f: dict[str, Any]) -> list[str]:
    """Per hop, from Kafka record times and PostgreSQL commit times (``bench/freshness_budget.py``)."""
    b = f.get("budget")
    if not b:
        return []
    return [f"Where it goes ({b['traced']:,} interactions traced through every hop):", ""] + _table(
        ["hop", "p50 ms", "p95 ms", "p99 ms", "max ms"],
        [[name, h["p50"], h["p95"], h["p99"], h["max"]] for name, h in b["hops"].items()]) + [""]


def _reads(r: dict[str, Any]) -> list[str]:
    rd = r["reads"]
    rows = []
    for endpoint, figs in rd["endpoints"].items():
        for name, fig in figs.items():
            if isinstance(fig, dict) and "api_ms" in fig:
                a, b = fig["api_ms"], fig["raw_sql_ms"]
                rows.append([name if name != "all" else f"{endpoint} (all)", fig.get("achieved_per_s"),
                             a["p50"], a["p95"], a["p99"], b["p50"], b["p99"], fig.get("p99_ratio_to_raw")])
        rows.append([f"{endpoint}: cores", _cpu(figs["cpu_cores"]), "", "", "", "", "", ""])
    return ["## Reads", "",
            f"{rd['customers']:,} customers / {rd['interactions']:,} interactions bulk-loaded by `bench.load`"
            f" in {rd['load_seconds']} s. Each endpoint: {rd.get('warmup_s', 0)} s of warm-up, then"
            f" {rd['offered_per_s']:.0f} requests/s offered by wrk (paced on a monotonic clock over"
            f" {rd.get('connections', '?')} keep-alive connections) from {rd.get('agents', 1)} agent tokens;"
            " each read also produces its access event, consumed by the audit side meanwhile."
            " Raw: the routes' query functions (`services.api.queries`), in-process, one at a time.", ""] + _table(
        ["read", "req/s", "p50 ms", "p95 ms", "p99 ms", "raw p50 ms", "raw p99 ms", "p99 ratio"], rows)


def _replay(r: dict[str, Any]) -> list[str]:
    p = r["replay"]
    b = p["baseline_consume_copy"]
    return ["## Replay", "",
            f"Card + timeline rebuilt from offset zero of `customers.v1`: {p['events']:,} events,"
            f" {p['interactions']:,} interactions, {p['customers_rebuilt']:,}/{p['customers']:,} customers;"
            f" {p['seconds']} s after the first row (process start to first row {p['startup_s']} s).", ""] + _table(
        ["interactions/s", "events/s", "incl. start-up", "raw consume+COPY rows/s", "ratio", "cores used"],
        [[p["per_s"], p["events_per_s"], p["per_s_with_startup"], b["per_s"], p["ratio_to_raw"],
          _cpu(p["cpu_cores"])]])


def _profiles(r: dict[str, Any]) -> list[str]:
    out = []
    found = [(phase, proc, prof) for phase in ("ingest", "drain", "replay")
             for proc, prof in (r.get(phase, {}).get("profile") or {}).items()]
    # Reads: the api only (the workers' stacks are kept beside the report, bench/results/profiles).
    found += [(f"reads {endpoint}", "api", procs["api"])
              for endpoint, procs in (r.get("reads", {}).get("profiles") or {}).items() if "api" in procs]
    for phase, proc, prof in found:
        out += [f"### py-spy: {phase} / {proc} ({prof['samples']} samples)", ""]
        rows = zip_longest(prof["self"], prof["inclusive"], prof.get("by_package", []), fillvalue=("", ""))
        out += _table(["self (function)", "%", "inclusive (our code)", "%", "self by package", "%"],
                      [[a[0], a[1], b[0], b[1], c[0], c[1]] for a, b, c in rows])
    return (["## Profiles", ""] + out) if out else []


def _errors(r: dict[str, Any]) -> list[str]:
    errors = {k: v["error"] for k, v in r.items() if isinstance(v, dict) and "error" in v}
    return (["## Errors", ""] + [f"- {k}: `{v}`" for k, v in errors.items()] + [""]) if errors else []
