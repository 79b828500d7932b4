"""The checkpoints published to audit.checkpoints.v1 (outbox + relay) are the third copy of the
chain: a deleted or cut anchor file, and a database restored while the file is away, still
answer ``"ok": false`` from /v1/audit/verify."""

from __future__ import annotations

import json

import pytest

from events.audit.trail import CHAIN
from services.api.published import read_published
from tests.integration.test_audit_anchor import _chain, _head, _verify, restore
from tests.support.workers import running, wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def published(settings):
    """Six rows in two batches, each batch's head checkpointed, anchored and published."""
    workers = settings.model_copy(update={"audit_checkpoint_rows": 1})
    with running(workers, ("audit", "anchor", "relay")):
        _chain(workers, 3)
        backup = _head(settings)
        _chain(workers, 3, first=3)
        wait_until(lambda: [p.checkpoint.seq for p in read_published(settings, CHAIN)] == [3, 6],
                   message="checkpoints 3 and 6 published")
    return settings, backup


def test_verify_names_the_latest_published_checkpoint(published, api, auth):
    report = _verify(api, auth)
    assert report["ok"] is True and report["published"]["seq"] == 6 and report["anchor"]["seq"] == 6


def test_a_deleted_anchor_file_is_caught(published, api, auth):
    settings, _ = published
    settings.anchor_path.unlink()
    # A checkpoint younger than the anchor worker's few rounds may not be in the file yet:
    # seq 3 is named first, the newest (6) once it is old enough.
    wait_until(lambda: "checkpoint seq 6 was" in (_verify(api, auth)["reason"] or ""),
               message="the deletion found")
    report = _verify(api, auth)
    assert report["ok"] is False and report["first_bad"] is None and report["anchor"] is None
    assert "anchor file is missing or empty" in report["reason"]
    assert "published to audit.checkpoints.v1" in report["reason"]


def test_a_truncated_anchor_file_is_caught(published, api, auth):
    settings, _ = published
    first = settings.anchor_path.read_text().splitlines()[0]
    assert json.loads(first)["seq"] == 3
    settings.anchor_path.write_text(first + "\n")
    wait_until(lambda: _verify(api, auth)["ok"] is False, message="the truncation found")
    assert "anchor file ends at seq 3" in _verify(api, auth)["reason"]


def test_a_restored_database_with_the_anchor_file_away_is_caught(published, api, auth):
    settings, backup = published
    restore(settings, backup)
    settings.anchor_path.rename(settings.anchor_path.with_suffix(".away"))
    report = _verify(api, auth)
    assert (report["ok"], report["checked"], report["first_bad"]) == (False, 3, 4)
    assert "seq 6 was published to audit.checkpoints.v1" in report["reason"]
    assert "restored from an earlier copy" in report["reason"]
