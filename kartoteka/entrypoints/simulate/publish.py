"""Writing a simulation to Kafka: employees.v1, access.v1 with historical timestamps and,
optionally, the interactions behind each agent's customers (interactions.v1), so the real
pipeline and detectors worker see the same world the in-process evaluation saw.

Event ids are derived from the run's tag, so producing the same run twice is idempotent
downstream. A simulated customer's id is the one the identity resolver will give it: the
id derived from its first interaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from events import sealing, topics
from events.catalog import AccessRecorded, EmployeeStatusChanged
from events.envelope import encode, wrap
from events.ids import KARTOTEKA_NS, customer_id_for, interaction_id
from kartoteka import kafka
from kartoteka.entrypoints.simulate.model import Employee, Staff
from kartoteka.keystore import KeyRing, ensure_sync, master_key
from kartoteka.settings import Settings
from services.projections.detect.detectors import Access

SOURCE = "kartoteka/simulate-staff"
Record = tuple[str, bytes, bytes]
ROUTES = {
    "customer.search": "/v1/customers",
    "customer.card": "/v1/customers/{customer_id}",
    "customer.timeline": "/v1/customers/{customer_id}/timeline",
    "customer.export": "/v1/customers/{customer_id}/export",
}


class Publisher:
    """Maps simulated names to real ids and produces a run's events in order."""

    def __init__(self, settings: Settings, tag: str, say: Callable[[str], None] = print) -> None:
        self.settings, self.tag, self.say = settings, tag, say
        # Sealed like ingest and the api seal (README "Personal data"): never plain on the log.
        self.ring = KeyRing(master_key(settings))
        self._audit_key: bytes | None = None
        self._conn: psycopg.Connection[Any] | None = None

    def customer_id(self, customer: str) -> str:
        return customer_id_for(interaction_id("call", f"sim-{self.tag}-{customer}-0", self.ring.id_secret))

    def phone(self, customer: str) -> str:
        n = int(uuid.uuid5(KARTOTEKA_NS, f"{self.tag}:{customer}").int % 10**9)
        return f"+79{n:09d}"

    def employees(self, staff: Staff) -> Iterator[Record]:
        for emp in staff.employees:
            start = datetime.combine(staff.start, datetime.min.time(), tzinfo=UTC)
            yield self._status(emp, "active", start)
            if emp.notice_given_at is not None:
                yield self._status(emp, emp.status, emp.notice_given_at)

    def _status(self, emp: Employee, status: str, at: datetime) -> Record:
        event = EmployeeStatusChanged(
            employee_id=emp.id, status=status, team=emp.team,  # type: ignore[arg-type]
            role="supervisor" if emp.supervisor else "agent", timezone=emp.timezone,
            schedule=emp.schedule if status == "active" else None, effective_at=at,
            changed_by=SOURCE, at=at,
        )
        return self._record(topics.EMPLOYEES, emp.id, event, f"{emp.id}:{status}")

    def accesses(self, emp: Employee, accesses: list[Access]) -> Iterator[Record]:
        for access in accesses:
            event = AccessRecorded(
                employee_id=emp.id, role="supervisor" if emp.supervisor else "agent",
                action=access.action, customer_ids=[self.customer_id(c) for c in access.customer_ids],
                at=access.at, request_id=f"sim-{self.tag}-{emp.id}-{access.offset}",
                route=ROUTES[access.action], query=access.query,
            )
            topic, key, value = self._record(topics.ACCESS, emp.id, event, f"{emp.id}:{access.offset}")
            yield topic, key, sealing.seal(self._audit(), sealing.AUDIT_SUBJECT, value)

    def interactions(self, staff: Staff, emp: Employee, accesses: list[Access]) -> Iterator[Record]:
        """One interaction per known customer (the business reason the detectors look up)."""
        first_seen = {c: a.at for a in accesses for c in a.customer_ids if c in emp.known}
        before = datetime.combine(staff.start, datetime.min.time(), tzinfo=UTC) - timedelta(days=1)
        for customer in sorted(emp.known):
            at = min(first_seen.get(customer, before), before) if customer in emp.portfolio \
                else first_seen.get(customer, before)
            yield self._interaction(customer, emp.id, at)

    def _interaction(self, customer: str, agent: str, at: datetime) -> Record:
        from services.ingest.accept import Accepted, accept

        item = {"channel": "call", "external_id": f"sim-{self.tag}-{customer}-0",
                "occurred_at": at.isoformat(), "direction": "inbound", "agent_id": agent,
                "customer": {"phone": self.phone(customer), "name": f"Клиент {customer}"}}
        accepted = accept(item, self.ring.id_secret)
        assert isinstance(accepted, Accepted), accepted
        subject = sealing.interaction_subject(accepted.id)
        data_key = ensure_sync(self.ring, self._db(), [subject])[subject]
        self.ring.forget([subject])
        key, value = sealing.interaction_record(data_key, self.ring.pepper, accepted.id, accepted.subject,
                                                accepted.record(datetime.now(UTC)))
        return topics.INTERACTIONS, key, value

    def _audit(self) -> bytes:
        if self._audit_key is None:
            self._audit_key = ensure_sync(self.ring, self._db(), [sealing.AUDIT_SUBJECT])[sealing.AUDIT_SUBJECT]
        return self._audit_key

    def _db(self) -> psycopg.Connection[Any]:
        """One connection for the run's keys, closed when ``produce`` ends."""
        if self._conn is None:
            self._conn = psycopg.connect(self.settings.dsn, autocommit=True)
        return self._conn

    def _record(self, topic: str, key: str, event: object, name: str) -> Record:
        envelope = wrap(event, id=str(uuid.uuid5(KARTOTEKA_NS, f"sim:{self.tag}:{name}")),  # type: ignore[arg-type]
                        source=SOURCE, time=event.at, subject=key)  # type: ignore[attr-defined]
        return topic, key.encode(), encode(envelope)

    def produce(self, records: Iterator[Record], total: int, what: str) -> int:
        producer = kafka.producer(self.settings, linger_ms=20)
        sent, failed = 0, list[BaseException]()
        try:
            for topic, key, value in records:
                future = producer.send(self.settings.topic(topic), key=key, value=value)
                future.add_errback(failed.append)
                sent += 1
                if sent % 5000 == 0:
                    self.say(f"\r  {what}: {sent:,}/{total:,}")
            producer.flush(120)
        finally:
            producer.close(30)
            if self._conn is not None:
                self._conn.close()
                self._conn = None
        if failed:
            raise RuntimeError(f"{len(failed)} of {sent} {what} not acknowledged: {failed[0]}")
        self.say(f"\r  {what}: {sent:,}/{total:,} acknowledged\n")
        return sent
