"""Pure identity decisions: from interactions and the current index to commands."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime

from events.identifiers import Identifier
from events.ids import customer_id_for
from events.interaction import Interaction


@dataclass(frozen=True)
class Register:
    """A customer nobody knew yet."""

    customer_id: str
    interaction_id: str
    at: datetime


@dataclass(frozen=True)
class Link:
    """An identifier now proven to belong to a customer."""

    customer_id: str
    identifier: Identifier
    interaction_id: str
    channel: str
    at: datetime


@dataclass(frozen=True)
class Attribute:
    """An interaction belongs to a customer."""

    customer_id: str
    interaction_id: str
    interaction: Interaction


Command = Register | Link | Attribute


def decide(
    items: Sequence[tuple[str, Interaction]],
    index: Mapping[str, str],
    attributed: AbstractSet[str],
) -> list[Command]:
    """Commands for a batch, in order; later items see the links earlier ones made.

    ``index`` maps identifier keys (``kind:value``) to customer ids; ``attributed`` holds
    interaction ids already recorded, which are duplicates and produce nothing.
    """
    known = dict(index)
    done = set(attributed)
    commands: list[Command] = []
    for interaction_id, interaction in items:
        if interaction_id in done:
            continue
        done.add(interaction_id)
        commands.extend(_decide_one(interaction_id, interaction, known))
    return commands


def _decide_one(
    interaction_id: str, interaction: Interaction, known: dict[str, str]
) -> list[Command]:
    identifiers = interaction.customer.identifiers()
    owners = [known[i.key] for i in identifiers if i.key in known]
    commands: list[Command] = []
    if owners:
        # Strongest identifier wins (phone, then email, then handle); merging the
        # other owners is a separate decision with its own guards.
        customer_id = owners[0]
    else:
        customer_id = customer_id_for(interaction_id)
        commands.append(Register(customer_id, interaction_id, interaction.occurred_at))
    for identifier in identifiers:
        if identifier.key not in known:
            known[identifier.key] = customer_id
            commands.append(
                Link(
                    customer_id,
                    identifier,
                    interaction_id,
                    interaction.channel.value,
                    interaction.occurred_at,
                )
            )
    commands.append(Attribute(customer_id, interaction_id, interaction))
    return commands
