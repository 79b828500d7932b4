"""List answers as JSON (default) or CSV (``Accept: text/csv``), with the next page's cursor."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from fastapi import Request, Response

JSON = "application/json"
CSV = "text/csv; charset=utf-8"


def wants_csv(request: Request) -> bool:
    return "text/csv" in request.headers.get("accept", "")


def answer(request: Request, items: list[dict[str, Any]], next_cursor: str | None,
           columns: Sequence[str] | None = None, key: str = "items") -> Response:
    """``{"items": [...], "next": ...}``, or the items as CSV with the cursor in a ``Link``-like header."""
    if wants_csv(request):
        headers = {"X-Next-Cursor": next_cursor} if next_cursor else {}
        return Response(to_csv(items, columns), media_type=CSV, headers=headers)
    body = json.dumps({key: items, "next": next_cursor}, default=_plain, ensure_ascii=False,
                      separators=(",", ":"))
    return Response(body.encode(), media_type=JSON)


def to_csv(items: list[dict[str, Any]], columns: Sequence[str] | None = None) -> bytes:
    """RFC 4180 text; lists are joined with ``;``, times in ISO 8601."""
    names = list(columns or (items[0].keys() if items else []))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(names)
    for item in items:
        writer.writerow([_cell(item.get(name)) for name in names])
    return out.getvalue().encode()


def _cell(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return ";".join(str(v) for v in value)
    if value is None:
        return ""
    return _plain(value) if isinstance(value, datetime | date | Decimal) else value


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"not JSON: {type(value).__name__}")
