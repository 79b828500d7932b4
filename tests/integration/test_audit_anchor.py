"""The chain head anchored outside the database: an administrator with a backup, a DELETE or a
rewrite that recomputes every hash still gets ``"ok": false`` from /v1/audit/verify."""

from __future__ import annotations

import json

import psycopg
import pytest

from events.audit import chain
from events.audit.trail import stored_record
from tests.support.audit import access, count, produce_accesses, rows
from tests.support.workers import running, wait_until

pytestmark = pytest.mark.integration


def _anchored(settings) -> list[dict]:
    path = settings.anchor_path
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _chain(settings, n: int, first: int = 0) -> None:
    produce_accesses(settings, [access("emp-7", customer_ids=[f"c-{k}"]) for k in range(first, first + n)])
    wait_until(lambda: count(settings.dsn, "SELECT count(*) FROM access_log") == first + n,
               message=f"{first + n} chained rows")
    wait_until(lambda: any(a["seq"] == first + n for a in _anchored(settings)), message="anchored")


def _head(settings) -> dict:
    return rows(settings.dsn, "SELECT seq, hash, signature FROM audit_chain_head")[0]


def _as_admin(settings, *statements: tuple[str, tuple]) -> None:
    """With the owner's rights and every trigger off (as an administrator restoring a backup)."""
    with psycopg.connect(settings.dsn, autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")
        for sql, params in statements:
            conn.execute(sql, params)  # type: ignore[arg-type]


def restore(settings, backup: dict) -> None:
    """Back to the consistent copy of the chain at ``backup`` (its head), as from a backup."""
    _as_admin(settings, ("DELETE FROM access_log WHERE chain_seq > %s", (backup["seq"],)),
              ("DELETE FROM audit_checkpoints WHERE seq > %s", (backup["seq"],)),
              ("UPDATE audit_chain_head SET seq = %s, hash = %s, signature = %s",
               (backup["seq"], backup["hash"], backup["signature"])))


def _verify(api, auth) -> dict:
    answer = api.get("/v1/audit/verify", headers=auth("security_officer", "sec-1"))
    assert answer.status_code == 200, answer.text
    return answer.json()


@pytest.fixture
def anchored(settings):
    """Three rows, their head saved (the "backup"), three more rows: all anchored."""
    with running(settings, ("audit", "anchor")):
        _chain(settings, 3)
        backup = _head(settings)
        _chain(settings, 3, first=3)
    return settings, backup


def test_the_head_is_anchored_in_an_append_only_file_and_verify_compares_with_it(anchored, api, auth):
    settings, _ = anchored
    assert [a["seq"] for a in _anchored(settings)] == [3, 6]
    report = _verify(api, auth)
    assert report["ok"] is True and report["anchor"]["seq"] == 6 and report["checked"] == 6


def test_a_database_restored_to_an_earlier_consistent_copy_is_caught(anchored, api, auth):
    settings, backup = anchored
    restore(settings, backup)
    report = _verify(api, auth)
    assert (report["ok"], report["checked"], report["first_bad"]) == (False, 3, 4)
    assert "restored from an earlier copy" in report["reason"]
    settings.anchor_path.rename(settings.anchor_path.with_suffix(".away"))
    assert _verify(api, auth)["ok"] is True  # the copy is consistent: only the anchor shows it


def test_a_truncated_tail_is_caught(anchored, api, auth):
    settings, _ = anchored
    _as_admin(settings, ("DELETE FROM access_log WHERE chain_seq > 4", ()))
    report = _verify(api, auth)
    assert (report["ok"], report["first_bad"]) == (False, 5) and "truncated" in report["reason"]


def test_rows_rewritten_with_recomputed_hashes_are_caught(anchored, api, auth):
    settings, _ = anchored
    stored = rows(settings.dsn, "SELECT * FROM access_log ORDER BY chain_seq")
    records = [stored_record(r) for r in stored]
    records[1] = {**records[1], "employee_id": "someone-else"}
    rewritten = chain.build(records)  # every hash recomputed: a self-consistent chain
    _as_admin(settings, *[("UPDATE access_log SET employee_id = %s, prev_hash = %s, hash = %s"
                           " WHERE chain_seq = %s", (r.record["employee_id"], r.prev_hash, r.hash, r.seq))
                          for r in rewritten],
              ("DELETE FROM audit_checkpoints", ()),
              ("UPDATE audit_chain_head SET seq = 0, hash = repeat('0', 64), signature = ''", ()))
    report = _verify(api, auth)
    assert (report["ok"], report["first_bad"]) == (False, 3)
    assert "rewritten" in report["reason"] and "anchor outside the database" in report["reason"]


def test_an_edited_anchor_file_is_itself_a_fault(anchored, api, auth):
    settings, _ = anchored
    lines = settings.anchor_path.read_text().splitlines()
    forged = {**json.loads(lines[-1]), "seq": 2}
    settings.anchor_path.write_text("\n".join([*lines, json.dumps(forged)]) + "\n")
    report = _verify(api, auth)
    assert report["ok"] is False and "bad signature" in report["reason"]
