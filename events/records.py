"""A record on its way to a topic, as senders write it to the outbox and the relay sends it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Outgoing:
    """Key, value and headers for ``topic`` (the contract's name, without a deployment prefix)."""

    topic: str
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()
