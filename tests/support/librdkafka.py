"""librdkafka (through the ``confluent-kafka`` wheel) as a foreign Kafka producer.

kcat is the same C client, but Debian's kcat bundles librdkafka 2.0.2, which cannot read the
embedded broker's ApiVersions answer; the wheel's newer librdkafka can, so a non-Python client
writes to the raw topic in every run, not only against Apache Kafka.
"""

from __future__ import annotations

from confluent_kafka import KafkaError, Producer


def produce(bootstrap: str, topic: str, lines: list[tuple[str, str]]) -> None:
    """Each (key, value) as one record, with the client's own default partitioner."""
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all"})
    failures: list[KafkaError] = []

    def delivered(error: KafkaError | None, _message: object) -> None:
        if error is not None:
            failures.append(error)

    for key, value in lines:
        producer.produce(topic, key=key.encode(), value=value.encode(), on_delivery=delivered)
    assert producer.flush(30) == 0, "librdkafka did not deliver every record within 30 s"
    assert not failures, failures
