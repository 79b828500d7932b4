"""Shared plumbing: settings, logging, Kafka and Postgres setup, the embedded runtime, the CLI."""
