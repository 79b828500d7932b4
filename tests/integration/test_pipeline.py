"""Interactions flow from ingest through Kafka and the workers to the timeline, exactly once."""

from __future__ import annotations

import psycopg
import pytest

from tests.support.data import interaction, unique_phone
from tests.support.ids import deployed_id
from tests.support.workers import running, wait_until

pytestmark = pytest.mark.integration
PIPELINE = ("resolver", "relay", "timeline")


def _timeline_rows(dsn: str) -> int:
    with psycopg.connect(dsn) as conn:
        return conn.execute("SELECT count(*) FROM timeline").fetchone()[0]  # type: ignore[index]


def _find(api, auth, q: str) -> list[dict]:
    response = api.get("/v1/customers", params={"q": q}, headers=auth("agent"))
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_ingested_interactions_appear_in_the_timeline_newest_first(settings, ingest, api, auth):
    phone = unique_phone()
    sent = [
        interaction(
            customer={"phone": phone}, occurred_at=f"2026-11-0{day}T10:00:00+03:00", channel=channel
        )
        for day, channel in ((1, "call"), (2, "sms"), (3, "call"), (4, "chat"))
    ]
    for item in sent:
        response = ingest.post("/v1/interactions", json=item, headers=auth("channel", "tel"))
        assert response.status_code == 202, response.text
        assert response.json() == {
            "id": deployed_id(settings, item["channel"], item["external_id"]),
            "status": "accepted",
        }
    with running(settings, PIPELINE):
        found = wait_until(lambda: _find(api, auth, phone), message="customer searchable")
        customer_id = found[0]["id"]
        wait_until(lambda: _timeline_rows(settings.dsn) == 4, message="four timeline rows")
    page = api.get(f"/v1/customers/{customer_id}/timeline", headers=auth("agent")).json()
    assert [i["external_id"] for i in page["items"]] == [i["external_id"] for i in reversed(sent)]
    assert page["next"] is None
    calls = api.get(
        f"/v1/customers/{customer_id}/timeline",
        params={"channel": "call", "limit": 1},
        headers=auth("agent"),
    ).json()
    assert [i["external_id"] for i in calls["items"]] == [sent[2]["external_id"]]
    rest = api.get(
        f"/v1/customers/{customer_id}/timeline",
        params={"channel": "call", "limit": 1, "before": calls["next"]},
        headers=auth("agent"),
    ).json()
    assert [i["external_id"] for i in rest["items"]] == [sent[0]["external_id"]]
    assert rest["next"] is None


def test_a_delivery_retried_three_times_leaves_one_event_and_one_row(settings, ingest, auth):
    item = interaction()
    answers = [
        ingest.post("/v1/interactions", json=item, headers=auth("channel", "tel")) for _ in range(4)
    ]
    assert [a.json()["status"] for a in answers] == [
        "accepted",
        "duplicate",
        "duplicate",
        "duplicate",
    ]
    assert len({a.json()["id"] for a in answers}) == 1
    with running(settings, PIPELINE):
        wait_until(lambda: _timeline_rows(settings.dsn) == 1, message="one timeline row")
    # After the resolver recorded it, a retry through a fresh ingest process is still a duplicate.
    from fastapi.testclient import TestClient

    from services.ingest.app import create_app

    with TestClient(create_app(settings)) as restarted:
        again = restarted.post("/v1/interactions", json=item, headers=auth("channel", "tel"))
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    with psycopg.connect(settings.dsn) as conn:
        versions = conn.execute(
            "SELECT count(*) FROM identity_events WHERE originator_id = %s",
            (answers[0].json()["id"],),
        ).fetchone()[0]
    assert versions == 1
    assert _timeline_rows(settings.dsn) == 1


def test_the_same_record_produced_three_times_to_kafka_yields_one_timeline_row(
    settings, ingest, auth
):
    from kartoteka import kafka
    from services.ingest.accept import Accepted, accept
    from tests.support.ids import SECRET

    item = interaction()
    accepted = accept(item, SECRET)
    assert isinstance(accepted, Accepted)
    producer = kafka.producer(settings)
    from datetime import UTC, datetime

    for _ in range(3):
        producer.send(
            settings.topic("interactions.v1"),
            key=accepted.key,
            value=accepted.record(datetime.now(UTC)),
        ).get(10)
    producer.close()
    with running(settings, PIPELINE):
        wait_until(lambda: _timeline_rows(settings.dsn) == 1, message="one timeline row")
        wait_until(lambda: _lag_zero(settings), message="workers caught up")
    assert _timeline_rows(settings.dsn) == 1


def _lag_zero(settings) -> bool:
    import json

    paths = [settings.data_dir / "run" / f"{settings.topic_prefix}{n}.status.json"
             for n in ("resolver", "relay", "timeline")]
    if not all(p.exists() for p in paths):
        return False
    return all(json.loads(p.read_text())["lag"] == 0 for p in paths)
