"""What the shared runner hands a projection: decoded records, and what a projection provides."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from eventsourcing.persistence import Tracking
from kafka import TopicPartition
from kafka.consumer.fetcher import ConsumerRecord
from pydantic import BaseModel

from events import catalog as _catalog  # noqa: F401  (registers the event types)
from events import duplicates as _duplicates  # noqa: F401
from events import identity as _identity  # noqa: F401
from events import privacy as _privacy  # noqa: F401
from events.envelope import Envelope, EventDecodeError, decode
from services.projections.dead_letters import Poison
from services.projections.sealed_records import SHREDDED


class Decoded:
    """A record that parsed into a known event (treat as read-only).

    A projection that decodes its common records its own way (``Projection.digest``) gets
    its ``digest`` here; the envelope and payload of such a record are decoded only if asked for.
    """

    # Slotted, with a plain __init__: one is built per record (bench/README.md).
    __slots__ = ("partition", "offset", "key", "topic", "digest", "_envelope", "_payload", "_raw")

    def __init__(self, partition: int, offset: int, key: bytes | None,
                 envelope: Envelope | None = None, payload: BaseModel | None = None,
                 topic: str = "", *, digest: object = None, raw: bytes | None = None) -> None:
        if envelope is None and raw is None:
            raise ValueError("a Decoded needs its envelope or its raw value")
        self.partition, self.offset, self.key, self.topic = partition, offset, key, topic
        self.digest = digest
        self._envelope, self._payload, self._raw = envelope, payload, raw

    @property
    def envelope(self) -> Envelope:
        if self._envelope is None:
            self._envelope, self._payload = decode(self._raw)
        return self._envelope

    @property
    def payload(self) -> BaseModel:
        if self._payload is None:
            self._envelope, self._payload = decode(self._raw)
        return self._payload

    def __repr__(self) -> str:
        return f"Decoded({self.topic}/{self.partition}/{self.offset})"


class Projection(Protocol):
    """What a worker plugs into the runner (its name and topics are in its ``WorkerSpec``)."""

    def apply(self, items: list[Decoded], trackings: list[Tracking]) -> None:
        """Write the effects of ``items`` and the ``trackings`` in one transaction."""


class Digesting(Protocol):
    """A projection may also read its common records without the contract's models.

    ``digest(value)`` returns what its ``apply`` needs of the record, or None to leave the
    record to the full decode. It must only accept records the full decode accepts, so a
    poison record is still dead-lettered with the decode's reason.
    """

    def digest(self, raw: bytes | None) -> object | None: ...


def last_offsets(records: list[ConsumerRecord]) -> dict[TopicPartition, int]:
    """The highest offset of each topic-partition among ``records``."""
    last: dict[tuple[str, int], int] = {}
    for record in records:
        key = (record.topic, record.partition)
        if last.get(key, -1) < record.offset:
            last[key] = record.offset
    return {TopicPartition(topic, partition): offset for (topic, partition), offset in last.items()}


def decode_batch(fresh: list[ConsumerRecord], digest: Callable[[bytes | None], object | None] | None,
                 values: list[Any] | None = None) -> tuple[list[Decoded], list[Poison]]:
    """Decode polled records; those the contract refuses are poison, with the decoder's reason.

    ``values`` are the records' values opened (``sealed_records.Opener``); a SHREDDED one is
    skipped: its key was destroyed, there is nothing left to apply.
    """
    good: list[Decoded] = []
    poison: list[Poison] = []
    for record, value in zip(fresh, values if values is not None else [r.value for r in fresh], strict=True):
        if value is SHREDDED:
            continue
        if digest is not None and (digested := digest(value)) is not None:
            good.append(Decoded(record.partition, record.offset, record.key, topic=record.topic,
                                digest=digested, raw=value))
            continue
        try:
            envelope, payload = decode(value)
            good.append(Decoded(record.partition, record.offset, record.key, envelope, payload, record.topic))
        except EventDecodeError as exc:
            poison.append(Poison(record, str(exc)))
    return good, poison
