"""Simulated staff through the real pipeline: the detectors worker raises what the detectors
raise over the same trail (injected insiders among them), and replay-detectors over the stored
trail finds the same alerts without duplicating them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from events import sealing, topics
from kartoteka import db
from kartoteka.entrypoints.cli import parser
from kartoteka.entrypoints.simulate import command
from kartoteka.entrypoints.simulate.measure import detect, simulate
from kartoteka.entrypoints.simulate.publish import Publisher
from services.projections.detect.replay import replay
from tests.support.audit import count, rows
from tests.support.kafka_tools import read_all
from tests.support.workers import running, wait_until

pytestmark = pytest.mark.integration
INJECT = ["bulk_export", "breadth", "enumeration"]
ARGS = ["simulate-staff", "--employees", "10", "--days", "12", "--seed", "7", "--produce",
        "--with-interactions", "--inject", *INJECT]


def test_injected_insiders_are_caught_by_the_workers_and_a_replay_adds_nothing(settings, capsys):
    args = parser().parse_args(ARGS)
    # The same run the command produces: same seed, and (as it produces) ending today.
    expected = simulate(10, 12, INJECT, 7, datetime.now(UTC).date())
    known = sum(len(e.known) for e in expected.staff.employees)
    with running(settings, ("resolver", "relay", "timeline", "employees")):
        assert command.run(settings, args) == 0
        wait_until(lambda: count(settings.dsn, "SELECT count(*) FROM timeline") == known,
                   timeout_s=180, message="every simulated customer on a timeline")
    output = capsys.readouterr().out
    assert "access events" in output and "acknowledged" in output
    publisher = Publisher(settings, f"7-{expected.staff.start.isoformat()}")  # the command's tag
    phones = {publisher.phone(c)[2:].encode() for e in expected.staff.employees for c in e.known}
    for topic in (topics.INTERACTIONS, topics.ACCESS):  # sealed like ingest and the api seal
        produced = read_all(settings, settings.topic(topic))
        assert produced and all(sealing.is_sealed(r.value) for r in produced), f"a plain record on {topic}"
        readable = b"\n".join((r.key or b"") + r.value for r in produced)
        assert not [p for p in phones if p in readable], f"a customer's phone readable on {topic}"
    # What the detectors raise over this trail, computed without the pipeline. Which injections
    # they catch depends on the simulated days, which end today (recall is what
    # `simulate-staff` measures over many seeds): of seed 7's three, two or three on every
    # third day of 2027-2028.
    offline = {(a.employee_id, a.kind) for a in detect(expected)}
    targets = {(i.employee_id, i.kind) for i in expected.injections} & offline
    assert len(targets) >= 2
    with running(settings, ("audit", "detect", "relay", "alerts")):
        wait_until(lambda: offline <= _raised(settings), timeout_s=180,
                   message="every alert the detectors raise over the trail raised by the workers")
        wait_until(lambda: count(settings.dsn, "SELECT count(*) FROM access_log")
                   == expected.log.count(), timeout_s=120, message="the trail complete")
    before = count(settings.dsn, "SELECT count(*) FROM alerts")
    datastore = db.datastore(settings.dsn, pool_size=1)
    try:
        found: list = []
        report = replay(datastore, found.extend, progress=lambda _: None)
    finally:
        datastore.close()
    assert report.employees == len(expected.log.accesses)
    assert report.accesses == expected.log.count()
    replayed = {(a.employee_id, a.kind) for a in found}
    assert targets <= replayed
    stored = {r["id"] for r in rows(settings.dsn, "SELECT id::text FROM alerts")}
    assert {a.id for a in found if (a.employee_id, a.kind) in targets} <= stored
    assert count(settings.dsn, "SELECT count(*) FROM alerts") == before


def _raised(settings) -> set[tuple[str, str]]:
    return {(r["employee_id"], r["kind"])
            for r in rows(settings.dsn, "SELECT employee_id, kind FROM alerts")}
