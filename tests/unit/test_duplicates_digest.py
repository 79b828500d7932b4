"""The duplicate finder reads its common records with the card's own decoding: same observations."""

from __future__ import annotations

from typing import Any

import pytest

from events.envelope import decode
from services.projections.duplicates.observe import changes
from services.projections.timeline.direct_decode import digest
from tests.unit.test_timeline_direct_decode import GOOD, _attributed

CASES = {
    **GOOD,
    "attributed, matching details": _attributed(details={"birth_date": " 1980-02-03 ", "address": "Тверская 1",
                                                         "company": "", "nested": {"company": "x"}}),
    "attributed, details key only nested": _attributed(details={"nested": {"birth_date": "1980-02-03"}}),
    "attributed, email and handle": _attributed(customer={"email": "a@b.ru", "handle": "tg:x", "name": "Ян"}),
}


def _by_instant(observations: list[Any]) -> list[Any]:
    # The digest spells times in UTC, the model in the record's offset: the same instants.
    return [(*o[:5], o[5].timestamp()) for o in observations]


@pytest.mark.parametrize("kind", list(CASES))
def test_digested_records_observe_what_the_models_observe(kind: str) -> None:
    raw = CASES[kind]
    found = digest(raw)
    assert found is not None
    full = changes([decode(raw)[1]])
    digested = changes([found])
    assert _by_instant(digested.observations) == _by_instant(full.observations)
    if "attributed" in kind and "handle only" not in kind:
        assert digested.observations  # a name, a phone or an email at least


def test_matching_details_become_observations() -> None:
    found = digest(CASES["attributed, matching details"])
    assert found is not None
    attributes = {(o[1], o[2]) for o in changes([found]).observations}
    assert {("birth_date", "1980-02-03"), ("address", "Тверская 1")} <= attributes
    assert not {a for a, _ in attributes} & {"company"}
