"""A proposal's evidence in plain words, for the review queue: what agrees, what does not."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# The words for each level of the model's comparisons, by the level's label
# (services/projections/duplicates/model.py); "All other comparisons" is splink's else level.
_BY_LABEL = {
    "name": {"same name": "same_name", "first name and surname swapped": "name_swapped",
             "first name and surname swapped, misspelt": "similar_name_swapped",
             "the one name given is the other's": "name_part",
             "different first names, same surname": "different_first_name_same_surname",
             "different first names": "different_first_name", "similar name": "similar_name",
             "same first name, surname misspelt": "similar_name", "roughly similar name": "similar_name",
             "same surname": "same_surname"},
    "patronymic": {"same patronymic": "same_patronymic", "similar patronymic": "similar_patronymic"},
    "birth_date": {"same birth date": "same_birth_date", "day and month swapped": "birth_date_swapped",
                   "a day apart": "birth_date_day_apart", "one digit wrong or two swapped": "birth_date_typo",
                   "same day and month, another year": "birth_date_year"},
    "phone": {"Array intersection size >= 1": "same_phone", "one digit wrong or two swapped": "phone_typo"},
    "email": {"Array intersection size >= 1": "same_email", "same mailbox, spelt differently": "same_mailbox"},
    "address": {"same address": "same_address", "same house, one address more complete": "same_house",
                "same house number, street misspelt": "similar_address",
                "two numbers in common (house, flat, postcode)": "same_address_numbers",
                "most words in common": "similar_address",
                "same street and house number, another flat or town": "same_street_and_house",
                "a number in common": "same_house_number", "half the words in common, no number": "address_words"},
    "company": {"Exact match on company": "same_company", "Jaro-Winkler distance of company >= 0.95": "similar_company",
                "Jaro-Winkler distance of company >= 0.85": "similar_company"},
}
_ELSE = "All other comparisons"
# Evidence stored before it carried labels: the levels by splink's gamma as they were then.
_BY_GAMMA_BEFORE_LABELS = {
    "name": {7: "same_name", 6: "name_swapped", 5: "different_first_name", 4: "similar_name", 3: "similar_name",
             2: "similar_name", 1: "same_surname", 0: "different_name"},
    "patronymic": {2: "same_patronymic", 1: "similar_patronymic", 0: "different_patronymic"},
    "birth_date": {5: "same_birth_date", 4: "birth_date_typo", 3: "birth_date_near", 2: "birth_date_near",
                   1: "different_birth_date", 0: "different_birth_date"},
    "phone": {2: "same_phone", 1: "phone_typo", 0: "different_phone"},
    "email": {2: "same_email", 1: "same_mailbox", 0: "different_email"},
    "address": {7: "same_address", 6: "same_house", 5: "similar_address", 4: "same_address_numbers",
                3: "similar_address", 2: "same_street_and_house", 1: "same_house_number", 0: "different_address"},
    "company": {3: "same_company", 2: "similar_company", 1: "similar_company", 0: "different_company"},
}


def words_for(attribute: str, label: str | None, level: int) -> str | None:
    """The message key of one attribute's level: by its label, or by its number if stored without."""
    if label is None:
        return _BY_GAMMA_BEFORE_LABELS.get(attribute, {}).get(level)
    if label == _ELSE:
        return f"different_{attribute}"
    return _BY_LABEL.get(attribute, {}).get(label)


def reasons(evidence: Sequence[dict[str, Any]]) -> list[tuple[str, float]]:
    """(message key, weight) per attribute that counted, strongest first; a held link leads."""
    out: list[tuple[str, float]] = []
    for e in evidence:
        attribute, weight = e["attribute"], float(e.get("weight") or 0)
        if attribute == "held":
            if not e.get("conflict"):  # a conflict in words is said apart (see held_conflict)
                out.append(("held_link", float("inf")))
        elif (key := words_for(attribute, e.get("label"), e.get("level", -1))) and (
                weight > 0 or key.startswith("different")):
            out.append((key, weight))
    return sorted(out, key=lambda r: -abs(r[1]))


def held_conflict(evidence: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """A held link's conflict, for the pages to say in their language: the shared identifier's
    kind, the attribute that differs and both values (customer a's first)."""
    return [{"identifier": e.get("identifier", "phone"), "conflict": e["conflict"], "values": e["conflict_values"]}
            for e in evidence
            if e["attribute"] == "held" and e.get("conflict") and len(e.get("conflict_values") or ()) == 2]
