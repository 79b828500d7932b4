"""Where each interaction's freshness goes, hop by hop (the freshness phase's ``budget``).

Times per interaction, all on this machine's clock:
- ``posted``: the client sent the POST; ``answered``: it got the 202 (the load generator's log);
- ``on_interactions``: ingest's send to ``interactions.v1`` (the record's CreateTime);
- ``resolved``: the resolver's commit of its attribution (``pg_xact_commit_timestamp``);
- ``on_customers``: the relay's send of the attribution to ``customers.v1`` (CreateTime);
- ``projected``: the card + timeline worker's commit of the timeline row;
- ``seen``: the phase's poll found the row (every 10 ms).

Commit times need ``track_commit_timestamp`` (the embedded server has it on); without it the
PostgreSQL hops are left out.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

import psycopg
from kafka import TopicPartition

from bench.stats import summary
from events import sealing, topics
from kartoteka import kafka
from kartoteka.settings import Settings

# (name, from, to): each hop's time is ``to - from`` in ms.
HOPS = (
    ("ingest before Kafka", "posted", "on_interactions"),
    ("Kafka ack -> 202 read by client", "on_interactions", "answered"),
    ("resolver: fetch, decide, commit", "on_interactions", "resolved"),
    ("relay: wake, read, send", "resolved", "on_customers"),
    ("timeline: relay ack, fetch, commit", "on_customers", "projected"),
    ("seen by the 10 ms poll", "projected", "seen"),
    ("on interactions.v1 -> seen", "on_interactions", "seen"),
    ("202 -> seen (the figure)", "answered", "seen"),
)
COMMITS = """
SELECT a.interaction_id::text,
       extract(epoch FROM pg_xact_commit_timestamp(a.xmin))::float8,
       extract(epoch FROM pg_xact_commit_timestamp(t.xmin))::float8
FROM identity_attributions a JOIN timeline t USING (interaction_id)
WHERE a.interaction_id = ANY(%s::uuid[])
"""


def budget(settings: Settings, times: dict[str, dict[str, float]]) -> dict[str, Any]:
    """Per hop p50/p95/p99/max in ms over the interactions in ``times`` (id -> named times, epoch s),
    which gains the Kafka and PostgreSQL times found for each id."""
    ids = set(times)
    for name, topic in (("on_interactions", topics.INTERACTIONS), ("on_customers", topics.CUSTOMERS)):
        for id_, at in record_times(settings, settings.topic(topic), ids).items():
            times[id_][name] = at
    try:
        for id_, resolved, projected in commit_times(settings.dsn, list(ids)):
            times[id_].update(resolved=resolved, projected=projected)
    except psycopg.errors.ObjectNotInPrerequisiteState:  # track_commit_timestamp is off
        pass
    return {"hops": hops(times), "traced": sum(1 for t in times.values() if "projected" in t)}


def hops(times: dict[str, dict[str, float]]) -> dict[str, dict[str, float | int | None]]:
    """Each hop's summary (ms) over the interactions that have both of its ends."""
    return {name: summary([(t[end] - t[start]) * 1000 for t in times.values() if start in t and end in t])
            for name, start, end in HOPS}


def commit_times(dsn: str, ids: list[str]) -> list[tuple[str, float, float]]:
    """(id, resolver commit, timeline commit) of each interaction the timeline holds."""
    with psycopg.connect(dsn) as conn:
        return [(i, r, p) for i, r, p in conn.execute(COMMITS, (ids,)).fetchall() if r and p]


def record_times(settings: Settings, topic: str, ids: set[str], idle_s: float = 2.0) -> dict[str, float]:
    """CreateTime (epoch s) of the first record on ``topic`` sealed under each interaction's subject."""
    wanted = {sealing.interaction_subject(i): i for i in ids}
    found: dict[str, float] = {}
    consumer = kafka.consumer(settings, max_poll_records=5_000)
    try:
        partitions: list[TopicPartition] = kafka.partitions_of(consumer, topic)
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        quiet_since = time.monotonic()
        while len(found) < len(wanted) and time.monotonic() - quiet_since < idle_s:
            polled = consumer.poll(timeout_ms=500)
            if polled:
                quiet_since = time.monotonic()
            for subject, at in _subjects(r for part in polled.values() for r in part):
                id_ = wanted.get(subject)
                if id_ is not None and id_ not in found:
                    found[id_] = at
    finally:
        consumer.close()
    return found


def _subjects(records: Iterable[Any]) -> Iterable[tuple[str, float]]:
    for record in records:
        if sealing.is_sealed(record.value):
            yield sealing.subject_of(record.value), record.timestamp / 1000
