"""Shared plumbing: settings, logging, Kafka and Postgres setup, the embedded runtime.

The entry points (CLI, ASGI apps, supervisor, simulator) live in ``kartoteka.entrypoints``, the
one layer that imports ``services``; the rest of this package never does.
"""
