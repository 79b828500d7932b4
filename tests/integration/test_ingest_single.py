"""Concurrent single deliveries through the real ingest and broker: they share produce flushes, yet
each answers 202 with its own id only once its record is on Kafka, and each lands exactly once;
without a broker every request of a flush answers 503."""

from __future__ import annotations

import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from kafka.errors import KafkaTimeoutError
from prometheus_client.parser import text_string_to_metric_families

from events import topics
from events.envelope import decode
from kartoteka.auth import Role, mint
from tests.support.data import interaction, unique_phone
from tests.support.dedicated import dedicated_broker
from tests.support.faults import ingest_app
from tests.support.ids import deployed_id
from tests.support.kafka_tools import read_opened

pytestmark = pytest.mark.integration


def test_concurrent_single_posts_each_answer_202_with_their_id_and_land_exactly_once(settings, ingest, auth):
    items = [interaction(customer={"phone": unique_phone()}) for _ in range(160)]
    repeats = [items[7]] * 6  # one delivery sent six times at once: one event, five duplicates
    headers = auth("channel", "pbx")

    def post(item: dict[str, Any]) -> tuple[int, Any]:
        answer = ingest.post("/v1/interactions", json=item, headers=headers)
        return answer.status_code, answer.json()

    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(post, items + repeats))

    ids = [deployed_id(settings, i["channel"], i["external_id"]) for i in items]
    for item_id, (status, body) in zip(ids, answers[:160], strict=True):
        assert (status, body) in [(202, {"id": item_id, "status": "accepted"}),
                                  (200, {"id": item_id, "status": "duplicate"})], (status, body)
    repeated = Counter((status, body["status"], body["id"]) for status, body in answers[7:8] + answers[160:])
    assert repeated == {(202, "accepted", ids[7]): 1, (200, "duplicate", ids[7]): 6}
    assert [a[0] for i, a in enumerate(answers[:160]) if i != 7] == [202] * 159

    landed = Counter(decode(v)[0].id for v in read_opened(settings, settings.topic(topics.INTERACTIONS)))
    assert landed == dict.fromkeys(ids, 1)
    assert ingest.app.state.coalescer.flushes < len(items), "concurrent deliveries share flushes"
    # The operator sees where flushes wait: each one that produced counted once per stage.
    counts = {sample.labels["stage"]: sample.value
              for family in text_string_to_metric_families(ingest.get("/metrics").text)
              if family.name == "ingest_flush_stage_seconds"
              for sample in family.samples if sample.name.endswith("_count")}
    assert set(counts) == {"keys", "seal", "produce"}
    assert len(set(counts.values())) == 1 and 1 <= counts["produce"] <= ingest.app.state.coalescer.flushes


def test_when_the_broker_is_gone_every_request_of_the_flush_answers_503_and_none_202(infra):
    root = infra.root / f"single-down-{uuid.uuid4().hex[:8]}"
    root.mkdir()
    with dedicated_broker(root) as broker:
        settings = infra.new_settings(kafka_bootstrap_servers=broker.bootstrap)
        headers = {"Authorization": f"Bearer {mint(settings.secret, 'pbx', Role.channel, 600)}"}
        # Leaving the app, its producer gives up handing over what the dead broker never took.
        with pytest.raises(KafkaTimeoutError), ingest_app(settings) as ingest:
            post = lambda item: ingest.post("/v1/interactions", json=item, headers=headers)  # noqa: E731
            assert post(interaction(customer={"phone": unique_phone()})).status_code == 202
            broker.stop()
            items = [interaction(customer={"phone": unique_phone()}) for _ in range(8)]
            with ThreadPoolExecutor(8) as pool:
                answers = list(pool.map(post, items))
            flushes = ingest.app.state.coalescer.flushes
            sender = ingest.app.state.producer._sender

    assert {(a.status_code, a.json()["error"]["code"]) for a in answers} == {(503, "broker_unavailable")}
    assert flushes < 1 + len(items), "the requests shared flushes"
    # Closed all the same: no sender thread, no atexit close waiting on the dead broker again.
    sender.join(5)
    assert not sender.is_alive()
