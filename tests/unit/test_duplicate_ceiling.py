"""The bench's ceiling: which records of one person a reviewer could link at all (pure)."""

from __future__ import annotations

from bench.duplicates.linkable import linkable_pairs
from bench.duplicates.russian import Row


def _row(pid: int, name: str | None, phone: str | None, born: str | None = None, address: str | None = None) -> Row:
    return Row(pid, name, phone, None, born, address, None)


def test_a_duplicate_with_only_a_common_name_in_common_is_not_linkable_but_a_chain_of_evidence_is() -> None:
    rows = [_row(1, "Галина Попова", "+79120000001", "1975-03-23", "Москва, ул. Мира, д. 5"),
            _row(1, "Галина Попова", "+79350000002"),  # a new number and nothing else
            _row(1, "Попова Галина", "+79770000003", "1975-03-22", "Москва, Мира ул., 5"),
            _row(1, None, "+79770000008")]  # the third one's number, one digit off
    assert linkable_pairs(rows) == {(0, 2), (0, 3), (2, 3)}
