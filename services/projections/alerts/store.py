"""The alerts store: idempotent upserts, the officers' status changes and the suppressions
they set, with tracked positions, in one Postgres transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore
from psycopg.types.json import Jsonb

from events.alert_workflow import FINAL, SEVERITY_RANK, AlertStatusChanged
from events.catalog import AlertRaised
from services.projections.tracking import Positions

# One row per alert id. A re-raised alert only replaces the stored one when it is at least
# as severe, so an escalation shows and a replay of an old event cannot downgrade it. While a
# false positive of the same pattern (employee, kind, at most as severe) is in force the alert
# is born suppressed; one that escalates past the suppression opens.
UPSERT = """
WITH s AS (
    SELECT alert_id FROM alert_suppressions
    WHERE employee_id = %(employee_id)s AND kind = %(kind)s AND severity_rank >= %(severity_rank)s
      AND since <= %(raised_at)s AND until > %(raised_at)s AND alert_id <> %(id)s
    ORDER BY until DESC LIMIT 1
)
INSERT INTO alerts (id, employee_id, kind, severity, severity_rank, score, window_start,
                    window_end, evidence, raised_at, detector, status, suppressed_by)
VALUES (%(id)s, %(employee_id)s, %(kind)s, %(severity)s, %(severity_rank)s, %(score)s,
        %(window_start)s, %(window_end)s, %(evidence)s, %(raised_at)s, %(detector)s,
        CASE WHEN EXISTS (SELECT 1 FROM s) THEN 'suppressed' ELSE 'open' END,
        (SELECT alert_id FROM s))
ON CONFLICT (id) DO UPDATE SET
    severity = excluded.severity,
    severity_rank = excluded.severity_rank,
    score = excluded.score,
    window_end = excluded.window_end,
    evidence = excluded.evidence,
    detector = excluded.detector,
    status = CASE WHEN alerts.status = 'suppressed' THEN excluded.status ELSE alerts.status END,
    suppressed_by = CASE WHEN alerts.status = 'suppressed' THEN excluded.suppressed_by
                         ELSE alerts.suppressed_by END,
    updated_at = now()
WHERE (excluded.severity_rank, excluded.score) >= (alerts.severity_rank, alerts.score)
"""

# The transition rule of events.alert_workflow.allowed, applied in log order: of two officers'
# racing changes the later one finds the first applied. Every change is logged, applied or not.
CHANGE_STATUS = """
WITH current AS (SELECT status FROM alerts WHERE id = %(alert_id)s),
moved AS (
    UPDATE alerts SET status = %(status)s, status_at = %(at)s, status_by = %(by)s,
                      status_comment = %(comment)s, updated_at = now()
    WHERE id = %(alert_id)s AND status <> ALL(%(final)s) AND status <> %(status)s
      AND NOT EXISTS (SELECT 1 FROM alert_status_log WHERE change_id = %(change_id)s)
    RETURNING id
)
INSERT INTO alert_status_log (change_id, alert_id, employee_id, status, previous, applied,
                              comment, by_officer, at)
VALUES (%(change_id)s, %(alert_id)s, %(employee_id)s, %(status)s, (SELECT status FROM current),
        EXISTS (SELECT 1 FROM moved), %(comment)s, %(by)s, %(at)s)
ON CONFLICT (change_id) DO NOTHING
"""
SUPPRESS = """
INSERT INTO alert_suppressions (alert_id, employee_id, kind, severity_rank, since, until,
                                by_officer, comment)
SELECT %(alert_id)s, %(employee_id)s, %(kind)s, %(severity_rank)s, %(at)s, %(suppress_until)s::timestamptz,
       %(by)s, %(comment)s
FROM alert_status_log WHERE change_id = %(change_id)s AND applied AND %(suppress_until)s::timestamptz IS NOT NULL
ON CONFLICT (alert_id) DO NOTHING
"""


def alert_row(alert: AlertRaised) -> dict[str, Any]:
    return {
        **alert.model_dump(exclude={"evidence"}),
        "severity_rank": SEVERITY_RANK[alert.severity],
        "evidence": Jsonb(alert.evidence),
    }


def change_row(change: AlertStatusChanged) -> dict[str, Any]:
    return {**change.model_dump(), "severity_rank": SEVERITY_RANK[change.severity],
            "final": sorted(FINAL)}


Event = AlertRaised | AlertStatusChanged


class AlertStore:
    """Upserts alerts and applies status changes in log order; a redelivery changes nothing."""

    def __init__(self, datastore: PostgresDatastore, positions: Positions) -> None:
        self.datastore = datastore
        self.positions = positions

    def apply(self, events: Sequence[Event], trackings: list[Tracking]) -> None:
        self.positions.commit(_statements(events), trackings)


def _statements(events: Sequence[Event]) -> list[tuple[str, list[dict[str, Any]]]]:
    """Runs of alerts and of changes, in log order: a change must find the alert it names,
    and an alert raised after a false positive must find its suppression."""
    statements: list[tuple[str, list[dict[str, Any]]]] = []
    for event in events:
        if isinstance(event, AlertRaised):
            pairs = [(UPSERT, alert_row(event))]
        else:
            row = change_row(event)
            pairs = [(CHANGE_STATUS, row), (SUPPRESS, row)]
        for sql, row in pairs:
            if statements and statements[-1][0] == sql and sql == UPSERT:
                statements[-1][1].append(row)
            else:
                statements.append((sql, [row]))
    return statements
