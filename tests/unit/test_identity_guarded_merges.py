"""Guarded merges: a shared identifier does not merge people whose strong traits conflict."""

from __future__ import annotations

from services.projections.identity.decide import (
    Flag,
    Hold,
    Link,
    Merge,
    Register,
    Snapshot,
    decide,
)
from services.projections.identity.guards import (
    Traits,
    conflict,
)
from tests.support.identity_items import attributed_to, item
from tests.support.ids import interaction_id


def _person(external_id: str, minutes: int, name: str, born: str | None = None, **customer: str):
    interaction_id_, interaction = item(external_id, minutes, name=name, **customer)
    details = {"birth_date": born} if born else {}
    return interaction_id_, interaction.model_copy(update={"details": details})


def test_a_shared_family_phone_with_different_birth_dates_is_held_not_merged() -> None:
    snapshot = Snapshot()
    landline, mobile = "+74951112233", "+79161112233"
    commands = decide([_person("f1", 0, "Ирина Петрова", "1960-02-03", phone=landline),
                       _person("f2", 5, "Олег Петров", "1988-07-08", phone=mobile),
                       _person("f3", 9, "Олег Петров", phone=mobile, email="oleg@example.ru"),
                       _person("f4", 12, "Олег Петров", phone=landline, email="oleg@example.ru")], snapshot)
    assert not [c for c in commands if isinstance(c, Merge)]
    flags = [c for c in commands if isinstance(c, Flag)]
    assert flags and "different birth dates" in flags[0].reason
    # Both cards show the reason: neither may quote the other person's birth date.
    assert not any(date in f.reason for f in flags for date in ("1960", "1988"))


def test_one_person_under_a_diminutive_still_merges_through_a_shared_identifier() -> None:
    commands = decide([_person("g1", 0, "Александр Щукин", "1970-01-01", phone="+79161110000"),
                       _person("g2", 5, "Sasha Shchukin", "1970-01-01", email="sasha@example.ru"),
                       _person("g3", 9, "Саша", phone="+79161110000", email="sasha@example.ru")], Snapshot())
    assert len([c for c in commands if isinstance(c, Merge)]) == 1


def test_clearly_different_first_names_conflict_and_missing_traits_do_not() -> None:
    assert conflict(Traits(None, "irina", "petrova"), Traits(None, "oleg", "petrov"))
    assert conflict(Traits("1980-01-01", "irina", None), Traits(None, "irina", "petrova")) is None
    assert conflict(Traits(), Traits("1980-01-01", "irina", "petrova")) is None


def test_another_person_on_a_family_phone_gets_their_own_card_and_finds_it_again() -> None:
    snapshot = Snapshot()
    landline = "+74951112244"
    mother = decide([_person("h1", 0, "Галина Орлова", "1955-03-01", phone=landline)], snapshot)
    mother_id = next(c.customer_id for c in mother if isinstance(c, Register))
    son_calls = decide([_person("h2", 5, "Олег Орлов", "1984-11-20", phone=landline)], snapshot)
    son_id = next(c.customer_id for c in son_calls if isinstance(c, Register))
    assert son_id != mother_id
    assert any(isinstance(c, Hold) and c.key == f"phone:{landline}" and c.customer_id == son_id for c in son_calls)
    assert {c.customer_id for c in son_calls if isinstance(c, Flag)} == {son_id, mother_id}
    assert [c.matchable for c in son_calls if isinstance(c, Link)] == [False], "shown on his card, never matched"
    later = decide([_person("h3", 9, "Олег", phone=landline), _person("h4", 12, "Галина Орлова", phone=landline),
                    item("h5", 15, phone=landline)], snapshot)
    assert attributed_to(later) == {interaction_id("web_form", "h3"): son_id,
                                    interaction_id("web_form", "h4"): mother_id,
                                    interaction_id("web_form", "h5"): mother_id}
    assert not [c for c in later if isinstance(c, Register | Flag)]


def test_known_first_names_that_differ_conflict_however_similar_they_look() -> None:
    assert conflict(Traits(None, "oleg", None), Traits(None, "olga", None))
    assert conflict(Traits(None, "irina", None), Traits(None, "irnna", None)) is None


def test_a_mistyped_or_day_month_swapped_birth_date_is_no_conflict() -> None:
    assert conflict(Traits("1980-01-02", None, None), Traits("1980-01-03", None, None)) is None
    assert conflict(Traits("1980-01-02", None, None), Traits("1980-02-01", None, None)) is None
    assert conflict(Traits("1980-01-02", None, None), Traits("1981-01-03", None, None))
