"""Customer routes for agents and supervisors; each read leaves an access record."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from events.interaction import Channel
from kartoteka.auth import Principal, Role
from kartoteka.http import ApiError, require_roles
from services.api.pagination import MAX_LIMIT, decode_cursor, encode_cursor
from services.api.queries.customers import card_json
from services.api.queries.customers import search as find_customers
from services.api.queries.timeline import timeline_page

router = APIRouter(prefix="/v1/customers", tags=["customers"])
Agent = Annotated[Principal, Depends(require_roles(Role.agent, Role.supervisor))]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
JSON = "application/json"
_QUOTE = json.encoder.encode_basestring_ascii


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
) -> Response:
    """Find customers by phone in any spelling, email or name."""
    items = await find_customers(request.app.state.pool, q.strip(), limit)
    await request.app.state.auditor.record(
        request, who, "customer.search", [i["id"] for i in items], q
    )
    return _json({"items": items})


@router.get("/{customer_id}", responses={401: {}, 403: {}, 404: {}, 503: {}})
async def card(request: Request, who: Agent, customer_id: str) -> Response:
    """The unified customer card."""
    cid = customer_id_or_404(customer_id)
    found = await card_json(request.app.state.pool, cid)
    seen = [cid] + ([found[0]] if found and found[0] != cid else [])
    await request.app.state.auditor.record(request, who, "customer.card", seen)
    if found is None:
        raise ApiError(404, "not_found", "no such customer")
    # Already JSON (built by PostgreSQL): no model or encoder pass over it here.
    return Response(found[1], media_type=JSON)


@router.get("/{customer_id}/timeline", responses={400: {}, 401: {}, 403: {}, 404: {}, 503: {}})
async def timeline(
    request: Request,
    who: Agent,
    customer_id: str,
    channel: Channel | None = None,
    before: Annotated[str | None, Query(max_length=200)] = None,
    limit: Limit = 50,
) -> Response:
    """One customer's contact history across channels, newest first, cursor paginated."""
    cid = customer_id_or_404(customer_id)
    cursor = tuple(decode_cursor(before, (datetime, int))) if before else None
    root, items, more = await timeline_page(
        request.app.state.pool, cid, channel.value if channel else None, cursor, limit  # type: ignore[arg-type]
    )
    await request.app.state.auditor.record(
        request, who, "customer.timeline", list(dict.fromkeys([cid, root or cid]))
    )
    if root is None:
        raise ApiError(404, "not_found", "no such customer")
    next_cursor = _QUOTE(encode_cursor(*more)).encode() if more else b"null"
    return Response(b'{"items":' + items + b',"next":' + next_cursor + b"}", media_type=JSON)


def _json(content: Any) -> Response:
    """What JSONResponse sends, without its class machinery per request."""
    body = json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return Response(body.encode(), media_type=JSON)
