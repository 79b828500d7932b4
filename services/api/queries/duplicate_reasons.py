"""A proposal's evidence in plain words, for the review queue: what agrees, what does not."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# splink's gamma levels per comparison, highest first (see services/projections/duplicates/model.py).
_AGREES = {
    "name": {6: "same_name", 5: "name_swapped", 4: "similar_name", 3: "similar_name", 2: "same_surname",
             1: "same_first_name"},
    "birth_date": {5: "same_birth_date", 4: "birth_date_typo", 3: "birth_date_near", 2: "birth_date_near"},
    "phone": {2: "same_phone", 1: "phone_typo"},
    "email": {2: "same_email", 1: "same_mailbox"},
    "address": {3: "same_address", 2: "similar_address", 1: "similar_address"},
    "address_numbers": {2: "same_house_and_flat", 1: "same_house_number"},
    "company": {3: "same_company", 2: "similar_company", 1: "similar_company"},
}
_DISAGREES = {"name": "different_name", "birth_date": "different_birth_date", "phone": "different_phone",
              "email": "different_email", "address": "different_address", "company": "different_company"}


def reasons(evidence: Sequence[dict[str, Any]]) -> list[tuple[str, float]]:
    """(message key, weight) per attribute that counted, strongest first; a held link leads."""
    out: list[tuple[str, float]] = []
    for e in evidence:
        attribute, weight, level = e["attribute"], float(e.get("weight") or 0), e.get("level", -1)
        if attribute == "held":
            out.append(("held_link", float("inf")))
        elif level is not None and level > 0 and weight > 0:
            out.append((_AGREES.get(attribute, {}).get(level, f"agrees.{attribute}"), weight))
        elif level == 0 and attribute in _DISAGREES:
            out.append((_DISAGREES[attribute], weight))
    return sorted(out, key=lambda r: -abs(r[1]))
