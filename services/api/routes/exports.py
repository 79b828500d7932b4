"""Data-subject export: everything Kartoteka holds about one customer, audited as an export."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from kartoteka.auth import Principal, Role
from kartoteka.http import require_roles
from services.api.erased import missing
from services.api.queries import export as export_queries
from services.api.queries.customers import card as read_card
from services.api.queries.customers import members
from services.api.routes.customers import customer_id_or_404

router = APIRouter(prefix="/v1/customers", tags=["customers"])
# A data protection officer answers access requests (GDPR art. 15) with it.
Agent = Annotated[Principal, Depends(require_roles(Role.agent, Role.supervisor, Role.dpo))]


@router.get("/{customer_id}/export", responses={401: {}, 403: {}, 404: {}, 410: {}, 503: {}})
async def export(request: Request, who: Agent, customer_id: str) -> dict[str, Any]:
    """The card (identifiers with where and when they were seen, merge history, members) and,
    for every member of the merged customer: the contact history, notes, profile, requests with
    their changes, tasks and the access records about them, as one JSON document."""
    cid = customer_id_or_404(customer_id)
    pool = request.app.state.pool
    found = await members(pool, cid)
    card = await read_card(pool, found[0]) if found else None
    ids = list(dict.fromkeys([cid, *(found[1] if found else [])]))
    await request.app.state.auditor.record(request, who, "customer.export", ids)
    if found is None or card is None:
        raise await missing(pool, cid)
    parts = await export_queries.export(pool, found[1])
    return {"exported_at": datetime.now(UTC), "customer": card, **parts, "count": len(parts["timeline"])}
