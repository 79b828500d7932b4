"""Concurrent single deliveries through the real ingest and broker: they share produce flushes, yet
each answers 202 with its own id only once its record is on Kafka, and each lands exactly once."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from events import topics
from events.envelope import decode
from events.ids import interaction_id
from tests.support.data import interaction, unique_phone
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

    ids = [interaction_id(i["channel"], i["external_id"]) for i in items]
    for item_id, (status, body) in zip(ids, answers[:160], strict=True):
        assert (status, body) in [(202, {"id": item_id, "status": "accepted"}),
                                  (200, {"id": item_id, "status": "duplicate"})], (status, body)
    repeated = Counter((status, body["status"], body["id"]) for status, body in answers[7:8] + answers[160:])
    assert repeated == {(202, "accepted", ids[7]): 1, (200, "duplicate", ids[7]): 6}
    assert [a[0] for i, a in enumerate(answers[:160]) if i != 7] == [202] * 159

    landed = Counter(decode(v)[0].id for v in read_opened(settings, settings.topic(topics.INTERACTIONS)))
    assert landed == dict.fromkeys(ids, 1)
    assert ingest.app.state.coalescer.flushes < len(items), "concurrent deliveries share flushes"
