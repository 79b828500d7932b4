"""The outbox relay: publishes the recorded identity log to customers.v1 from a tracked position.

Never "save, then send": the resolver only records; this relay reads what was recorded
and publishes it, then records how far it got. A crash republishes at most one batch,
which the projections absorb because their writes are idempotent.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from eventsourcing.persistence import Notification, Tracking
from kafka import KafkaAdminClient, KafkaProducer
from pydantic import BaseModel

from events import topics
from events.catalog import CustomerRegistered, IdentifierLinked, InteractionAttributed
from events.envelope import serialise, type_of
from events.identity import (
    CustomerMerged,
    CustomerSplit,
    IdentifierUnlinked,
    InteractionReattributed,
    SuspiciousLinkRecorded,
)
from events.ids import derived_event_id
from events.interaction import Interaction
from kartoteka import kafka
from kartoteka.settings import Settings
from services.projections.identity.domain import Attribution, Customer
from services.projections.identity.store import IdentityLog
from services.projections.runner import RESET_CHECK_S, _write_json
from services.projections.tracking import Positions

log = logging.getLogger(__name__)
SOURCE = "kartoteka/identity"


def translate(event: object) -> BaseModel | None:
    """An identity domain event as the contract event published on customers.v1 (None: not published)."""
    cid = str(getattr(event, "originator_id", ""))
    if isinstance(event, Customer.Registered):  # type: ignore[attr-defined]
        return CustomerRegistered(customer_id=cid, first_interaction_id=event.first_interaction_id,
                                  at=event.at)
    if isinstance(event, Customer.IdentifierLinked):  # type: ignore[attr-defined]
        return IdentifierLinked(customer_id=cid, kind=event.kind, value=event.value, valid=event.valid,
                                interaction_id=event.interaction_id, channel=event.channel, at=event.at)
    if isinstance(event, Customer.IdentifierUnlinked):  # type: ignore[attr-defined]
        return IdentifierUnlinked(customer_id=cid, key=event.key, command_id=event.command_id, at=event.at)
    if isinstance(event, Customer.MergedInto):  # type: ignore[attr-defined]
        return CustomerMerged(survivor_id=event.survivor_id, merged_id=cid,
                              interaction_id=event.interaction_id, keys=event.keys, at=event.at)
    if isinstance(event, Customer.SplitOff):  # type: ignore[attr-defined]
        return CustomerSplit(source_id=cid, target_id=event.target_id, keys=event.keys,
                             interaction_ids=event.interaction_ids, command_id=event.command_id,
                             requested_by=event.requested_by, reason=event.reason, at=event.at)
    if isinstance(event, Customer.SuspiciousLinkFlagged):  # type: ignore[attr-defined]
        return SuspiciousLinkRecorded(customer_id=cid, other_customer_ids=event.others, key=event.key,
                                      interaction_id=event.interaction_id, reason=event.reason,
                                      at=event.at)
    if isinstance(event, Attribution.Attributed):  # type: ignore[attr-defined]
        return InteractionAttributed(customer_id=event.customer_id, interaction_id=event.interaction_id,
                                     interaction=Interaction.model_validate(event.interaction))
    if isinstance(event, Attribution.Reattributed):  # type: ignore[attr-defined]
        return InteractionReattributed(interaction_id=cid, from_customer_id=event.from_customer_id,
                                       customer_id=event.customer_id, command_id=event.command_id,
                                       original_customer_id=event.original_customer_id)
    if isinstance(event, Customer.Absorbed):  # type: ignore[attr-defined]
        return None  # the merged side's event carries the merge
    raise TypeError(f"no contract event for {type(event).__name__}")


def _key_of(contract: BaseModel) -> str:
    """Events about one customer share its key, so they stay in order on customers.v1."""
    if isinstance(contract, CustomerMerged):
        return contract.merged_id  # after every earlier event of the merged customer
    if isinstance(contract, CustomerSplit):
        return contract.source_id
    if isinstance(contract, InteractionReattributed):
        return contract.original_customer_id  # after the interaction's attribution
    return str(contract.customer_id)  # type: ignore[attr-defined]


class Relay:
    """Polls the identity log and publishes it in notification order, keyed by customer."""

    name = "relay"

    def __init__(
        self,
        settings: Settings,
        identity: IdentityLog,
        positions: Positions,
        status_file: Path | None = None,
        batch: int = 2000,
    ) -> None:
        self.settings, self.identity, self.positions = settings, identity, positions
        self.topic = settings.topic(topics.CUSTOMERS)
        self.status_file = status_file
        self.batch = batch
        self.stopping = threading.Event()
        self.published = 0
        self._status_at = 0.0

    def run(self) -> None:
        kafka.ensure_topics(self.settings)
        producer = kafka.producer(self.settings)
        admin = kafka.admin(self.settings)
        name = self._position_name(admin)
        position = self.positions.get([name])[name] or 0
        checked = time.monotonic()
        try:
            while not self.stopping.is_set():
                if time.monotonic() - checked > RESET_CHECK_S:
                    checked = time.monotonic()
                    current = self._position_name(admin, fallback=name)
                    if current != name:
                        log.warning("customers topic recreated; republishing from the start",
                                    extra={"old": name, "new": current})
                        name, position = current, self.positions.get([current])[current] or 0
                notifications = self.identity.recorder.select_notifications(
                    start=position, limit=self.batch, inclusive_of_start=False
                )
                if notifications:
                    self._publish(producer, notifications)
                    position = notifications[-1].id
                    self.positions.record_now(Tracking(name, position))
                    self.published += len(notifications)
                self._status(position, notifications)
                if len(notifications) < self.batch:
                    self.stopping.wait(0.05)
        finally:
            producer.flush(30)
            producer.close(10)
            admin.close()

    def _position_name(self, admin: KafkaAdminClient, fallback: str | None = None) -> str:
        """Named by the topic's id: a recreated topic (in-memory broker restart) starts from zero."""
        try:
            topic_id = kafka.topic_ids(self.settings, [self.topic], admin)[self.topic]
            if not topic_id:  # the topic is gone: recreate it first
                kafka.ensure_topics(self.settings)
                topic_id = kafka.topic_ids(self.settings, [self.topic], admin)[self.topic]
        except Exception:
            if fallback is None:
                raise
            return fallback
        return f"{self.name}:{self.topic}:{topic_id}"

    def _publish(self, producer: KafkaProducer, notifications: Sequence[Notification]) -> None:
        futures = []
        for notification in notifications:
            event = self.identity.mapper.to_domain_event(notification)
            contract = translate(event)
            if contract is None:
                continue
            key = _key_of(contract)
            value = serialise(
                contract,
                id=derived_event_id(str(notification.originator_id), notification.originator_version),
                source=SOURCE,
                time=event.timestamp,  # type: ignore[attr-defined]
                subject=key,
                sequence=notification.id,
            )
            futures.append(
                producer.send(self.topic, key=key.encode(), value=value,
                              headers=[("event-type", type_of(contract).encode())])
            )
        producer.flush(30)
        for future in futures:
            future.get(timeout=30)  # raises if any record was not acknowledged

    def _status(self, position: int, notifications: Sequence[Notification]) -> None:
        if self.status_file is None or time.monotonic() - self._status_at < 0.3:
            return
        self._status_at = time.monotonic()
        last = notifications[-1].id if notifications else position
        pending = (self.identity.recorder.max_notification_id() or 0) - last
        _write_json(
            self.status_file,
            {
                "projection": self.name,
                "lag": max(0, pending),
                "processed": self.published,
                "at": time.time(),
            },
        )
