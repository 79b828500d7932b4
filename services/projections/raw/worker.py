"""The raw validator worker: interactions.raw.v1 -> interactions.v1 or the dead letter.

Its verdicts are records to send, so it writes them to the outbox in the transaction that
tracks its position on the raw topic; the relay publishes them. A restart at any instant
neither loses a record nor forwards one under another id (ids are deterministic; a re-sent
forward is a duplicate the resolver absorbs). A forward is exactly what ingest produces for the
same interaction: sealed under the interaction's data key, which is issued in that transaction
too (or found, for a repeat), and keyed by the token of its primary identifier.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore

from events import sealing, topics
from events.records import Outgoing
from kartoteka import outbox
from kartoteka.keystore import KeyRing, issue_sync, master_key
from services.projections.raw.validate import HEADERS, Forward, Invalid, verdict
from services.projections.records import Decoded
from services.projections.spec import Context, WorkerSpec
from services.projections.tracking import Positions

NAME = "raw"
log = logging.getLogger(__name__)


class RawValidator:
    """Every raw record gets its verdict in ``digest`` (a raw record is no envelope, so none is
    left to the runner's decode); ``apply`` writes each verdict to the outbox."""

    def __init__(self, datastore: PostgresDatastore, positions: Positions, keyring: KeyRing) -> None:
        self.datastore, self.positions, self.keyring = datastore, positions, keyring

    def digest(self, raw: bytes | None) -> Forward | Invalid:
        return verdict(raw, datetime.now(UTC), self.keyring.id_secret)

    def apply(self, items: list[Decoded], trackings: list[Tracking]) -> None:
        subjects = list(dict.fromkeys(
            sealing.interaction_subject(item.digest.id) for item in items if isinstance(item.digest, Forward)))
        with self.datastore.transaction(commit=True) as curs:
            # ISSUE keeps a key already stored (a repeat on the raw topic, or ingest's): one key per id.
            keys = issue_sync(self.keyring, curs.connection, subjects)
            outbox.write(curs, records(items, keys, self.keyring.pepper), NAME)
            self.positions.record(curs, trackings)
        self.keyring.forget(subjects)  # the validator never reads them again


def records(items: list[Decoded], keys: dict[str, bytes], pepper: bytes) -> list[Outgoing]:
    """Forwards sealed and keyed as ours (a repeat within the batch once), dead letters with their reason."""
    sending, forwarded = [], set()
    for item in items:
        outcome = item.digest
        if isinstance(outcome, Forward) and sealing.interaction_subject(outcome.id) not in keys:
            # Shredded (erased or expired): a re-sent copy must not come back under a fresh key.
            log.warning("erased interaction sent again: dropped", extra={"interaction_id": outcome.id})
        elif isinstance(outcome, Forward) and outcome.id not in forwarded:
            forwarded.add(outcome.id)  # later repeats are duplicates the resolver absorbs
            key, value = sealing.interaction_record(keys[sealing.interaction_subject(outcome.id)], pepper,
                                                    outcome.id, outcome.subject, outcome.value)
            sending.append(Outgoing(topics.INTERACTIONS, key, value, tuple(HEADERS)))
        elif isinstance(outcome, Invalid):
            where = f"{item.topic}/{item.partition}/{item.offset}"
            log.warning("raw record dead-lettered", extra={"source": where, "reason": outcome.reason[:500]})
            sending.append(Outgoing(topics.INTERACTIONS_DLQ, item.key, outcome.value, (
                ("error", outcome.reason.encode()), ("dlq-worker", NAME.encode()),
                ("dlq-source", where.encode()))))
    return sending


def _build(ctx: Context) -> RawValidator:
    return RawValidator(ctx.datastore, ctx.positions, KeyRing(master_key(ctx.settings)))


WORKER = WorkerSpec(
    name=NAME,
    consumes=(topics.INTERACTIONS_RAW,),
    produces=(topics.INTERACTIONS, topics.INTERACTIONS_DLQ),  # through the outbox and the relay
    build=_build,
)
