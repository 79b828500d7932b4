"""Which comparison level a pair lands on: dates, names and addresses as people mistype them."""

from __future__ import annotations

import logging

import pytest

from services.projections.duplicates import model
from services.projections.duplicates.attributes import match_record
from services.projections.duplicates.worker import default_model


def _labels(attribute: str) -> dict[int, str]:
    for comparison in model.settings().comparisons:
        found = comparison.get_comparison("duckdb")
        if found.output_column_name == attribute:
            return {level.comparison_vector_value: level.label_for_charts for level in found.comparison_levels}
    raise KeyError(attribute)


def _level(attribute: str, a: dict[str, object], b: dict[str, object]) -> str:
    phone = {"phones": ["+79120000001"]}  # a shared number makes them a candidate pair whatever else differs
    [pair] = model.score_new([match_record("a", **{**phone, **a})],  # type: ignore[arg-type]
                             [match_record("b", **{**phone, **b})], default_model(), 0.0)  # type: ignore[arg-type]
    [evidence] = [e for e in pair.evidence if e.attribute == attribute]
    return _labels(attribute)[evidence.level]


@pytest.mark.parametrize(("a", "b", "level"), [
    ("1980-03-07", "1980-03-07", "same birth date"),
    ("1980-03-07", "1980-07-03", "day and month swapped"),
    ("1983-09-30", "1983-10-01", "a day apart"),
    ("1980-01-02", "1980-01-20", "one digit wrong or two swapped"),
    ("1961-06-27", "1971-06-27", "one digit wrong or two swapped"),
    ("1930-06-09", "1962-06-09", "same day and month, another year"),
    ("1955-03-01", "1984-11-20", "All other comparisons"),
])
def test_birth_dates_land_on_the_mistake_that_explains_them(a: str, b: str, level: str) -> None:
    assert _level("birth_date", {"names": ["Иван Петров"], "birth_date": a},
                  {"names": ["Иван Петров"], "birth_date": b}) == level


@pytest.mark.parametrize(("a", "b", "level"), [
    ("Sophie Snell", "Snell Sophie", "first name and surname swapped"),
    ("Sophie Snekl", "Snel Sophie", "first name and surname swapped, misspelt"),
    ("Rilei", "Rilei Ho", "the one name given is the other's"),
    ("Ольга Петрова", "Ирина Петрова", "different first names, same surname"),
    ("Ольга Петрова", "Ирина Смирнова", "different first names"),
])
def test_names_swapped_misspelt_partial_or_of_a_relative_have_levels_of_their_own(a: str, b: str, level: str) -> None:
    assert _level("name", {"names": [a]}, {"names": [b]}) == level


def test_an_address_sharing_half_its_words_and_no_number_is_a_weak_level_above_a_different_one() -> None:
    a = {"names": ["Kiara Everett"], "address": "8 legacy vlge noble park 4078 wa"}
    b = {"names": ["Kieran Everett"], "address": "eddy crescent legacy vlge noble park 0676 wa"}
    assert _level("address", a, b) == "half the words in common, no number"
    c = {"names": ["Kiara Everett"], "address": "15 lawley street toorak 3142 vic"}
    assert _level("address", a, c) == "All other comparisons"


def test_blocking_pairs_a_misspelt_first_name_and_street_by_surname_and_house_number() -> None:
    a = match_record("a", names=["Nicholas Campbell"], address="87 poynton karma park albion park 4655 qld")
    b = match_record("b", names=["Nichoas Campbell"], address="87 poyntonstreet karma park albion park 4655 qld")
    assert set(a.block_keys) & set(b.block_keys) == {"sh:campbel:87"}


def test_splinks_untrained_parameters_warning_is_logged_once_not_at_every_scoring(caplog) -> None:
    once = next(f for f in logging.getLogger("splink.internals.linker").filters
                if isinstance(f, model._OncePerText))
    once.seen.clear()  # as in a fresh process, whatever scored before in this one
    with caplog.at_level("WARNING", logger="splink"):
        for _ in range(3):
            _level("name", {"names": ["Иван Петров"]}, {"names": ["Иван Петров"]})
    told = [r for r in caplog.records if "You have called predict()" in r.getMessage()]
    assert len(told) == 1, [r.getMessage()[:120] for r in told]
