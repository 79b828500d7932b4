"""The access hash chain: canonical form, linking, verification and signed checkpoints."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from events.audit.chain import (
    GENESIS,
    ChainRow,
    Checkpoint,
    build,
    canonical,
    checkpoint,
    link,
    verify,
    verify_checkpoint,
)

SECRET = b"test-checkpoint-secret"
MSK = timezone(timedelta(hours=3))


def record(n: int) -> dict[str, Any]:
    return {
        "id": f"00000000-0000-0000-0000-{n:012d}",
        "employee_id": "emp-7",
        "role": "agent",
        "action": "customer.card",
        "customer_ids": [f"cust-{n}", f"cust-{n + 100}"],
        "at": datetime(2024, 3, 1, 9, 0, n % 60, 123456, tzinfo=UTC),
        "request_id": f"req-{n}",
        "client": "10.0.0.7",
        "route": "/v1/customers/{id}",
        "query": None,
    }


def chain(n: int = 6) -> list[ChainRow]:
    return build(record(i) for i in range(1, n + 1))


def with_record(row: ChainRow, **changes: Any) -> ChainRow:
    return dataclasses.replace(row, record={**row.record, **changes})


# --- canonical form ------------------------------------------------------------------------


def test_canonical_form_is_sorted_compact_utf8_json_with_utc_microseconds() -> None:
    raw = canonical({"b": [3, 1, 2], "a": "Ирина", "at": datetime(2024, 3, 1, 12, 0, tzinfo=MSK)})
    assert raw == '{"a":"Ирина","at":"2024-03-01T09:00:00.000000Z","b":[3,1,2]}'.encode()


def test_the_same_instant_in_two_offsets_serialises_identically() -> None:
    moscow = datetime(2024, 3, 1, 12, 0, 0, 5, tzinfo=MSK)
    utc = datetime(2024, 3, 1, 9, 0, 0, 5, tzinfo=UTC)
    assert canonical({"at": moscow}) == canonical({"at": utc})


def test_list_order_is_part_of_the_record() -> None:
    assert canonical({"ids": ["a", "b"]}) != canonical({"ids": ["b", "a"]})


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (datetime(2024, 3, 1, 9, 0), ValueError),
        ({"a", "b"}, TypeError),
        (float("nan"), ValueError),
        (b"bytes", TypeError),
    ],
    ids=["naive datetime", "set", "nan", "bytes"],
)
def test_values_that_could_hash_two_ways_are_refused(value: object, error: type) -> None:
    with pytest.raises(error):
        canonical({"v": value})


def test_link_is_sha256_hex_and_depends_on_the_previous_hash() -> None:
    first = link(GENESIS, record(1))
    assert len(first) == 64 and int(first, 16) >= 0
    assert link(GENESIS, record(1)) == first
    assert link(first, record(1)) != first


def test_link_refuses_a_malformed_previous_hash() -> None:
    with pytest.raises(ValueError, match="64 lowercase hex"):
        link("abc", record(1))


def test_built_rows_link_each_to_the_previous_from_genesis() -> None:
    rows = chain(3)
    assert [r.seq for r in rows] == [1, 2, 3]
    assert rows[0].prev_hash == GENESIS
    assert rows[1].prev_hash == rows[0].hash and rows[2].prev_hash == rows[1].hash


# --- verification --------------------------------------------------------------------------


def test_an_intact_chain_verifies_ok_and_counts_every_row() -> None:
    result = verify(chain(6))
    assert (result.ok, result.checked, result.first_bad, result.reason) == (True, 6, None, None)


def test_an_empty_chain_verifies_ok_with_nothing_checked() -> None:
    result = verify([])
    assert (result.ok, result.checked, result.first_bad, result.reason) == (True, 0, None, None)


def test_a_chain_read_back_with_another_offset_still_verifies() -> None:
    rows = chain(3)
    # PostgreSQL may hand timestamptz back in the session's time zone.
    read_back = [with_record(r, at=r.record["at"].astimezone(MSK)) for r in rows]
    assert verify(read_back).ok


def test_a_segment_verifies_from_its_anchor() -> None:
    rows = chain(6)
    result = verify(rows[3:], expected_first_seq=4, anchor_prev_hash=rows[2].hash)
    assert (result.ok, result.checked) == (True, 3)


def _tampered(kind: str) -> list[ChainRow]:
    rows = chain(6)
    if kind == "updated field":
        rows[2] = with_record(rows[2], employee_id="emp-8")
    elif kind == "updated customer list":
        rows[2] = with_record(rows[2], customer_ids=["cust-3"])
    elif kind == "updated and rehashed":
        changed = with_record(rows[2], action="customer.export")
        rows[2] = dataclasses.replace(changed, hash=link(changed.prev_hash, changed.record))
    elif kind == "deleted":
        del rows[2]
    elif kind == "deleted and renumbered":
        rows = rows[:2] + [dataclasses.replace(r, seq=r.seq - 1) for r in rows[3:]]
    elif kind == "reordered contents":
        rows[2], rows[3] = (
            dataclasses.replace(rows[3], seq=3),
            dataclasses.replace(rows[2], seq=4),
        )
    elif kind == "reordered rows":
        rows[2], rows[3] = rows[3], rows[2]
    elif kind == "duplicated":
        rows.insert(3, rows[2])
    elif kind == "first deleted":
        del rows[0]
    return rows


@pytest.mark.parametrize(
    ("kind", "first_bad", "checked", "reason"),
    [
        ("updated field", 3, 2, "row changed"),
        ("updated customer list", 3, 2, "row changed"),
        ("updated and rehashed", 4, 3, "deleted or moved"),
        ("deleted", 3, 2, "row deleted"),
        ("deleted and renumbered", 3, 2, "deleted or moved"),
        ("reordered contents", 3, 2, "deleted or moved"),
        ("reordered rows", 3, 2, "seq 3 missing, next row is seq 4"),
        ("duplicated", 4, 3, "out of order or duplicated"),
        ("first deleted", 1, 0, "row deleted"),
    ],
)
def test_tampering_is_reported_at_the_first_bad_seq(
    kind: str, first_bad: int, checked: int, reason: str
) -> None:
    result = verify(_tampered(kind))
    assert (result.ok, result.first_bad, result.checked) == (False, first_bad, checked)
    assert result.reason is not None and reason in result.reason


def test_an_unhashable_value_written_into_a_row_is_reported_not_raised() -> None:
    rows = chain(3)
    rows[1] = with_record(rows[1], at=datetime(2024, 3, 1, 9, 0))  # naive: no instant
    result = verify(rows)
    assert (result.ok, result.first_bad) == (False, 2)
    assert result.reason is not None and "row changed" in result.reason


def test_a_truncated_chain_alone_looks_like_a_shorter_valid_chain() -> None:
    # Why checkpoints exist: cutting the tail leaves nothing to recompute.
    assert verify(chain(6)[:4]).ok


def test_truncation_is_reported_against_the_expected_last_seq() -> None:
    result = verify(chain(6)[:4], expected_last_seq=6)
    assert (result.ok, result.checked, result.first_bad) == (False, 4, 5)
    assert result.reason is not None and "truncated" in result.reason


def test_truncation_is_reported_against_a_checkpoint_beyond_the_last_row() -> None:
    rows = chain(6)
    cp = checkpoint(6, rows[5].hash, SECRET)
    result = verify(rows[:4], checkpoints=[cp], checkpoint_secret=SECRET)
    assert (result.ok, result.checked, result.first_bad) == (False, 4, 5)


def test_a_fully_truncated_chain_is_reported_at_its_first_seq() -> None:
    rows = chain(2)
    result = verify([], checkpoints=[checkpoint(2, rows[1].hash, SECRET)])
    assert (result.ok, result.checked, result.first_bad) == (False, 0, 1)


def test_a_rewritten_tail_disagrees_with_the_signed_checkpoint() -> None:
    rows = chain(6)
    cp = checkpoint(5, rows[4].hash, SECRET)
    forged = rows[:2] + build(
        [record(3) | {"employee_id": "emp-8"}] + [rows[i].record for i in range(3, 6)],
        first_seq=3,
        prev_hash=rows[1].hash,
    )
    assert verify(forged).ok  # consistent on its own ...
    result = verify(forged, checkpoints=[cp], checkpoint_secret=SECRET)
    assert (result.ok, result.first_bad, result.checked) == (False, 5, 4)
    assert result.reason is not None and "checkpoint" in result.reason


def test_checkpoints_matching_the_chain_keep_it_ok() -> None:
    rows = chain(6)
    cps = [checkpoint(3, rows[2].hash, SECRET), checkpoint(6, rows[5].hash, SECRET)]
    result = verify(rows, checkpoints=cps, checkpoint_secret=SECRET)
    assert (result.ok, result.checked) == (True, 6)


# --- checkpoints ---------------------------------------------------------------------------


def test_a_checkpoint_verifies_with_its_secret() -> None:
    cp = checkpoint(6, chain(6)[5].hash, SECRET)
    assert len(cp.signature) == 64 and verify_checkpoint(cp, SECRET)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda cp: dataclasses.replace(cp, seq=cp.seq + 1),
        lambda cp: dataclasses.replace(cp, hash=GENESIS),
        lambda cp: dataclasses.replace(cp, signature="0" * 64),
        lambda cp: dataclasses.replace(cp, signature=cp.signature[:-1]),
    ],
    ids=["seq", "hash", "signature", "short signature"],
)
def test_a_tampered_checkpoint_fails_verification(tamper: Any) -> None:
    cp = checkpoint(6, chain(6)[5].hash, SECRET)
    assert not verify_checkpoint(tamper(cp), SECRET)


def test_a_checkpoint_fails_under_another_secret() -> None:
    assert not verify_checkpoint(checkpoint(1, chain(1)[0].hash, SECRET), b"other")


def test_a_forged_checkpoint_fails_the_whole_verification() -> None:
    rows = chain(4)
    forged = Checkpoint(seq=4, hash=rows[3].hash, signature="f" * 64)
    result = verify(rows, checkpoints=[forged], checkpoint_secret=SECRET)
    assert (result.ok, result.first_bad) == (False, 4)
    assert result.reason is not None and "signature" in result.reason


def test_verify_result_serialises_to_the_endpoint_shape() -> None:
    result = verify(_tampered("deleted"))
    body = json.dumps({"ok": result.ok, "checked": result.checked, "first_bad": result.first_bad})
    assert body == '{"ok": false, "checked": 2, "first_bad": 3}'
