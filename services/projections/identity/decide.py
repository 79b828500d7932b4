"""Pure identity decisions: from interactions, split commands and a snapshot of the graph to commands.

Merges: an interaction carrying identifiers of several customers joins them; the oldest
customer survives. Guards hold back merges through junk values, across customers an
officer has split apart, and through identifiers that already joined too many people.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from events.duplicates import MergeRequested
from events.identifiers import Identifier
from events.identity import SplitRequested
from events.ids import customer_id_for, split_target_id
from events.interaction import Interaction
from services.projections.identity.commands import (
    Attribute,
    Command,
    Flag,
    Hold,
    Link,
    Merge,
    Reattribute,
    Refuse,
    Register,
    Remember,
    Snapshot,
    Split,
    Unlink,
)
from services.projections.identity.guards import (
    GuardConfig,
    Traits,
    conflict,
    is_junk,
    merges_exhausted,
    traits_of,
)

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
        traits = traits_of(interaction.customer.name, interaction.details.get("birth_date"))
        fitting = [o for o in owners if not conflict(self.snap.traits.get(o, Traits()), traits)]
        shared: set[str] = set()
        if fitting:
            customer_id = min(fitting, key=lambda c: (self.snap.registered.get(c, at), c))
            self._join(customer_id, owners, matchable, interaction_id, at)
        elif owners:  # everyone holding these identifiers is somebody else
            shared = {i.key for i in matchable if self.owner(i.key)}
            customer_id = self._another_person(owners, sorted(shared), traits, interaction_id, at)
        else:
            customer_id = self._register(interaction_id, at)
        for identifier in identifiers:
            self._link(customer_id, identifier, identifier in matchable and identifier.key not in shared,
                       interaction_id, interaction)
        self._remember(customer_id, traits)
        keys = tuple(i.key for i in matchable if i.key not in shared)
        self.snap.attributions[interaction_id] = (customer_id, keys)
        self.commands.append(Attribute(customer_id, interaction_id, interaction, keys))

    def _register(self, interaction_id: str, at: datetime) -> str:
        customer_id = customer_id_for(interaction_id)
        self.snap.registered[customer_id] = at
        self.commands.append(Register(customer_id, interaction_id, at))
        return customer_id

    def _another_person(self, owners: list[str], shared: list[str], traits: Traits, interaction_id: str,
                        at: datetime) -> str:
        """The customer of an interaction whose person conflicts with every holder of its identifiers
        (a family phone): the one held off these identifiers before, or a new one, proposed for review."""
        for key in shared:
            for held in map(self.resolve, self.snap.held.get(key, [])):
                if not conflict(self.snap.traits.get(held, Traits()), traits):
                    return held
        customer_id = self._register(interaction_id, at)
        for key in shared:
            self.snap.held.setdefault(key, []).append(customer_id)
            self.commands.append(Hold(key, customer_id))
        for owner in owners:
            found = conflict(self.snap.traits.get(owner, Traits()), traits)
            reason = f"shared identifier, but {found}: held for review"
            self.commands.append(Flag(customer_id, (owner,), shared[0], interaction_id, reason, at))
            self.commands.append(Flag(owner, (customer_id,), shared[0], interaction_id, reason, at))
        return customer_id

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
        self.snap.member_keys.setdefault(customer_id, set()).add(identifier.key)
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
        if target is not None and target not in self.snap.registered:
            # Erased since the request (the snapshot knows no erased customer): its key is gone,
            # so nothing may be moved to it.
            self.commands.append(Refuse(command.command_id, "unknown target customer"))
            return
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
        members = self._members_left_without_keys(source, target, keys)
        self.commands.append(Split(source, target, keys, moved, command, members))
        self.snap.member_keys.setdefault(target, set()).update(keys)
        for member in members:
            self.snap.merged_into[member] = target
            self._remember(target, self.snap.traits.get(member, Traits()))
        for interaction_id in moved:
            self.snap.attributions[interaction_id] = (target, self.snap.attributions[interaction_id][1])
            self.commands.append(Reattribute(interaction_id, source, target, command.command_id))

    def _members_left_without_keys(self, source: str, target: str, keys: tuple[str, ...]) -> tuple[str, ...]:
        """Merged-in members of ``source`` whose every key the split takes: the part they brought
        is what moves, so they follow the target (the card projection moves them alike)."""
        members = sorted(c for c in self.snap.merged_into if c != target and self.resolve(c) == source)
        for customer in (source, *members):
            self.snap.member_keys.get(customer, set()).difference_update(keys)
        return tuple(m for m in members if not self.snap.member_keys.get(m))
