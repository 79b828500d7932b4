"""The alerts store: idempotent upserts and tracked positions in one Postgres transaction."""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore
from psycopg.types.json import Jsonb

from events.catalog import AlertRaised
from services.projections.tracking import Positions

SEVERITY_RANK = {"low": 0, "medium": 1, "high": 2, "critical": 3}

# One row per alert id. A re-raised alert only replaces the stored one when it is at least
# as severe, so an escalation shows and a replay of an old event cannot downgrade it.
UPSERT = """
INSERT INTO alerts (id, employee_id, kind, severity, severity_rank, score, window_start,
                    window_end, evidence, raised_at, detector)
VALUES (%(id)s, %(employee_id)s, %(kind)s, %(severity)s, %(severity_rank)s, %(score)s,
        %(window_start)s, %(window_end)s, %(evidence)s, %(raised_at)s, %(detector)s)
ON CONFLICT (id) DO UPDATE SET
    severity = excluded.severity,
    severity_rank = excluded.severity_rank,
    score = excluded.score,
    window_end = excluded.window_end,
    evidence = excluded.evidence,
    detector = excluded.detector,
    updated_at = now()
WHERE (excluded.severity_rank, excluded.score) >= (alerts.severity_rank, alerts.score)
"""


def alert_row(alert: AlertRaised) -> dict[str, Any]:
    return {
        **alert.model_dump(exclude={"evidence"}),
        "severity_rank": SEVERITY_RANK[alert.severity],
        "evidence": Jsonb(alert.evidence),
    }


class AlertStore:
    """Upserts alerts; the same alert delivered twice is one row."""

    def __init__(self, datastore: PostgresDatastore, positions: Positions) -> None:
        self.datastore = datastore
        self.positions = positions

    def apply(self, rows: list[dict[str, Any]], trackings: list[Tracking]) -> None:
        self.positions.commit([(UPSERT, rows)], trackings)
