"""The access trail is a hash chain in the real table: tampering shows in /v1/audit/verify."""

from __future__ import annotations

import json

import psycopg
import pytest

from events import topics
from tests.support.audit import access, as_attacker, count, produce_accesses, rows
from tests.support.kafka_tools import read_all
from tests.support.workers import running, wait_until

pytestmark = pytest.mark.integration
ROWS = 6


@pytest.fixture
def trail(settings):
    """Six accesses chained by the real audit worker (one employee: one partition, in order)."""
    produce_accesses(settings, [access("emp-7", customer_ids=[f"c-{n}"]) for n in range(ROWS)])
    with running(settings, ("audit",)):
        wait_until(lambda: _chained(settings.dsn) == ROWS, message="six chained rows")
    return settings


def _chained(dsn: str) -> int:
    return count(dsn, "SELECT count(*) FROM access_log WHERE chain_seq IS NOT NULL")


def _verify(api, auth) -> dict:
    answer = api.get("/v1/audit/verify", headers=auth("security_officer", "sec-1"))
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_an_untouched_trail_verifies_with_every_row_checked(trail, api, auth):
    report = _verify(api, auth)
    assert report["ok"] is True and report["first_bad"] is None
    assert report["checked"] == ROWS
    stored = rows(trail.dsn, "SELECT chain_seq, prev_hash, hash FROM access_log ORDER BY chain_seq")
    assert [r["chain_seq"] for r in stored] == list(range(1, ROWS + 1))
    assert all(a["hash"] == b["prev_hash"] for a, b in zip(stored, stored[1:], strict=False))
    assert count(trail.dsn, "SELECT count(*) FROM audit_checkpoints") >= 1


def test_a_changed_row_is_the_first_bad_one(trail, api, auth):
    as_attacker(trail.dsn, "UPDATE access_log SET employee_id = 'someone-else' WHERE chain_seq = 3")
    report = _verify(api, auth)
    assert (report["ok"], report["first_bad"], report["checked"]) == (False, 3, 2)
    assert "changed" in report["reason"]


def test_a_deleted_row_is_reported_as_missing(trail, api, auth):
    as_attacker(trail.dsn, "DELETE FROM access_log WHERE chain_seq = 4")
    report = _verify(api, auth)
    assert (report["ok"], report["first_bad"], report["checked"]) == (False, 4, 3)


def test_reordered_rows_are_caught_at_the_first_moved_one(trail, api, auth):
    as_attacker(
        trail.dsn,
        "UPDATE access_log SET chain_seq = -2 WHERE chain_seq = 2",
        "UPDATE access_log SET chain_seq = 2 WHERE chain_seq = 5",
        "UPDATE access_log SET chain_seq = 5 WHERE chain_seq = -2",
    )
    report = _verify(api, auth)
    assert (report["ok"], report["first_bad"], report["checked"]) == (False, 2, 1)


def test_a_truncated_table_and_a_cut_off_tail_are_both_caught(trail, api, auth):
    as_attacker(trail.dsn, "DELETE FROM access_log WHERE chain_seq > 4")
    report = _verify(api, auth)
    assert (report["ok"], report["first_bad"], report["checked"]) == (False, 5, 4)
    assert "truncated" in report["reason"]
    as_attacker(trail.dsn, "TRUNCATE access_log")
    report = _verify(api, auth)
    assert (report["ok"], report["first_bad"], report["checked"]) == (False, 1, 0)


def test_a_chain_recomputed_by_the_attacker_fails_on_the_signed_head(trail, api, auth):
    from events.audit import chain
    from events.audit.trail import stored_record

    as_attacker(trail.dsn, "UPDATE access_log SET employee_id = 'nobody' WHERE chain_seq = 2")
    stored = rows(trail.dsn, "SELECT * FROM access_log ORDER BY chain_seq")
    forged = chain.build(stored_record(r) for r in stored)  # the algorithm is no secret
    as_attacker(
        trail.dsn,
        *(f"UPDATE access_log SET prev_hash = '{r.prev_hash}', hash = '{r.hash}'"
          f" WHERE chain_seq = {r.seq}" for r in forged),
    )
    report = _verify(api, auth)
    assert report["ok"] is False and report["first_bad"] == ROWS
    assert "signed checkpoint" in report["reason"]


def test_the_audit_triggers_refuse_rewrites_even_to_the_owner(trail):
    for statement in ("UPDATE access_log SET role = 'x'", "DELETE FROM access_log",
                      "TRUNCATE access_log", "DELETE FROM audit_checkpoints"):
        with psycopg.connect(trail.dsn) as conn, pytest.raises(psycopg.errors.RaiseException):
            conn.execute(statement)  # type: ignore[arg-type]


def test_the_api_role_can_read_but_not_rewrite_the_trail(trail, api):
    assert api.app.state.db_role == "kartoteka_api_login"
    with psycopg.connect(trail.dsn) as conn:
        conn.execute("SET ROLE kartoteka_api")
        assert conn.execute("SELECT count(*) FROM access_log").fetchone()[0] == ROWS
        for statement in ("UPDATE access_log SET role = 'x'", "DELETE FROM access_log",
                          "INSERT INTO access_log (id) VALUES (gen_random_uuid())",
                          "UPDATE audit_chain_head SET seq = 0"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)  # type: ignore[arg-type]
            conn.rollback()
            conn.execute("SET ROLE kartoteka_api")


def test_the_api_pool_queries_as_the_restricted_role(api):
    import asyncio

    async def whoami() -> str:
        async with api.app.state.pool.connection() as conn:
            row = await (await conn.execute("SELECT current_user")).fetchone()
            return str(row[0])

    assert api.portal.call(asyncio.wait_for, whoami(), 5) == "kartoteka_api_login"


def test_a_verify_that_finds_a_fault_records_a_chain_integrity_alert_the_relay_publishes(
    trail, api, auth
):
    as_attacker(trail.dsn, "DELETE FROM access_log WHERE chain_seq = 2")
    assert _verify(api, auth)["first_bad"] == 2
    # The GET only recorded it: nothing is on alerts.v1 until the relay publishes the outbox.
    assert read_all(trail, trail.topic(topics.ALERTS), timeout_s=2) == []
    with running(trail, ("relay",)):
        alerts = wait_until(
            lambda: [json.loads(r.value) for r in read_all(trail, trail.topic(topics.ALERTS))],
            message="the alert on alerts.v1",
        )
    assert [(a["data"]["kind"], a["data"]["evidence"]["first_bad"]) for a in alerts] == [
        ("chain_integrity", 2)
    ]


def test_the_projection_raises_an_alert_when_the_tail_it_signed_is_gone(trail):
    as_attacker(trail.dsn, f"DELETE FROM access_log WHERE chain_seq = {ROWS}")
    produce_accesses(trail, [access("emp-7", customer_ids=["c-after"])])
    with running(trail, ("audit", "relay")):
        wait_until(lambda: _chained(trail.dsn) == ROWS, message="the new row chained")
        found = wait_until(
            lambda: [json.loads(r.value) for r in read_all(trail, trail.topic(topics.ALERTS))],
            message="an alert on alerts.v1",
        )
    assert found[0]["data"]["kind"] == "chain_integrity"
    assert found[0]["data"]["evidence"]["first_bad"] == ROWS
    # The new row links to the signed head, so the hole stays exactly where it was.
    assert _verify_first_bad(trail) == ROWS


def _verify_first_bad(settings) -> int | None:
    from fastapi.testclient import TestClient

    from kartoteka.auth import Role, mint
    from services.api.app import create_app

    token = mint(settings.secret, "sec-1", Role.security_officer, 60)
    with TestClient(create_app(settings)) as client:
        answer = client.get("/v1/audit/verify", headers={"Authorization": f"Bearer {token}"})
    return answer.json()["first_bad"]
