"""Ingest: channels -> validated interaction events on Kafka."""
