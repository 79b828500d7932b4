"""A batch through the real ingest: every accepted item is on Kafka exactly once, in the
contract's envelope (sealed under its own key), keyed by a token of its primary identifier;
repeats are duplicates, also after a restart once the resolver has recorded them."""

from __future__ import annotations

from collections import Counter

import pytest
from fastapi.testclient import TestClient

from events import sealing, topics
from events.catalog import INTERACTION_RECEIVED
from events.envelope import decode
from events.interaction import Interaction
from kartoteka.keystore import KeyRing, master_key
from services.ingest.app import create_app
from tests.support.data import interaction, unique_phone
from tests.support.ids import deployed_id
from tests.support.kafka_tools import opened, read_all
from tests.support.workers import running, wait_until

pytestmark = pytest.mark.integration


def test_a_batch_lands_on_kafka_once_per_item_and_repeats_are_duplicates(settings, ingest, auth):
    items = [interaction(customer={"phone": unique_phone(), "email": f"B{n}@Example.RU"})
             for n in range(300)]
    items.append(dict(items[5]))  # a repeat inside the batch
    items.append(interaction(channel="fax"))  # a bad one
    answer = ingest.post("/v1/interactions/batch", json={"items": items},
                         headers=auth("channel", "tel"))
    assert answer.status_code == 202, answer.text
    results = answer.json()["results"]
    ids = [deployed_id(settings, i["channel"], i["external_id"]) for i in items]
    assert [r["id"] for r in results] == ids
    assert Counter(r["status"] for r in results) == {"accepted": 300, "duplicate": 1, "rejected": 1}
    assert results[300]["status"] == "duplicate" and "channel" in results[301]["error"]

    records = read_all(settings, settings.topic(topics.INTERACTIONS))
    values = opened(settings, records)
    assert sorted(decode(v)[0].id for v in values) == sorted(ids[:300])
    by_id = {decode(v)[0].id: (r, v) for r, v in zip(records, values, strict=True)}
    pepper = KeyRing(master_key(settings)).pepper
    for item, id_ in zip(items[:300], ids[:300], strict=True):
        record, value = by_id[id_]
        assert sealing.subject_of(record.value) == f"i:{id_}", "each interaction under its own key"
        envelope, payload = decode(value)
        expected = Interaction.model_validate(item)
        assert payload == expected
        assert envelope.type == INTERACTION_RECEIVED and envelope.source == "kartoteka/ingest"
        assert envelope.subject == expected.primary_identifier().key
        # The record key is a keyed token of the identifier: same partition, no plain phone.
        assert record.key == sealing.token(pepper, envelope.subject).encode()
        assert dict(record.headers)["event-type"] == INTERACTION_RECEIVED.encode()

    again = ingest.post("/v1/interactions/batch", json={"items": items[:10]},
                        headers=auth("channel", "tel"))
    assert [r["status"] for r in again.json()["results"]] == ["duplicate"] * 10

    with running(settings, ("resolver",)):
        wait_until(lambda: _attributed(settings.dsn, ids[:300]) == 300, message="all attributed")
    with TestClient(create_app(settings)) as restarted:
        retried = restarted.post("/v1/interactions/batch", json={"items": items[:50]},
                                 headers=auth("channel", "tel"))
    assert [r["status"] for r in retried.json()["results"]] == ["duplicate"] * 50
    assert len(read_all(settings, settings.topic(topics.INTERACTIONS))) == 300


def _attributed(dsn: str, ids: list[str]) -> int:
    import psycopg

    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT count(*) FROM identity_events WHERE originator_id = ANY(%s::uuid[])"
            " AND originator_version = 1", (ids,),
        ).fetchone()
    return int(row[0]) if row else 0
