"""How long one Kafka hop on the embedded Tansu takes at a given fetch max wait: one record
produced a few ms into a waiting fetch, the time until the consumer has it (p50, max).

``python -m bench.fetch_wait`` (starts its own broker). It tells whether the broker answers a
waiting fetch when a record arrives or at the end of the wait, i.e. what a hop adds to freshness.
"""

from __future__ import annotations

import statistics
import tempfile
import threading
import time
from pathlib import Path

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic

from kartoteka.embedded import EmbeddedBroker, free_port

WAITS_MS = (500, 50, 20)
ROUNDS = 30


def hop_ms(boot: str, producer: KafkaProducer, wait_ms: int) -> list[float]:
    consumer = KafkaConsumer(bootstrap_servers=boot, fetch_max_wait_ms=wait_ms, fetch_min_bytes=1,
                             enable_auto_commit=False)
    tp = TopicPartition("hop", 0)
    consumer.assign([tp])
    consumer.seek_to_end(tp)
    consumer.poll(100)
    found = []
    for i in range(ROUNDS):
        sent: dict[str, float] = {}
        # spread over the first tenth of the wait
        sender = threading.Thread(target=_send, args=(producer, sent, 0.003 + (i % 10) * wait_ms / 10_000))
        sender.start()
        while not consumer.poll(timeout_ms=2000):
            pass
        found.append((time.monotonic() - sent["at"]) * 1000)
        sender.join()
    consumer.close()
    return sorted(found)


def _send(producer: KafkaProducer, sent: dict[str, float], delay_s: float) -> None:
    time.sleep(delay_s)
    sent["at"] = time.monotonic()
    producer.send("hop", b"x").get(5)


def main() -> None:
    broker = EmbeddedBroker(free_port(), "127.0.0.1", log_path=Path(tempfile.mkdtemp()) / "tansu.log")
    boot = broker.start()
    try:
        KafkaAdminClient(bootstrap_servers=boot).create_topics([NewTopic("hop", 1, 1)])
        producer = KafkaProducer(bootstrap_servers=boot, linger_ms=0, acks="all")
        for wait_ms in WAITS_MS:
            found = hop_ms(boot, producer, wait_ms)
            print(f"fetch max wait {wait_ms:4d} ms: hop p50 {statistics.median(found):6.1f} ms,"
                  f" max {found[-1]:6.1f} ms")
        producer.close()
    finally:
        broker.stop()


if __name__ == "__main__":
    main()
