"""The api's data keys: the audit trail's (access events are sealed under it) and customers'
(work events are sealed under the customer's key, so an erasure shreds them too)."""

from __future__ import annotations

import uuid

import psycopg
from psycopg_pool import AsyncConnectionPool

from events import sealing
from kartoteka.http import ApiError
from kartoteka.keystore import KeyRing, ensure_async, fetch_async


class ApiKeys:
    """Reads keys through the api's read-only pool; the rare issue goes through the login."""

    def __init__(self, ring: KeyRing, pool: AsyncConnectionPool, dsn: str, audit_key: bytes) -> None:
        self.ring, self.pool, self.dsn, self.audit_key = ring, pool, dsn, audit_key

    @classmethod
    async def open(cls, ring: KeyRing, pool: AsyncConnectionPool, dsn: str) -> ApiKeys:
        async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
            audit = await ensure_async(ring, conn, [sealing.AUDIT_SUBJECT])
        return cls(ring, pool, dsn, audit[sealing.AUDIT_SUBJECT])

    def seal_audit(self, value: bytes) -> bytes:
        """Sealed under the audit trail's key, which no erasure destroys (access events, erasures)."""
        return sealing.seal(self.audit_key, sealing.AUDIT_SUBJECT, value)

    async def seal_for(self, key: str, value: bytes) -> bytes:
        """A work event keyed by a customer, sealed under that customer's key; others as they are."""
        try:
            customer = str(uuid.UUID(key))
        except ValueError:
            return value  # keyed by an employee (a handover): ids only
        subject = sealing.customer_subject(customer)
        async with self.pool.connection() as conn:
            found = await fetch_async(self.ring, conn, [subject])
        if subject not in found:  # a customer from before encryption: its key is made now
            async with await psycopg.AsyncConnection.connect(self.dsn, autocommit=True) as conn:
                found = await ensure_async(self.ring, conn, [subject])
        if subject not in found:  # shredded: an erasure ran between the route's check and now
            raise ApiError(410, "gone", "customer erased")
        return sealing.seal(found[subject], subject, value)
