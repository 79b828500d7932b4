"""What the relay publishes from: logs in PostgreSQL whose rows are numbered in commit order.

The identity log (eventsourcing notifications, encoded for customers.v1) and the outbox
(records senders wrote with their state, one source per topic).
"""

from __future__ import annotations

from typing import Protocol

from eventsourcing.postgres import PostgresDatastore

from events import topics
from events.records import Outgoing
from kartoteka import outbox
from kartoteka.keystore import KeyRing, fetch_sync
from services.projections.identity.customer_records import PUBLIC, contract_record, subject_of
from services.projections.identity.identity_log import IdentityLog


class Source(Protocol):
    """A numbered log of records for one topic."""

    topic: str
    every_s: float  # how often an idle source is polled

    def after(self, position: int, limit: int) -> list[tuple[int, Outgoing | None]]:
        """Up to ``limit`` rows past ``position``, in order; None for a row not published."""

    def last(self) -> int:
        """The number of the last row (0 when empty)."""


class IdentitySource:
    """The recorded identity log, published as customers.v1 events keyed by customer, each
    sealed under its interaction's or customer's key; an event whose key was destroyed (an
    erased customer, an expired interaction) is not published (but an erasure itself is)."""

    topic = topics.CUSTOMERS
    every_s = 0.05  # the card's freshness waits on it

    def __init__(self, identity: IdentityLog, ring: KeyRing) -> None:
        self.identity = identity
        self.ring = ring

    def after(self, position: int, limit: int) -> list[tuple[int, Outgoing | None]]:
        rows: list[tuple[int, Outgoing | None]] = []
        notifications = self.identity.notifications(after=position, limit=limit)
        subjects = [subject_of(n) for n in notifications]
        with self.identity.datastore.get_connection() as conn:
            keys = fetch_sync(self.ring, conn, subjects)
        for notification, subject in zip(notifications, subjects, strict=True):
            key = keys.get(subject)
            if key is None and notification.topic not in PUBLIC:
                rows.append((notification.id, None))  # shredded
                continue
            record = contract_record(notification, key)
            rows.append((notification.id, None if record is None else Outgoing(
                self.topic, record[0].encode(), record[1], tuple(record[2]))))
        return rows

    def last(self) -> int:
        return self.identity.recorder.max_notification_id() or 0


class OutboxSource:
    """The outbox rows of one topic."""

    every_s = 0.5  # alerts and checkpoints: readers that can wait, like the audit side's workers

    def __init__(self, datastore: PostgresDatastore, topic: str) -> None:
        self.datastore, self.topic = datastore, topic

    def after(self, position: int, limit: int) -> list[tuple[int, Outgoing | None]]:
        with self.datastore.transaction(commit=False) as curs:
            return list(outbox.after(curs, self.topic, position, limit))

    def last(self) -> int:
        with self.datastore.transaction(commit=False) as curs:
            return outbox.last(curs, self.topic)
