"""Projection workers: Kafka consumers -> PostgreSQL read models, identity, audit."""
