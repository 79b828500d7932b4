"""A proposal's evidence in plain words, for the review queue: what agrees, what does not."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# splink's gamma levels per comparison, highest first (services/projections/duplicates/model.py).
_LEVELS = {
    "name": {10: "same_name", 9: "name_swapped", 8: "similar_name_swapped", 7: "name_part",
             6: "different_first_name_same_surname", 5: "different_first_name", 4: "similar_name",
             3: "similar_name", 2: "similar_name", 1: "same_surname", 0: "different_name"},
    "patronymic": {2: "same_patronymic", 1: "similar_patronymic", 0: "different_patronymic"},
    "birth_date": {5: "same_birth_date", 4: "birth_date_swapped", 3: "birth_date_day_apart", 2: "birth_date_typo",
                   1: "birth_date_year", 0: "different_birth_date"},
    "phone": {2: "same_phone", 1: "phone_typo", 0: "different_phone"},
    "email": {2: "same_email", 1: "same_mailbox", 0: "different_email"},
    "address": {8: "same_address", 7: "same_house", 6: "similar_address", 5: "same_address_numbers",
                4: "similar_address", 3: "same_street_and_house", 2: "same_house_number", 1: "address_words",
                0: "different_address"},
    "company": {3: "same_company", 2: "similar_company", 1: "similar_company", 0: "different_company"},
}


def reasons(evidence: Sequence[dict[str, Any]]) -> list[tuple[str, float]]:
    """(message key, weight) per attribute that counted, strongest first; a held link leads."""
    out: list[tuple[str, float]] = []
    for e in evidence:
        attribute, weight, level = e["attribute"], float(e.get("weight") or 0), e.get("level", -1)
        if attribute == "held":
            if not e.get("conflict"):  # a conflict in words is said apart (see held_conflict)
                out.append(("held_link", float("inf")))
        elif (key := _LEVELS.get(attribute, {}).get(level)) and (weight > 0 or key.startswith("different")):
            out.append((key, weight))
    return sorted(out, key=lambda r: -abs(r[1]))


def held_conflict(evidence: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """A held link's conflict, for the pages to say in their language: the shared identifier's
    kind, the attribute that differs and both values (customer a's first)."""
    return [{"identifier": e.get("identifier", "phone"), "conflict": e["conflict"], "values": e["conflict_values"]}
            for e in evidence
            if e["attribute"] == "held" and e.get("conflict") and len(e.get("conflict_values") or ()) == 2]
