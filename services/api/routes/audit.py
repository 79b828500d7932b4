"""Audit routes for security officers; reading the trail is itself audited."""

from __future__ import annotations

import csv
import io
import logging
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse

from kartoteka import metrics
from kartoteka.auth import Principal, Role
from kartoteka.http import require_roles
from services.api.pagination import MAX_LIMIT, decode_cursor, encode_cursor
from services.api.queries.access import AccessFilter, access_page, access_stream
from services.api.verification import record_chain_alert, verify_trail

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1/audit", tags=["audit"])
Officer = Annotated[Principal, Depends(require_roles(Role.security_officer))]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
ShortQuery = Annotated[str | None, Query(max_length=200)]
CSV_FIELDS = ("id", "employee_id", "role", "action", "customer_ids", "at", "request_id",
              "client", "route", "query")


def _access_item(r: dict[str, Any]) -> dict[str, Any]:
    return {name: (str(r[name]) if name == "id" else r[name]) for name in CSV_FIELDS}


@router.get("/access", responses={400: {}, 401: {}, 403: {}, 503: {}})
async def access(
    request: Request,
    who: Officer,
    employee_id: ShortQuery = None,
    customer_id: ShortQuery = None,
    from_: Annotated[datetime | None, Query(alias="from")] = None,
    to: datetime | None = None,
    before: ShortQuery = None,
    limit: Limit = 50,
    format: Literal["json", "csv"] = "json",
) -> Any:
    """Access records: who saw which customer, when, from where; newest first by the time of
    the access (ties by sequence). ``format=csv`` exports the whole result in that order (up
    to 100 000 rows) as a CSV download."""
    where = AccessFilter(employee_id, customer_id, from_, to)
    asked = f"employee_id={employee_id} customer_id={customer_id} from={from_} to={to}"
    if format == "csv":
        await _record(request, who, "audit.export", customer_id, f"{asked} format=csv")
        return _csv_download(request, where)
    decoded = decode_cursor(before, (datetime, int)) if before else None
    cursor = (decoded[0], decoded[1]) if decoded else None
    rows = await access_page(request.app.state.pool, where, cursor, limit)
    await _record(request, who, "audit.access", customer_id, asked)
    page = rows[:limit]
    next_cursor = encode_cursor(page[-1]["at"], page[-1]["seq"]) if len(rows) > limit else None
    return {"items": [_access_item(r) for r in page], "next": next_cursor}


def _csv_download(request: Request, where: AccessFilter) -> StreamingResponse:
    async def lines() -> AsyncIterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_FIELDS)
        async for row in access_stream(request.app.state.pool, where):
            item = _access_item(row)
            item["customer_ids"] = " ".join(item["customer_ids"])
            item["at"] = item["at"].isoformat()
            writer.writerow(item[name] for name in CSV_FIELDS)
            if buffer.tell() > 64 * 1024:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    headers = {"Content-Disposition": f'attachment; filename="access-{stamp}.csv"'}
    return StreamingResponse(lines(), media_type="text/csv; charset=utf-8", headers=headers)


@router.get("/verify", responses={401: {}, 403: {}, 503: {}})
async def verify(request: Request, who: Officer) -> dict[str, Any]:
    """Recompute the hash chain of the access trail: ``{"ok", "checked", "first_bad"}``
    plus the reason of the first fault. A fault also records a ``chain_integrity`` alert
    (in the outbox: a read never produces)."""
    state = request.app.state
    report = await verify_trail(state.pool, state.checkpoint_key,
                                anchor_path=state.settings.anchor_path, settings=state.settings)
    metrics.VERIFIED_AT.set(time.time())
    metrics.VERIFIED_OK.set(1 if report.ok else 0)
    await _record(request, who, "audit.verify", None, None)
    if not report.ok and report.first_bad is not None:
        await record_chain_alert(state.pool, report.first_bad, report.reason or "chain broken")
    return report.as_json()


async def _record(
    request: Request, who: Principal, action: Any, customer_id: str | None, query: str | None
) -> None:
    await request.app.state.auditor.record(
        request, who, action, [customer_id] if customer_id else [], query
    )
