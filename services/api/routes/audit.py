"""Audit routes for security officers; reading the trail is itself audited."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from kartoteka.auth import Principal, Role
from kartoteka.http import require_roles
from services.api import views
from services.api.pagination import MAX_LIMIT, decode_cursor, encode_cursor

router = APIRouter(prefix="/v1/audit", tags=["audit"])
Officer = Annotated[Principal, Depends(require_roles(Role.security_officer))]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
ShortQuery = Annotated[str | None, Query(max_length=200)]


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
) -> dict[str, Any]:
    """Access records: who saw which customer, when, from where."""
    cursor = decode_cursor(before, (int,))[0] if before else None
    rows = await views.access_records(
        request.app.state.pool, employee_id, customer_id, from_, to, cursor, limit
    )
    page = rows[:limit]
    await request.app.state.auditor.record(
        request,
        who,
        "audit.access",
        [customer_id] if customer_id else [],
        f"employee_id={employee_id} customer_id={customer_id} from={from_} to={to}",
    )
    items = [
        {
            "id": str(r["id"]),
            "employee_id": r["employee_id"],
            "role": r["role"],
            "action": r["action"],
            "customer_ids": r["customer_ids"],
            "at": r["at"],
            "request_id": r["request_id"],
            "client": r["client"],
            "route": r["route"],
            "query": r["query"],
        }
        for r in page
    ]
    return {"items": items, "next": encode_cursor(page[-1]["seq"]) if len(rows) > limit else None}
