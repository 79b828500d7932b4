"""The alert workflow's pure rules: which status changes are allowed, what a false positive silences."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from events.alert_workflow import allowed, suppression_end

AT = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


@pytest.mark.parametrize(("current", "new", "ok"), [
    ("open", "acknowledged", True), ("open", "resolved", True), ("open", "false_positive", True),
    ("suppressed", "acknowledged", True), ("acknowledged", "resolved", True),
    ("acknowledged", "false_positive", True), ("acknowledged", "acknowledged", False),
    ("resolved", "false_positive", False), ("false_positive", "resolved", False),
    ("resolved", "acknowledged", False),
])
def test_open_and_acknowledged_alerts_move_on_and_final_ones_stay(current, new, ok):
    assert allowed(current, new) is ok


def test_only_a_false_positive_suppresses_and_for_the_configured_days():
    assert suppression_end("false_positive", AT, 14) == AT + timedelta(days=14)
    assert suppression_end("resolved", AT, 14) is None
    assert suppression_end("false_positive", AT, 0) is None
