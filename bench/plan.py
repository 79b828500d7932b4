"""How big and how long each phase is: ``--quick`` (about 4 minutes), the default, ``--scale full``."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from bench.profile import Profiler
from tests.support.infra import Infra


@dataclass(frozen=True)
class Plan:
    """Sizes and durations; rates are interactions (or requests) per second."""

    name: str
    ingest_s: int = 20           # each timed HTTP ingest load (batch alone, single, raw HTTP)
    ingest_records: int = 20_000  # batches posted while the projections drain; also the raw produce
    ingest_customers: int = 4_000
    batch_size: int = 500
    batch_users: int = 4         # concurrent channels: each waits for Kafka's ack before its next batch
    single_users: int = 16       # keep-alive connections posting one interaction each
    drain_records: int = 30_000
    fresh_rate: float = 200.0
    fresh_s: int = 40
    read_s: int = 20             # each read endpoint
    read_rate: float = 100.0     # offered requests/s per read endpoint
    read_users: int = 20         # wrk connections per endpoint: the paced rate holds up to ~200 ms answers
    read_agents: int = 50        # distinct agent tokens the reads come from
    read_warmup_s: int = 5       # each endpoint, unmeasured, after the bulk load
    customers: int = 100_000     # read dataset (bench.load)
    interactions: int = 1_000_000


QUICK = Plan("quick", ingest_s=10, drain_records=20_000, fresh_s=20, read_s=10)
DEFAULT = Plan("default")


def plan_for(quick: bool, scale: str) -> Plan:
    base = QUICK if quick else DEFAULT
    if scale == "full":
        return replace(base, name=f"{base.name}+full", customers=1_000_000, interactions=10_000_000)
    return base


@dataclass
class Context:
    """What every phase gets: the shared infrastructure, where to write, the plan, the profiler."""

    infra: Infra
    run_dir: Path
    plan: Plan
    profiler: Profiler
