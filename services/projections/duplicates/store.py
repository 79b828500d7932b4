"""The duplicate finder's tables: observations, matching records, models, proposals; one transaction per batch."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore
from psycopg import Cursor
from psycopg.types.json import Jsonb

from events.duplicates import AUTO_MERGE_BY, auto_merge_record, proposal_id
from kartoteka import outbox
from services.projections.duplicates.attributes import MatchRecord
from services.projections.duplicates.held import held_evidence
from services.projections.duplicates.observe import MATCHED, Changes, latest, record_of
from services.projections.duplicates.pairs import ScoredPair
from services.projections.tracking import Positions

# One statement for a batch's observations (a few per interaction), one array per column:
# a statement per row was most of what PostgreSQL did for this worker in a drain.
OBSERVE = ("INSERT INTO match_attributes (source, attribute, value, customer_id, channel, seen_at)"
           " SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::uuid[], %s::text[],"
           " %s::timestamptz[]) ON CONFLICT DO NOTHING")
MERGE = ("UPDATE match_attributes SET customer_id = %(s)s WHERE customer_id = %(m)s",
         "DELETE FROM match_records WHERE customer_id = %(m)s",
         "DELETE FROM match_blocks WHERE customer_id = %(m)s",
         # The survivor is scored again; the merged-away id proposes nothing any more.
         "DELETE FROM duplicate_proposals WHERE status = 'open' AND (customer_a = %(m)s OR customer_b = %(m)s)")
# A batch's matching records in one statement: a statement per row (executemany) was a sixth of
# this worker's samples at 200 interactions/s.
RECORDS = ("INSERT INTO match_records (customer_id, record) SELECT * FROM unnest(%s::uuid[], %s::jsonb[])"
           " ON CONFLICT (customer_id) DO UPDATE SET record = excluded.record")
# Their block keys, one row per (key, customer): the keys a record no longer has go, the new come.
# The keys are read from the records just written: sent as arrays (~8,500 elements a scoring at
# 200/s) their dumping was a tenth of this worker's CPU.
BLOCKS = ("WITH new (k, c) AS (SELECT jsonb_array_elements_text(m.record -> 'block_keys'), m.customer_id"
          " FROM match_records m WHERE m.customer_id = ANY(%(ids)s::uuid[])),"
          " gone AS (DELETE FROM match_blocks b WHERE b.customer_id = ANY(%(ids)s::uuid[])"
          " AND NOT EXISTS (SELECT 1 FROM new WHERE new.k = b.block_key AND new.c = b.customer_id))"
          " INSERT INTO match_blocks (block_key, customer_id) SELECT k, c FROM new ON CONFLICT DO NOTHING")
# Every customer sharing a key with the batch: an index probe per key (migration 098).
CANDIDATES = ("SELECT customer_id::text AS c, record FROM match_records WHERE customer_id IN"
              " (SELECT customer_id FROM match_blocks WHERE block_key = ANY(%b::text[]))")
# Names, birth dates and addresses are personal data: an erased customer leaves no observation,
# record or proposal (a proposal's evidence quotes both sides' values).
ERASE = ("DELETE FROM match_attributes WHERE customer_id = ANY(%(ids)s::uuid[])",
         "DELETE FROM match_records WHERE customer_id = ANY(%(ids)s::uuid[])",
         "DELETE FROM match_blocks WHERE customer_id = ANY(%(ids)s::uuid[])",
         "DELETE FROM duplicate_proposals WHERE customer_a = ANY(%(ids)s::uuid[]) OR customer_b = ANY(%(ids)s::uuid[])")
MOVE = "UPDATE match_attributes SET customer_id = %s WHERE source = %s"
DECIDE = """
INSERT INTO duplicate_proposals (proposal_id, customer_a, customer_b, score, evidence, status, proposed_at,
                                 decided_at, decided_by, reason)
VALUES (%(id)s, %(a)s, %(b)s, coalesce(%(score)s, 0), '[]', %(status)s, %(at)s, %(at)s, %(by)s, %(reason)s)
ON CONFLICT (proposal_id) DO UPDATE SET status = excluded.status, decided_at = excluded.decided_at,
    decided_by = excluded.decided_by, reason = excluded.reason
WHERE duplicate_proposals.status = 'open'
"""
PROPOSE = """
INSERT INTO duplicate_proposals (proposal_id, customer_a, customer_b, score, evidence, proposed_at)
VALUES (%s, %s, %s, %s, %s, %s)
ON CONFLICT (proposal_id) DO UPDATE SET score = excluded.score, evidence = excluded.evidence
WHERE duplicate_proposals.status = 'open'
"""
# (changed records, their candidates, minimum score or None for the configured one) -> pairs
Scorer = Callable[[Sequence[MatchRecord], Sequence[MatchRecord], float | None], list[ScoredPair]]


def evidence_json(pair: ScoredPair) -> list[dict[str, Any]]:
    return [{"attribute": e.attribute, "values": list(e.values), "weight": e.weight, "level": e.level,
             "label": e.label}
            for e in pair.evidence]


def _record(row: dict[str, Any]) -> MatchRecord:
    fields: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in row.items()}
    return MatchRecord(**fields)


def write_records(curs: Cursor[Any], records: Sequence[MatchRecord]) -> None:
    """The records and their block keys, replacing what these customers had."""
    ids = [r.customer_id for r in records]
    curs.execute(RECORDS, (ids, [Jsonb(asdict(r)) for r in records]))
    curs.execute(BLOCKS, {"ids": ids})


def _observed(curs: Cursor[Any], ids: list[str], attributes: Sequence[str]
              ) -> dict[str, list[tuple[str, str, str, datetime]]]:
    """(attribute, value, channel, seen at) per customer, of the given attributes."""
    curs.execute("SELECT customer_id::text AS c, attribute, value, channel, seen_at FROM match_attributes"
                 " WHERE customer_id = ANY(%s::uuid[]) AND attribute = ANY(%s::text[])", (ids, list(attributes)))
    rows: dict[str, list[tuple[str, str, str, datetime]]] = {}
    for r in curs.fetchall():
        rows.setdefault(r["c"], []).append((r["attribute"], r["value"], r["channel"], r["seen_at"]))
    return rows


class DuplicateStore:
    """Applies a batch's changes, rescoring the customers they touched, with the positions."""

    def __init__(self, datastore: PostgresDatastore, positions: Positions,
                 auto_merge_score: float | None = None) -> None:
        self.datastore = datastore
        self.positions = positions
        self.auto_merge_score = auto_merge_score

    def latest_model(self) -> tuple[int, dict[str, Any]] | None:
        with self.datastore.get_connection() as conn:
            row = conn.execute("SELECT model_id, model FROM duplicate_models ORDER BY model_id DESC LIMIT 1"
                               ).fetchone()
        return (row["model_id"], row["model"]) if row else None

    def save_model(self, model: dict[str, Any], customers: int) -> int:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute("INSERT INTO duplicate_models (customers, model) VALUES (%s, %s) RETURNING model_id",
                         (customers, Jsonb(model)))
            row = curs.fetchone()
        assert row is not None
        return int(row["model_id"])

    def all_records(self) -> list[MatchRecord]:
        with self.datastore.get_connection() as conn:
            return [_record(r["record"]) for r in conn.execute("SELECT record FROM match_records").fetchall()]

    def apply(self, changes: Changes, trackings: list[Tracking], scorer: Scorer) -> None:
        with self.datastore.transaction(commit=True) as curs:
            if changes.observations:
                curs.execute(OBSERVE, [list(c) for c in zip(*changes.observations, strict=True)])
            for survivor, merged in changes.merges:
                for statement in MERGE:
                    curs.execute(statement, {"s": survivor, "m": merged})
            if changes.moves:
                curs.executemany(MOVE, [(to, interaction) for interaction, _, to in changes.moves])
            self._decisions(curs, changes)
            changed = self._records(curs, sorted(changes.touched()))
            if changed:
                self._propose(curs, changed, scorer)
            if changes.held:
                self._held(curs, changes.held, scorer)
            if changes.erased:
                for statement in ERASE:
                    curs.execute(statement, {"ids": changes.erased})
            self.positions.record(curs, trackings)

    def _decisions(self, curs: Cursor[Any], changes: Changes) -> None:
        rows = [{"id": c.proposal_id, "a": min(c.customer_ids), "b": max(c.customer_ids), "score": c.score,
                 "status": "accepted", "at": c.at, "by": c.requested_by, "reason": None} for c in changes.accepted]
        rows += [{"id": c.proposal_id, "a": min(c.customer_ids), "b": max(c.customer_ids), "score": None,
                  "status": "rejected", "at": c.at, "by": c.requested_by, "reason": c.reason}
                 for c in changes.rejected]
        if rows:
            curs.executemany(DECIDE, rows)

    def _records(self, curs: Cursor[Any], touched: list[str]) -> list[MatchRecord]:
        if not touched:
            return []
        records = [record_of(c, found) for c, found in _observed(curs, touched, MATCHED).items()]
        if records:
            write_records(curs, records)
        return records

    def _propose(self, curs: Cursor[Any], changed: list[MatchRecord], scorer: Scorer) -> None:
        ids = [r.customer_id for r in changed]
        keys = sorted({k for r in changed for k in r.block_keys})
        # The changed records are left out here, not in SQL: ``<> ALL(ids)`` compared every
        # candidate row with every id of the batch, in PostgreSQL, which runs at full priority.
        curs.execute(CANDIDATES, (keys,))
        changed_ids = set(ids)
        candidates = [_record(r["record"]) for r in curs.fetchall() if r["c"] not in changed_ids]
        if not candidates and len(changed) < 2:
            return
        pairs = scorer(changed, candidates, None)
        now = datetime.now(UTC)
        curs.executemany(PROPOSE, [(proposal_id(p.a, p.b), p.a, p.b, p.probability, Jsonb(evidence_json(p)), now)
                                   for p in pairs])
        if self.auto_merge_score is not None:
            self._auto_merge(curs, [p for p in pairs if p.probability >= self.auto_merge_score], now)

    def _auto_merge(self, curs: Cursor[Any], pairs: list[ScoredPair], now: datetime) -> None:
        """Accept still-open proposals above the auto-merge score: the merge command goes to the
        outbox with the decision, so it is sent exactly when the decision is committed."""
        if not pairs:
            return
        curs.execute("UPDATE duplicate_proposals SET status = 'accepted', decided_at = %s, decided_by = %s,"
                     " reason = 'score above the auto-merge threshold'"
                     " WHERE proposal_id = ANY(%s::uuid[]) AND status = 'open' RETURNING proposal_id::text",
                     (now, AUTO_MERGE_BY, [proposal_id(p.a, p.b) for p in pairs]))
        accepted = {r["proposal_id"] for r in curs.fetchall()}
        outbox.write(curs, [auto_merge_record(p.a, p.b, p.probability, now) for p in pairs
                            if proposal_id(p.a, p.b) in accepted], AUTO_MERGE_BY)

    def _seen(self, curs: Cursor[Any], ids: list[str]) -> dict[str, dict[str, str]]:
        """Each customer's name and birth date as written, for a held link's conflict in words."""
        return {c: latest(found) for c, found in _observed(curs, ids, ("name", "birth_date")).items()}

    def _held(self, curs: Cursor[Any], held: dict[tuple[str, str], tuple[str, str]], scorer: Scorer) -> None:
        """Links a guard held back: proposed with the model's evidence and the conflict beside it."""
        ids = sorted({c for pair in held for c in pair})
        curs.execute("SELECT record FROM match_records WHERE customer_id = ANY(%s::uuid[])", (ids,))
        records = [_record(r["record"]) for r in curs.fetchall()]
        scored = {(p.a, p.b): p for p in scorer(records, [], 0.0)}
        seen = self._seen(curs, ids)
        now = datetime.now(UTC)
        rows = []
        for (a, b), (key, reason) in held.items():
            pair = scored.get((a, b))
            evidence = [*(evidence_json(pair) if pair else []),
                        held_evidence(key, reason, seen.get(a, {}), seen.get(b, {}))]
            rows.append((proposal_id(a, b), a, b, pair.probability if pair else 0.0, Jsonb(evidence), now))
        curs.executemany(PROPOSE, rows)
