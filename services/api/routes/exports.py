"""Data-subject export: everything Kartoteka holds about one customer, audited as an export."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from kartoteka.auth import Principal, Role
from kartoteka.http import ApiError, require_roles
from services.api import audit_views, views
from services.api.erased import missing

router = APIRouter(prefix="/v1/customers", tags=["customers"])
Agent = Annotated[Principal, Depends(require_roles(Role.agent, Role.supervisor))]


@router.get("/{customer_id}/export", responses={401: {}, 403: {}, 404: {}, 503: {}})
async def export(request: Request, who: Agent, customer_id: str) -> dict[str, Any]:
    """The card and the whole contact history of one customer, as one JSON document."""
    try:
        cid = str(uuid.UUID(customer_id))
    except ValueError as exc:
        raise ApiError(404, "not_found", "no such customer") from exc
    pool = request.app.state.pool
    card = await views.card(pool, cid)
    timeline = await audit_views.full_timeline(pool, card["id"]) if card else []
    ids = [cid] + ([card["id"]] if card and card["id"] != cid else [])
    await request.app.state.auditor.record(request, who, "customer.export", ids)
    if card is None:
        raise await missing(pool, cid)
    return {
        "exported_at": datetime.now(UTC),
        "customer": card,
        "timeline": timeline,
        "count": len(timeline),
        "truncated": len(timeline) >= audit_views.EXPORT_MAX_ROWS,
    }
