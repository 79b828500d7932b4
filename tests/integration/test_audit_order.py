"""The access list is newest first by the time of the access, ties by sequence (issue 19)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.support.audit import access, count, produce_accesses, rows
from tests.support.workers import running, wait_until


def test_access_list_is_newest_first_by_time_even_when_records_arrive_out_of_order(
        settings, api, auth):
    base = datetime(2026, 12, 1, 20, 24, 46, tzinfo=UTC)
    # Arrival order on access.v1 (what seq follows) differs from the order they happened.
    offsets_ms = [436, 462, 100, 900, 462, 5]
    produce_accesses(settings, [access(f"emp-{n}", at=base + timedelta(milliseconds=ms))
                                for n, ms in enumerate(offsets_ms)])
    officer = auth("security_officer", "sec-1")
    with running(settings, ("audit",)):
        wait_until(lambda: count(settings.dsn, "SELECT count(*) FROM access_log "
                                 "WHERE employee_id LIKE 'emp-%'") == len(offsets_ms),
                   message="accesses on the trail")
    pages, before = [], None
    while True:
        params = {"limit": 2, **({"before": before} if before else {})}
        body = api.get("/v1/audit/access", params=params, headers=officer).json()
        pages.extend(i for i in body["items"] if i["employee_id"].startswith("emp-"))
        before = body["next"]
        if before is None:
            break
    times = [datetime.fromisoformat(i["at"]) for i in pages]
    assert times == sorted(times, reverse=True)
    assert len(pages) == len(offsets_ms)  # the cursor neither skips nor repeats
    # Two accesses at the same instant: the later on the trail (higher sequence) first.
    seq = {r["employee_id"]: r["seq"] for r in rows(settings.dsn, "SELECT employee_id, seq FROM access_log")}
    tied = [i["employee_id"] for i in pages if i["employee_id"] in ("emp-1", "emp-4")]
    assert tied == sorted(("emp-1", "emp-4"), key=seq.__getitem__, reverse=True)
