"""Retention's pure part: the cutoff per channel with a limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kartoteka.settings import Settings
from services.projections.retention.policy import cutoffs


def test_only_channels_with_a_limit_get_a_cutoff_that_many_days_back():
    now = datetime(2026, 12, 6, 12, tzinfo=UTC)
    assert cutoffs({"call": 1095, "sms": 30}, now) == [
        ("call", now - timedelta(days=1095)), ("sms", now - timedelta(days=30))]
    assert cutoffs({}, now) == []


def test_retention_days_come_from_the_environment_per_channel(monkeypatch):
    monkeypatch.setenv("KARTOTEKA_RETENTION_DAYS_CALL", "1095")
    monkeypatch.setenv("KARTOTEKA_RETENTION_DAYS_WEB_FORM", "90")
    assert Settings().retention_days() == {"call": 1095, "web_form": 90}
