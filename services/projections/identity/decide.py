"""Pure identity decisions: from interactions, split commands and a snapshot of the graph to commands.

Merges: an interaction carrying identifiers of several customers joins them; the oldest
customer survives. Guards hold back merges through junk values, across customers an
officer has split apart, and through identifiers that already joined too many people.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from events.duplicates import MergeRequested
from events.identifiers import Identifier
from events.identity import SplitRequested
from events.ids import customer_id_for, split_target_id
from events.interaction import Interaction
from services.projections.identity.guards import (
    GuardConfig,
    Traits,
    conflict,
    is_junk,
    merges_exhausted,
    traits_of,
)


@dataclass(frozen=True)
class Register:
    """A customer nobody knew yet."""

    customer_id: str
    interaction_id: str
    at: datetime
    split_from: str | None = None


@dataclass(frozen=True)
class Link:
    """An identifier now proven to belong to a customer; ``matchable`` ones are indexed."""

    customer_id: str
    identifier: Identifier
    interaction_id: str
    channel: str
    at: datetime
    matchable: bool = True


@dataclass(frozen=True)
class Attribute:
    """An interaction belongs to a customer."""

    customer_id: str
    interaction_id: str
    interaction: Interaction
    keys: tuple[str, ...]


@dataclass(frozen=True)
class Merge:
    """``merged_id`` joins ``survivor_id``; the interaction and keys are the evidence."""

    survivor_id: str
    merged_id: str
    interaction_id: str
    keys: tuple[str, ...]
    at: datetime


@dataclass(frozen=True)
class Flag:
    """A link held back by a guard, recorded on the customer it would have touched."""

    customer_id: str
    others: tuple[str, ...]
    key: str
    interaction_id: str
    reason: str
    at: datetime


@dataclass(frozen=True)
class Unlink:
    customer_id: str
    key: str
    command_id: str
    at: datetime


@dataclass(frozen=True)
class Split:
    source_id: str
    target_id: str
    keys: tuple[str, ...]
    interaction_ids: tuple[str, ...]
    command: SplitRequested


@dataclass(frozen=True)
class Reattribute:
    interaction_id: str
    from_customer_id: str
    customer_id: str
    command_id: str


@dataclass(frozen=True)
class Refuse:
    """A command that cannot be carried out; dead-lettered with the reason."""

    command_id: str
    reason: str


@dataclass(frozen=True)
class Remember:
    """A customer's strong attributes, now known (or known better)."""

    customer_id: str
    traits: Traits


Command = Register | Link | Attribute | Merge | Flag | Unlink | Split | Reattribute | Refuse | Remember


@dataclass
class Snapshot:
    """What the resolver knows of the graph around one batch (loaded by the store)."""

    owners: dict[str, str] = field(default_factory=dict)  # identifier key -> customer
    merged_into: dict[str, str] = field(default_factory=dict)  # customer -> direct survivor
    registered: dict[str, datetime] = field(default_factory=dict)  # customer -> registered at
    separated: set[frozenset[str]] = field(default_factory=set)
    merge_times: dict[str, list[datetime]] = field(default_factory=dict)
    attributed: set[str] = field(default_factory=set)
    unmatched: set[tuple[str, str]] = field(default_factory=set)  # (customer, key) kept, never matched
    # interaction -> (customer, keys), for the customers a split in this batch touches
    attributions: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)
    traits: dict[str, Traits] = field(default_factory=dict)  # customer -> birth date, names


Item = tuple[str, Interaction | SplitRequested | MergeRequested]


def decide(items: Sequence[Item], snapshot: Snapshot, config: GuardConfig | None = None) -> list[Command]:
    """Commands for a batch, in order; later items see what earlier ones decided."""
    state = _State(snapshot, config or GuardConfig())
    for item_id, item in items:
        if isinstance(item, SplitRequested):
            state.split(item)
        elif isinstance(item, MergeRequested):
            state.merge_requested(item)
        elif item_id not in state.snap.attributed:
            state.snap.attributed.add(item_id)
            state.interaction(item_id, item)
    return state.commands


class _State:
    def __init__(self, snapshot: Snapshot, config: GuardConfig) -> None:
        self.snap = snapshot
        self.config = config
        self.commands: list[Command] = []
        self.matchable: dict[Identifier, bool] = {}  # customers come back within a batch

    def resolve(self, customer_id: str) -> str:
        merged_into = self.snap.merged_into
        if customer_id not in merged_into:
            return customer_id
        seen = set()
        while customer_id in merged_into and customer_id not in seen:
            seen.add(customer_id)
            customer_id = merged_into[customer_id]
        return customer_id

    def _matchable(self, identifier: Identifier) -> bool:
        found = self.matchable.get(identifier)
        if found is None:
            found = self.matchable[identifier] = is_junk(identifier, self.config) is None
        return found

    def owner(self, key: str) -> str | None:
        found = self.snap.owners.get(key)
        return self.resolve(found) if found else None

    def interaction(self, interaction_id: str, interaction: Interaction) -> None:
        identifiers = interaction.customer.identifiers()
        matchable = [i for i in identifiers if self._matchable(i)]
        owners = list(dict.fromkeys(o for i in matchable if (o := self.owner(i.key))))
        at = interaction.occurred_at
        if owners:
            customer_id = min(owners, key=lambda c: (self.snap.registered.get(c, at), c))
            self._join(customer_id, owners, matchable, interaction_id, at)
        else:
            customer_id = customer_id_for(interaction_id)
            self.snap.registered[customer_id] = at
            self.commands.append(Register(customer_id, interaction_id, at))
        for identifier in identifiers:
            self._link(customer_id, identifier, identifier in matchable, interaction_id, interaction)
        self._remember(customer_id, traits_of(interaction.customer.name, interaction.details.get("birth_date")))
        keys = tuple(i.key for i in matchable)
        self.snap.attributions[interaction_id] = (customer_id, keys)
        self.commands.append(Attribute(customer_id, interaction_id, interaction, keys))

    def _join(self, survivor: str, owners: list[str], matchable: list[Identifier],
              interaction_id: str, at: datetime) -> None:
        for other in owners:
            if other == survivor:
                continue
            # Every identifier on either side joins them: a shared number shows up as the
            # survivor's key, joining one stranger after another.
            keys = tuple(i.key for i in matchable if self.owner(i.key) in (survivor, other))
            reason = self._merge_refusal(survivor, other, keys, at)
            if reason:
                self.commands.append(Flag(survivor, (other,), keys[0], interaction_id, reason, at))
                self.commands.append(Flag(other, (survivor,), keys[0], interaction_id, reason, at))
                continue
            for key in keys:
                self.snap.merge_times.setdefault(key, []).append(at)
            self.snap.merged_into[other] = survivor
            self.commands.append(Merge(survivor, other, interaction_id, keys, at))
            self._remember(survivor, self.snap.traits.get(other, Traits()))

    def _merge_refusal(self, survivor: str, other: str, keys: tuple[str, ...], at: datetime) -> str | None:
        if frozenset((survivor, other)) in self.snap.separated:
            return "these customers were split apart; merge them by hand if they are one person"
        if any(merges_exhausted(self.snap.merge_times.get(k, []), at, self.config) for k in keys):
            return (f"identifier already joined {self.config.max_merges_per_identifier} customers "
                    f"within {self.config.merge_window.days} days (shared number or address?)")
        found = conflict(self.snap.traits.get(survivor, Traits()), self.snap.traits.get(other, Traits()))
        return f"shared identifier, but {found}: held for review" if found else None

    def _remember(self, customer_id: str, seen: Traits) -> None:
        known = self.snap.traits.get(customer_id, Traits())
        better = known.filled_from(seen)
        if better != known:
            self.snap.traits[customer_id] = better
            self.commands.append(Remember(customer_id, better))

    def _link(self, customer_id: str, identifier: Identifier, matchable: bool, interaction_id: str,
              interaction: Interaction) -> None:
        if matchable:
            if self.owner(identifier.key) is not None:
                return
            self.snap.owners[identifier.key] = customer_id
        else:
            if (customer_id, identifier.key) in self.snap.unmatched:
                return
            self.snap.unmatched.add((customer_id, identifier.key))
        self.commands.append(Link(customer_id, identifier, interaction_id, interaction.channel.value,
                                  interaction.occurred_at, matchable))

    def merge_requested(self, command: MergeRequested) -> None:
        """A merge a supervisor accepted: no guard applies, the proposal is the evidence."""
        a, b = (self.resolve(c) for c in command.customer_ids)
        if a == b:
            self.commands.append(Refuse(command.command_id, "the customers are already one"))
            return
        if a not in self.snap.registered or b not in self.snap.registered:
            self.commands.append(Refuse(command.command_id, "unknown customer"))
            return
        survivor, merged = sorted((a, b), key=lambda c: (self.snap.registered[c], c))
        self.snap.merged_into[merged] = survivor
        self.snap.separated.discard(frozenset((a, b)))
        self._remember(survivor, self.snap.traits.get(merged, Traits()))
        self.commands.append(Merge(survivor, merged, command.proposal_id, (f"proposal:{command.proposal_id}",),
                                   command.at))

    def split(self, command: SplitRequested) -> None:
        # The source is whoever holds the identifiers now; the requester's customer id is
        # evidence, not a precondition, so the command means the same when re-decided.
        keys = tuple(dict.fromkeys(command.keys))
        holders = {self.owner(k) for k in keys}
        if len(holders) != 1 or None in holders:
            self.commands.append(Refuse(command.command_id,
                                        f"identifiers are not all held by one customer: {', '.join(keys)}"))
            return
        source = holders.pop()
        assert source is not None
        target = self.resolve(command.target_customer_id) if command.target_customer_id else None
        if target == source:
            self.commands.append(Refuse(command.command_id, "target is the same customer"))
            return
        if target is None:
            target = split_target_id(command.command_id)
            self.snap.registered[target] = command.at
            self.commands.append(Register(target, command.command_id, command.at, split_from=source))
        moved = tuple(i for i, (owner, k) in self.snap.attributions.items()
                      if self.resolve(owner) == source and k and set(k) <= set(keys))
        for key in keys:
            self.snap.owners[key] = target
            self.commands.append(Unlink(source, key, command.command_id, command.at))
        self.snap.separated.add(frozenset((source, target)))
        self.commands.append(Split(source, target, keys, moved, command))
        for interaction_id in moved:
            self.snap.attributions[interaction_id] = (target, self.snap.attributions[interaction_id][1])
            self.commands.append(Reattribute(interaction_id, source, target, command.command_id))
