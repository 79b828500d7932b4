"""A held link's conflict in plain words (pure): which identifier the two share, and what differs.

The resolver's guard says which attribute conflicted ("different birth dates", "clearly different
first names"); the finder quotes both customers' own values as they were written (Ольга, not
the folded "olga"), each under its customer, so a supervisor sees the conflict at a glance.
"""

from __future__ import annotations

from typing import Any

from events.names import CANONICAL, normal_birth_date, parse_name, phonetic

# The guard's wording (services/projections/identity/guards.py) -> the conflicting attribute.
_CONFLICTS = {"different birth dates": "birth_date", "clearly different first names": "first_name"}
_SHARED = {"phone": "same phone", "email": "shared mailbox", "handle": "same account"}
_DIFFER = {"birth_date": "birth dates differ", "first_name": "clearly different first names"}


def first_name_as_written(name: str) -> str | None:
    """The word of a written name that is its first name ("Петрова Ольга Ивановна" -> "Ольга")."""
    first = parse_name(name).first
    for word in name.replace(",", " ").split():
        folded = phonetic(word)
        if first and CANONICAL.get(folded, folded) == first:
            return word
    return first


def _value(attribute: str, seen: dict[str, str]) -> str | None:
    if attribute == "birth_date":
        return normal_birth_date(seen["birth_date"]) if seen.get("birth_date") else None
    return first_name_as_written(seen["name"]) if seen.get("name") else None


def _differ(attribute: str, a: str, b: str) -> bool:
    if attribute == "first_name":
        return parse_name(a).first != parse_name(b).first
    return a != b


def held_evidence(key: str, reason: str, a: dict[str, str], b: dict[str, str]) -> dict[str, Any]:
    """The held link as evidence: ``values`` [identifier key, the reason in words], and for the pages
    the shared identifier's kind, the conflicting attribute and its two values (customer a's first)."""
    kind = key.split(":", 1)[0]
    item: dict[str, Any] = {"attribute": "held", "values": [key, reason], "weight": 0.0, "level": -1,
                            "identifier": kind}
    conflict = next((attr for words, attr in _CONFLICTS.items() if words in reason), None)
    values = (_value(conflict, a), _value(conflict, b)) if conflict else (None, None)
    # The guard compared what the resolver kept (the first values known); the finder quotes the
    # latest. Where those no longer differ, the guard's own words are the truer account.
    if conflict and values[0] and values[1] and _differ(conflict, values[0], values[1]):
        shared = _SHARED.get(kind, f"same {kind}")
        item["values"] = [key, f"{shared}, but {_DIFFER[conflict]}: {values[0]} vs {values[1]}"]
        item |= {"conflict": conflict, "conflict_values": list(values)}
    return item
