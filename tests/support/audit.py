"""Test helpers for the audit: access events on access.v1, and database queries as the owner."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from events import topics
from events.catalog import AccessAction, AccessRecorded
from events.envelope import encode, wrap
from kartoteka.settings import Settings
from tests.support.kafka_tools import Raw, produce


def access(
    employee_id: str = "emp-42",
    action: AccessAction = "customer.card",
    customer_ids: Iterable[str] = (),
    at: datetime | None = None,
    query: str | None = None,
    role: str = "agent",
) -> Raw:
    """One access event as the api produces it."""
    event = AccessRecorded(
        employee_id=employee_id,
        role=role,
        action=action,
        customer_ids=list(customer_ids),
        at=at or datetime.now(UTC),
        request_id=str(uuid.uuid4()),
        client="10.0.0.7",
        route="/v1/customers/{customer_id}",
        query=query,
    )
    envelope = wrap(event, id=str(uuid.uuid4()), source="tests", time=event.at,
                    subject=employee_id)
    return employee_id.encode(), encode(envelope), [("event-type", envelope.type.encode())]


def produce_accesses(settings: Settings, records: Iterable[Raw]) -> int:
    return produce(settings, settings.topic(topics.ACCESS), records)


def rows(dsn: str, query: str, params: Any = None) -> list[dict[str, Any]]:
    with psycopg.connect(dsn, row_factory=dict_row) as conn:
        return conn.execute(query, params).fetchall()


def count(dsn: str, query: str, params: Any = None) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(query, params).fetchone()
        return int(row[0]) if row else 0


def as_attacker(dsn: str, *statements: str) -> None:
    """Rewrite the trail as someone with the owner's rights would: triggers off first."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("ALTER TABLE access_log DISABLE TRIGGER USER")
        try:
            for statement in statements:
                conn.execute(statement)  # type: ignore[arg-type]
        finally:
            conn.execute("ALTER TABLE access_log ENABLE TRIGGER USER")
