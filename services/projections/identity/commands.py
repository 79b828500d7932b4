"""What the resolver decides (commands) and what it decides from (a snapshot of the graph)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from events.identifiers import Identifier
from events.identity import SplitRequested
from events.interaction import Interaction
from services.projections.identity.guards import Traits


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
    members: tuple[str, ...] = ()  # merged-in customers left without keys: they go with the target


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


@dataclass(frozen=True)
class Hold:
    """Another person reached us through an identifier of someone else: kept apart on that key."""

    key: str
    customer_id: str


Command = Register | Link | Attribute | Merge | Flag | Unlink | Split | Reattribute | Refuse | Remember | Hold


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
    held: dict[str, list[str]] = field(default_factory=dict)  # key -> other people held off it
    # customer -> the keys it linked itself (kept through merges); loaded for batches with splits
    member_keys: dict[str, set[str]] = field(default_factory=dict)
