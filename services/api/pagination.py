"""Opaque cursors: the previous page's ``next`` passed back as ``before``."""

from __future__ import annotations

import base64
import json
import math
import uuid
from datetime import datetime
from typing import Any

from kartoteka.http import ApiError

MAX_LIMIT = 500


def encode_cursor(*parts: Any) -> str:
    raw = json.dumps([p.isoformat() if isinstance(p, datetime) else p for p in parts])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _typed(part: Any, kind: type) -> Any:
    if kind is datetime:
        if not isinstance(part, str):
            raise TypeError("expected a timestamp")
        return datetime.fromisoformat(part)
    if kind is int:
        # bool is an int in Python, and floats would silently truncate: both are foreign here.
        if isinstance(part, bool) or not isinstance(part, int) or abs(part) > 2**63 - 1:
            raise TypeError("expected an integer")
        return part
    if kind is float:
        # A score: a JSON number, finite (NaN sorts above every score in PostgreSQL).
        if isinstance(part, bool) or not isinstance(part, int | float) or not math.isfinite(part):
            raise TypeError("expected a number")
        return float(part)
    if kind is str or kind is uuid.UUID:
        # A cursor's text goes into SQL: NUL or a non-id there is a database error, not a 400.
        if not isinstance(part, str) or "\x00" in part:
            raise TypeError("expected text")
        return part if kind is str else uuid.UUID(part)
    return kind(part)


def decode_cursor(cursor: str, shape: tuple[type, ...]) -> list[Any]:
    """Parts of a cursor, typed by ``shape``; anything else is a 400, never a 500."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        parts = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(parts, list) or len(parts) != len(shape):
            raise ValueError("wrong shape")
        return [_typed(p, t) for p, t in zip(parts, shape, strict=True)]
    except (ValueError, TypeError, UnicodeError, OverflowError, RecursionError) as exc:
        raise ApiError(400, "invalid_cursor", "before is not a cursor this API issued") from exc
