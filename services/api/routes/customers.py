"""Customer routes for agents and supervisors; each read leaves an access record."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from events.interaction import Channel
from kartoteka.auth import Principal, Role
from kartoteka.http import ApiError, require_roles
from services.api import views
from services.api.pagination import MAX_LIMIT, decode_cursor, encode_cursor

router = APIRouter(prefix="/v1/customers", tags=["customers"])
Agent = Annotated[Principal, Depends(require_roles(Role.agent, Role.supervisor))]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


def customer_id_or_404(raw: str) -> str:
    try:
        return str(uuid.UUID(raw))
    except ValueError as exc:
        raise ApiError(404, "not_found", "no such customer") from exc


@router.get("", responses={401: {}, 403: {}, 503: {}})
async def search(
    request: Request,
    who: Agent,
    q: Annotated[str, Query(min_length=1, max_length=200)],
    limit: Limit = 50,
) -> dict[str, Any]:
    """Find customers by phone in any spelling, email or name."""
    items = await views.search(request.app.state.pool, q.strip(), limit)
    await request.app.state.auditor.record(
        request, who, "customer.search", [i["id"] for i in items], q
    )
    return {"items": items}


@router.get("/{customer_id}", responses={401: {}, 403: {}, 404: {}, 503: {}})
async def card(request: Request, who: Agent, customer_id: str) -> dict[str, Any]:
    """The unified customer card."""
    cid = customer_id_or_404(customer_id)
    found = await views.card(request.app.state.pool, cid)
    seen = [cid] + ([found["id"]] if found and found["id"] != cid else [])
    await request.app.state.auditor.record(request, who, "customer.card", seen)
    if found is None:
        raise ApiError(404, "not_found", "no such customer")
    return found


@router.get("/{customer_id}/timeline", responses={400: {}, 401: {}, 403: {}, 404: {}, 503: {}})
async def timeline(
    request: Request,
    who: Agent,
    customer_id: str,
    channel: Channel | None = None,
    before: Annotated[str | None, Query(max_length=200)] = None,
    limit: Limit = 50,
) -> dict[str, Any]:
    """One customer's contact history across channels, newest first, cursor paginated."""
    cid = customer_id_or_404(customer_id)
    cursor = tuple(decode_cursor(before, (datetime, int))) if before else None
    pool = request.app.state.pool
    found = await views.members(pool, cid)
    root = found[0] if found else cid
    await request.app.state.auditor.record(request, who, "customer.timeline", list(dict.fromkeys([cid, root])))
    if found is None:
        raise ApiError(404, "not_found", "no such customer")
    rows = await views.timeline(pool, found[1], channel.value if channel else None, cursor, limit)  # type: ignore[arg-type]
    page, more = rows[:limit], len(rows) > limit
    next_cursor = encode_cursor(page[-1]["occurred_at"], page[-1]["seq"]) if more else None
    return {
        "items": [
            {k: (str(v) if k == "id" else v) for k, v in r.items() if k != "seq"} for r in page
        ],
        "next": next_cursor,
    }
