"""Customer routes for agents and supervisors; each read leaves an access record."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from events.catalog import AccessAction
from events.interaction import Channel
from kartoteka.auth import Principal, Role
from kartoteka.http import ApiError, require_roles
from services.api.erased import missing
from services.api.pagination import MAX_LIMIT, decode_cursor, encode_cursor
from services.api.queries.customers import card_json
from services.api.queries.customers import search as find_customers
from services.api.queries.reports import segment
from services.api.queries.timeline import timeline_page

router = APIRouter(prefix="/v1/customers", tags=["customers"])
Agent = Annotated[Principal, Depends(require_roles(Role.agent, Role.supervisor))]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
JSON = "application/json"
_QUOTE = json.encoder.encode_basestring_ascii
# Notes (the agent's work) read into the timeline beside the channels' interactions.
TIMELINE_CHANNELS = f"^({'|'.join([c.value for c in Channel] + ['note'])})$"


def customer_id_or_404(raw: str) -> str:
    try:
        return str(uuid.UUID(raw))
    except ValueError as exc:
        raise ApiError(404, "not_found", "no such customer") from exc


@router.get("", responses={401: {}, 403: {}, 422: {}, 503: {}})
async def search(
    request: Request,
    who: Agent,
    q: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    limit: Limit = 50,
    tag: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    owner: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    company: Annotated[str | None, Query(min_length=1, max_length=300)] = None,
) -> Response:
    """Find customers by phone in any spelling, email or name; ``tag``, ``owner`` and ``company``
    select a segment by profile, alone or narrowing a search."""
    if tag is None and owner is None and company is None:
        if q is None:
            raise ApiError(422, "missing_query", "give q, or at least one of tag, owner, company")
        items = await find_customers(request.app.state.pool, q.strip(), limit)
        action: AccessAction = "customer.search"
        query = q
    else:
        among = [i["id"] for i in await find_customers(request.app.state.pool, q.strip(), MAX_LIMIT)] if q else None
        items = await segment(request.app.state.pool, tag=tag, owner=owner, company=company, among=among,
                              limit=limit)
        items = [{**i, "score": 1.0} for i in items]
        action = "customer.segment"
        query = " ".join(f"{k}={v}" for k, v in (("q", q), ("tag", tag), ("owner", owner), ("company", company))
                         if v)
    await request.app.state.auditor.record(request, who, action, [i["id"] for i in items], query)
    return _json({"items": [{k: i[k] for k in ("id", "name", "phones", "emails", "score")} for i in items]})


@router.get("/{customer_id}", responses={401: {}, 403: {}, 404: {}, 503: {}})
async def card(request: Request, who: Agent, customer_id: str) -> Response:
    """The unified customer card."""
    cid = customer_id_or_404(customer_id)
    found = await card_json(request.app.state.pool, cid)
    seen = [cid] + ([found[0]] if found and found[0] != cid else [])
    await request.app.state.auditor.record(request, who, "customer.card", seen)
    if found is None:
        raise await missing(request.app.state.pool, cid)
    # Already JSON (built by PostgreSQL): no model or encoder pass over it here.
    return Response(found[1], media_type=JSON)


@router.get("/{customer_id}/timeline", responses={400: {}, 401: {}, 403: {}, 404: {}, 503: {}})
async def timeline(
    request: Request,
    who: Agent,
    customer_id: str,
    channel: Annotated[str | None, Query(pattern=TIMELINE_CHANNELS)] = None,
    before: Annotated[str | None, Query(max_length=200)] = None,
    limit: Limit = 50,
) -> Response:
    """One customer's contact history across channels, newest first, cursor paginated."""
    cid = customer_id_or_404(customer_id)
    cursor = tuple(decode_cursor(before, (datetime, int))) if before else None
    root, items, more = await timeline_page(
        request.app.state.pool, cid, channel, cursor, limit  # type: ignore[arg-type]
    )
    await request.app.state.auditor.record(
        request, who, "customer.timeline", list(dict.fromkeys([cid, root or cid]))
    )
    if root is None:
        raise await missing(request.app.state.pool, cid)
    next_cursor = _QUOTE(encode_cursor(*more)).encode() if more else b"null"
    return Response(b'{"items":' + items + b',"next":' + next_cursor + b"}", media_type=JSON)


def _json(content: Any) -> Response:
    """What JSONResponse sends, without its class machinery per request."""
    body = json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return Response(body.encode(), media_type=JSON)
