"""Anchors the audit chain head outside the database (an append-only file in the data dir)."""
