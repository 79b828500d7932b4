"""What every channel adapter returns: canonical items, per-item rejections, or a refusal."""

from __future__ import annotations

from typing import Any

from services.ingest.accept import Rejected

Item = dict[str, Any] | Rejected
"""A canonical interaction (validated later by the shared accept path) or why a part was refused."""


class Refused(Exception):  # noqa: N818 - a refusal, not a failure
    """The whole request is refused: a 4xx in the contract's error shape."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def clip(text: str | None, limit: int) -> str | None:
    """Text fit for the contract: no NUL (PostgreSQL refuses it), at most ``limit`` characters."""
    if text is None:
        return None
    text = text.replace("\x00", "")
    return text if len(text) <= limit else text[: limit - 1] + "…"
