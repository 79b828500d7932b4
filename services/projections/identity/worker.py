"""Identity resolver: interactions.v1 + identity.commands.v1 -> customer events, with positions."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from eventsourcing.persistence import RecordConflictError, StoredEvent, Tracking
from pydantic import BaseModel

from events import sealing
from events import topics as topic_names
from events.duplicates import MergeRequested
from events.identity import SplitRequested
from events.interaction import Interaction
from events.privacy import ErasureRequested, HoldPlaced
from kartoteka.keystore import KeyRing, master_key
from services.projections.identity import erasure
from services.projections.identity import index_sql as sql
from services.projections.identity import stored_events as stored
from services.projections.identity.decide import (
    Attribute,
    Command,
    Flag,
    Hold,
    Item,
    Link,
    Merge,
    Reattribute,
    Refuse,
    Register,
    Remember,
    Split,
    Unlink,
    decide,
)
from services.projections.identity.guards import GuardConfig, guard_config
from services.projections.identity.identity_log import IdentityLog, Statement
from services.projections.identity.interaction_digest import InteractionEnvelope, digest
from services.projections.identity.plain_upgrade import tokenise_plain_rows
from services.projections.identity.stored_events import EventLog
from services.projections.records import Decoded
from services.projections.spec import Context, WorkerSpec
from services.projections.tracking import Positions

log = logging.getLogger(__name__)
CONFLICT_RETRIES = 5


class IdentityResolver:
    """Decides (pure) and records (eventsourcing), nothing else."""

    def __init__(self, log_: IdentityLog, positions: Positions, guards: GuardConfig | None = None,
                 keyring: KeyRing | None = None) -> None:
        self.log = log_
        self.positions = positions
        self.guards = guards or GuardConfig()
        # Personal fields are sealed in the event store: the interaction under its own key,
        # identifier values under the customer's (the runner opens records with the same ring).
        self.keyring = keyring

    def digest(self, raw: bytes | None) -> InteractionEnvelope | None:
        return digest(raw)

    def apply(self, items: list[Decoded], trackings: list[Tracking]) -> None:
        batch: list[Item] = []
        privacy: list[ErasureRequested | HoldPlaced] = []
        for d in items:
            if isinstance(d.digest, InteractionEnvelope):
                batch.append((d.digest.id, d.digest.data))
            elif isinstance(d.payload, Interaction | SplitRequested | MergeRequested):
                batch.append((d.envelope.id, d.payload))
            elif isinstance(d.payload, ErasureRequested | HoldPlaced):
                privacy.append(d.payload)
        if privacy:
            # The batch's interactions first (an erasure must cover those attributed with it),
            # then the erasures with the positions; a crash between them replays as duplicates.
            self._decide(batch, [])
            erasure.apply(self.log, privacy, trackings)
            return
        self._decide(batch, trackings)

    def _decide(self, batch: list[Item], trackings: list[Tracking]) -> None:
        for attempt in range(CONFLICT_RETRIES):
            try:
                self._apply_once(batch, trackings)
                return
            except RecordConflictError:
                # Another resolver recorded part of this batch first: decide again on fresh state.
                log.warning("identity conflict; deciding again", extra={"attempt": attempt + 1})
                trackings = self._unrecorded(trackings)
        self._apply_once(batch, trackings)

    def _apply_once(self, batch: list[Item], trackings: list[Tracking]) -> None:
        interactions = [(i, x) for i, x in batch if isinstance(x, Interaction)]
        splits = [x for _, x in batch if isinstance(x, SplitRequested)]
        keys = sorted({i.key for _, x in interactions for i in x.customer.identifiers()}
                      | {k for s in splits for k in s.keys})
        mentioned = [c for s in splits for c in (s.customer_id, s.target_customer_id) if c]
        mentioned += [c for _, x in batch if isinstance(x, MergeRequested) for c in x.customer_ids]
        snapshot = self.log.snapshot(keys, [i for i, _ in interactions], mentioned,
                                     [k for s in splits for k in s.keys])
        commands = decide(batch, snapshot, self.guards)
        sealing_keys = self.log.data_keys(self.keyring, _subjects(commands)) if self.keyring else None
        events, writes = _Materialiser(self.log, sealing_keys).run(commands)
        self.log.record(events, trackings, writes)

    def _unrecorded(self, trackings: list[Tracking]) -> list[Tracking]:
        recorded = self.positions.get(t.application_name for t in trackings)
        return [t for t in trackings if (recorded[t.application_name] or -1) < t.notification_id]


class _Materialiser:
    """Turns commands into the aggregates' stored events and the resolver's index writes, in order."""

    def __init__(self, log_: IdentityLog, keys: dict[str, bytes] | None = None) -> None:
        self.log = log_
        self.keys = keys
        self.inserts: dict[str, list[tuple[Any, ...]]] = {}
        self.updates: list[Statement] = []
        self.events = EventLog({}, datetime.now(UTC))
        self.first_customer: dict[str, str] = {}  # interaction -> customer it was attributed to
        self.traits: dict[str, tuple[Any, ...]] = {}  # customer -> its traits at the end of the batch

    def run(self, commands: list[Command]) -> tuple[list[StoredEvent], list[Statement]]:
        customers, attributions = _touched(commands)
        self.events = EventLog(self.log.versions(sorted(customers | attributions)), datetime.now(UTC))
        self.first_customer = self.log.attributed_to(sorted(attributions))
        for command in commands:
            self._apply(command)
        traits: list[Statement] = [(sql.TRAITS, list(self.traits.values()))] if self.traits else []
        return self.events.stored(), [*self.inserts.items(), *self.updates, *traits]

    def _write(self, statement: str, *params: Any) -> None:
        """One statement per kind of insert (all rows as arrays), then the updates in decision order.

        Nothing a batch inserts depends on an update of the same batch, while merges and splits
        must update rows the batch just inserted; one statement per row was 30,000 round trips
        per 10,000 interactions.
        """
        if statement in sql.BULK:
            self.inserts.setdefault(statement, []).append(params)
        elif self.updates and self.updates[-1][0] == statement:
            self.updates[-1][1].append(params)
        else:
            self.updates.append((statement, [params]))

    def _sealed(self, subject: str, text: str) -> str:
        return text if self.keys is None else sealing.seal_field(self.keys[subject], subject, text)

    def _keys(self, customer_id: str, keys: Any) -> list[str]:
        """Identifier keys (``phone:+7...``) as the customer's event stores them: sealed."""
        subject = sealing.customer_subject(customer_id)
        return [self._sealed(subject, k) for k in keys]

    def _link(self, customer_id: str, kind: str, value: str, *rest: Any) -> None:
        sealed = self._sealed(sealing.customer_subject(customer_id), value)
        self._customer(customer_id, stored.LINKED, kind, sealed, *rest)

    def _customer(self, customer_id: str, kind: stored.Kind, *values: Any) -> None:
        self.events.append(self.events.customers, customer_id, kind, values)

    def _apply(self, c: Command) -> None:  # noqa: C901 - one branch per command kind
        events = self.events
        if isinstance(c, Register):
            events.create(events.customers, c.customer_id, stored.REGISTERED, stored.REGISTERED.state(
                events.timestamp, (c.interaction_id, events.when(c.at), c.split_from)))
            self._write(sql.REGISTER, c.customer_id, c.at)
        elif isinstance(c, Link):
            i = c.identifier
            self._link(c.customer_id, i.kind, i.value, i.valid, c.interaction_id, c.channel,
                       events.when(c.at))
            token = self.log.token(i.key)
            self._write(sql.INDEX if c.matchable else sql.UNMATCHED, c.customer_id, token)
            self._write(sql.MEMBER_KEY, c.customer_id, token)
        elif isinstance(c, Attribute):
            # The interaction as it was validated on the way in: stored as its own JSON.
            interaction = _json_bytes(c.interaction)
            if self.keys is not None:
                subject = sealing.interaction_subject(c.interaction_id)
                sealed = sealing.seal_field(self.keys[subject], subject, interaction.decode())
                interaction = sealing.quote(sealed).encode()
            events.create(events.attributions, c.interaction_id, stored.ATTRIBUTED, stored.attributed_state(
                events.timestamp, c.interaction_id, c.customer_id, interaction))
            self.first_customer[c.interaction_id] = c.customer_id
            self._write(sql.ATTRIBUTE, c.interaction_id, c.customer_id, "\n".join(map(self.log.token, c.keys)))
        elif isinstance(c, Merge):
            at = events.when(c.at)
            self._customer(c.survivor_id, stored.ABSORBED, c.merged_id, c.interaction_id,
                           self._keys(c.survivor_id, c.keys), at)
            self._customer(c.merged_id, stored.MERGED_INTO, c.survivor_id, c.interaction_id,
                           self._keys(c.merged_id, c.keys), at)
            for statement in sql.MERGE:
                self._write(statement, c.survivor_id, c.merged_id)
            self._write(sql.MERGE_TIMES, c.at, list(map(self.log.token, c.keys)))
        elif isinstance(c, Flag):
            self._customer(c.customer_id, stored.FLAGGED, list(c.others), self._keys(c.customer_id, [c.key])[0],
                           c.interaction_id, c.reason,
                           events.when(c.at))
        elif isinstance(c, Unlink):
            self._customer(c.customer_id, stored.UNLINKED, self._keys(c.customer_id, [c.key])[0], c.command_id,
                           events.when(c.at))
            self._write(sql.UNLINK_MEMBERS, self.log.token(c.key), c.customer_id, c.customer_id)
        elif isinstance(c, Split):
            cmd = c.command
            at = events.when(cmd.at)
            self._customer(c.source_id, stored.SPLIT_OFF, c.target_id, self._keys(c.source_id, c.keys),
                           list(c.interaction_ids),
                           cmd.command_id, cmd.requested_by, cmd.reason, at)
            for key in c.keys:
                kind, value = key.split(":", 1)
                self._link(c.target_id, kind, value, True, cmd.command_id, "split", at)
            self._write(sql.MOVE_KEYS, c.target_id, list(map(self.log.token, c.keys)))
            self._write(sql.SEPARATE, *sorted((c.source_id, c.target_id)))
            for key in c.keys:
                self._write(sql.MEMBER_KEY, c.target_id, self.log.token(key))
            for member in c.members:
                self._write(sql.REHOME, c.target_id, member)
        elif isinstance(c, Reattribute):
            events.append(events.attributions, c.interaction_id, stored.REATTRIBUTED,
                          (c.from_customer_id, c.customer_id, c.command_id, self.first_customer[c.interaction_id]))
            self._write(sql.REATTRIBUTE, c.customer_id, c.interaction_id)
        elif isinstance(c, Hold):
            self._write(sql.HOLD, self.log.token(c.key), c.customer_id)
        elif isinstance(c, Remember):
            t = c.traits
            self.traits[c.customer_id] = (c.customer_id, t.birth_date, t.first_name, t.surname)
        elif isinstance(c, Refuse):
            log.warning("identity command refused", extra={"command_id": c.command_id, "reason": c.reason})


def _json_bytes(model: BaseModel) -> bytes:
    """``model.model_dump_json().encode()`` without the round trip through str."""
    return type(model).__pydantic_serializer__.to_json(model)  # type: ignore[no-any-return]


def _subjects(commands: list[Command]) -> list[str]:
    """The data keys the materialised events are sealed under."""
    out = []
    for c in commands:
        if isinstance(c, Attribute):
            out.append(sealing.interaction_subject(c.interaction_id))
        elif isinstance(c, Link | Flag | Unlink):
            out.append(sealing.customer_subject(c.customer_id))
        elif isinstance(c, Merge):
            out += [sealing.customer_subject(c.survivor_id), sealing.customer_subject(c.merged_id)]
        elif isinstance(c, Split):
            out += [sealing.customer_subject(c.target_id), sealing.customer_subject(c.source_id)]
    return out


def _touched(commands: list[Command]) -> tuple[set[str], set[str]]:
    """Customers and attributions the commands append to that exist already (not created here)."""
    customers: set[str] = set()
    attributions: set[str] = set()
    created: set[str] = set()
    for c in commands:
        if isinstance(c, Register):
            created.add(c.customer_id)
        elif isinstance(c, Attribute):
            created.add(c.interaction_id)
        elif isinstance(c, Link | Flag | Unlink):
            customers.add(c.customer_id)
        elif isinstance(c, Merge):
            customers.update((c.survivor_id, c.merged_id))
        elif isinstance(c, Split):
            customers.update((c.source_id, c.target_id))
        elif isinstance(c, Reattribute):
            attributions.add(c.interaction_id)
    return customers - created, attributions - created


def _build(ctx: Context) -> IdentityResolver:
    ring = KeyRing(master_key(ctx.settings))
    log_ = IdentityLog(ctx.datastore, ring.pepper)
    upgraded = tokenise_plain_rows(log_)
    if upgraded:
        log.info("identity lookups tokenised", extra={"rows": upgraded})
    return IdentityResolver(log_, ctx.positions, guard_config(ctx.settings), ring)


# The identity log is the record of truth (eventsourcing), not a read model.
WORKER = WorkerSpec(
    name="resolver", consumes=(topic_names.INTERACTIONS, topic_names.IDENTITY_COMMANDS), produces=(),
    build=_build,
)
