"""The relay: publishes what was recorded in PostgreSQL (the identity log, the outbox) to Kafka."""
