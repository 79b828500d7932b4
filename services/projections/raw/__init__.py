"""Kafka-direct producers: canonical JSON on interactions.raw.v1, validated and forwarded."""
