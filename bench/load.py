"""Bulk loader for the read benchmark: N customers and M interactions straight into the read models.

    python -m bench.load --dsn postgresql://... [--scale quick|full] [--customers N]
                         [--interactions M] [--sample sample.json]

``quick`` is 100k customers / 1M interactions, ``full`` 1M / 10M. The loader COPYs rows into
``customers``, ``customer_identifiers`` and ``timeline`` in the shapes of
``kartoteka/migrations`` (every customer has a phone and an email; interactions go to uniformly
random customers, in time order, so a customer's timeline is scattered over the table as it is
in production), then runs ``VACUUM ANALYZE`` as autovacuum would have by then, and loads the read
models into PostgreSQL's cache as serving them would have (:func:`prewarm`).

It bypasses the pipeline on purpose: 10M interactions through the resolver would take hours on
a 2-core machine, and the read paths only need read models of production's shape and size. So
the identity graph (``identity_events``, ``identity_index``) stays empty and nothing is on Kafka.
Interaction ids are sequential UUIDs: no read looks a timeline row up by id, and sequential keys
keep the primary-key build cheap. Load into a fresh, migrated database.
"""

from __future__ import annotations

import argparse
import json
import random
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from tqdm import tqdm

from bench.payloads import BODIES, CHANNELS, e164_phone, full_name, local_phone
from bench.work_load import TABLES as WORK_TABLES
from bench.work_load import load_work

SCALES = {"quick": (100_000, 1_000_000), "full": (1_000_000, 10_000_000)}
START = datetime(2023, 1, 1, tzinfo=UTC)
SPAN = timedelta(days=3 * 365)
CHUNK = 20_000
READ_MODELS = ("customers", "customer_identifiers", "customer_names", "customer_history", "timeline",
               "work_notes", "customer_profiles", "work_requests", "customer_contacts", "activity_daily")


def load(dsn: str, customers: int, interactions: int, sample_size: int = 2000, seed: int = 7) -> list[dict[str, str]]:
    """Load the read models; returns ``sample_size`` random customers (id, phone, email, name)."""
    rng = random.Random(seed)
    ids = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(customers)]
    with tqdm(total=3 * customers + interactions, desc="load read models", unit="row",
              unit_scale=True) as bar, psycopg.connect(dsn) as conn:
        latin = _has_column(conn, "customers", "search_latin")
        _copy(conn, f"customers (id, name, name_at, registered_at, updated_at{', search_latin' if latin else ''})",
              _customers(ids, latin), bar)
        _copy(conn, "customer_identifiers (customer_id, kind, value, valid, channel, first_seen,"
              " last_seen)", _identifiers(ids), bar)
        _copy(conn, "timeline (interaction_id, customer_id, seq, external_id, channel, direction,"
              " occurred_at, agent_id, subject, body, details)", _timeline(ids, interactions, rng), bar)
        bar.set_description("load work read models and report projections")
        load_work(conn, ids, START, SPAN)
    with psycopg.connect(dsn, autocommit=True) as conn:
        for table in ("customers", "customer_identifiers", "timeline", *WORK_TABLES):
            conn.execute(f"VACUUM ANALYZE {table}")
        prewarm(conn, READ_MODELS)
    picks = rng.sample(range(customers), min(sample_size, customers))
    return [
        {"id": ids[i], "phone": local_phone(i), "email": _email(i), "name": full_name(i)} for i in picks
    ]


def _copy(conn: psycopg.Connection[Any], target: str, lines: Iterator[str], bar: tqdm[Any]) -> None:
    with conn.cursor() as cur, cur.copy(f"COPY {target} FROM STDIN") as copy:
        chunk: list[str] = []
        for line in lines:
            chunk.append(line)
            if len(chunk) >= CHUNK:
                copy.write("".join(chunk))
                bar.update(len(chunk))
                chunk = []
        copy.write("".join(chunk))
        bar.update(len(chunk))
    conn.commit()


def _email(i: int) -> str:
    return f"c{i}.load@example.ru"


def _at(fraction: float) -> str:
    return (START + SPAN * fraction).isoformat()


def prewarm(conn: psycopg.Connection[Any], tables: tuple[str, ...]) -> None:
    """Load the tables and their indexes into PostgreSQL's buffer cache.

    A server that has been answering agents holds its read models in memory by the time
    there are 1M customers (if its shared_buffers can hold them: the embedded server sizes
    them to a quarter of the memory). Just bulk-loaded, they are on the disk instead, and the
    first read of every page waits for it (here: this VM keeps 1-2 GB of page cache, so card
    reads of a 5.5 GB dataset measured p99 29-31 ms, 100-340 ms stalls included, against
    7-10 ms once cached). The read phase measures the serving state, not the first touch.
    """
    conn.execute("CHECKPOINT")  # the load's dirty pages written now, not during the reads
    conn.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
    relations = conn.execute(
        "WITH t AS (SELECT name::regclass AS oid FROM unnest(%s::text[]) name)"
        " SELECT c.oid::regclass::text, c.relpages FROM pg_class c"
        " WHERE c.oid IN (SELECT oid FROM t)"
        " OR c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid IN (SELECT oid FROM t))"
        " ORDER BY c.relpages", (list(tables),)).fetchall()
    with tqdm(total=sum(pages for _, pages in relations), desc="prewarm read models", unit="page",
              unit_scale=True) as bar:
        for name, pages in relations:
            conn.execute("SELECT pg_prewarm(%s::regclass)", (name,))
            bar.update(pages)


def _has_column(conn: psycopg.Connection[Any], table: str, column: str) -> bool:
    row = conn.execute("SELECT 1 FROM information_schema.columns WHERE table_name = %s AND column_name = %s",
                       (table, column)).fetchone()
    return row is not None


def _customers(ids: list[str], latin: bool) -> Iterator[str]:
    """Customer rows; ``search_latin`` is what the card projection writes (events.names.latin)."""
    from events.names import latin as transliterate

    registered = _at(0)
    cache: dict[str, str] = {}
    for i, cid in enumerate(ids):
        name = full_name(i)
        extra = f"\t{cache.setdefault(name, transliterate(name))}" if latin else ""
        yield f"{cid}\t{name}\t{registered}\t{registered}\t{registered}{extra}\n"


def _identifiers(ids: list[str]) -> Iterator[str]:
    first, last = _at(0), _at(1)
    for i, cid in enumerate(ids):
        yield f"{cid}\tphone\t{e164_phone(i)}\tt\tcall\t{first}\t{last}\n"
        yield f"{cid}\temail\t{_email(i)}\tt\temail\t{first}\t{last}\n"


def _timeline(ids: list[str], count: int, rng: random.Random) -> Iterator[str]:
    base = rng.getrandbits(64) << 64
    pick: Callable[[int], int] = rng.randrange
    n_ids = len(ids)
    for i in range(count):
        channel = CHANNELS[i % len(CHANNELS)]
        yield (
            f"{uuid.UUID(int=base + i)}\t{ids[pick(n_ids)]}\t{i + 1}\tload-{i}\t{channel}\t"
            f"{'inbound' if i % 3 else 'outbound'}\t{_at(i / count)}\temp-{i % 40}\t"
            f"Обращение №{i}\t{BODIES[i % len(BODIES)]}\t{{\"duration_s\": {30 + i % 600}}}\n"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n")[0])
    parser.add_argument("--dsn", required=True, help="a fresh, migrated Kartoteka database")
    parser.add_argument("--scale", choices=sorted(SCALES), default="quick")
    parser.add_argument("--customers", type=int, help="overrides the scale's customer count")
    parser.add_argument("--interactions", type=int, help="overrides the scale's interaction count")
    parser.add_argument("--sample", type=Path, help="write sampled customers (JSON) for the readers")
    args = parser.parse_args(argv)
    customers, interactions = SCALES[args.scale]
    sample = load(args.dsn, args.customers or customers, args.interactions or interactions)
    if args.sample:
        args.sample.write_text(json.dumps(sample, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
