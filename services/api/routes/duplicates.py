"""The review queue of possible duplicates: list, accept (a reversible merge), reject (never again)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from events import topics
from events.duplicates import DuplicateRejected, MergeRequested
from kartoteka.auth import Principal, Role
from kartoteka.http import ApiError, require_roles
from services.api.pagination import MAX_LIMIT, decode_cursor, encode_cursor
from services.api.queries import duplicates as duplicate_queries
from services.api.work_commands import new_id, publish

router = APIRouter(prefix="/v1/duplicates", tags=["duplicates"])
Lead = Annotated[Principal, Depends(require_roles(Role.supervisor, Role.admin))]
WRITES: dict[int | str, dict[str, Any]] = {401: {}, 403: {}, 404: {}, 409: {}, 422: {}, 503: {}}


class RejectBody(BaseModel):
    """Why the two customers are different people (kept with the decision)."""

    model_config = ConfigDict(extra="forbid")
    reason: Annotated[str, Field(min_length=1, max_length=1000)]


def _item(row: dict[str, Any]) -> dict[str, Any]:
    item = {"id": row["id"], "customer_ids": [row["a"], row["b"]], "score": round(row["score"], 6),
            "evidence": [{k: e[k] for k in ("attribute", "values", "weight")} for e in row["evidence"]],
            "status": row["status"]}
    if row["status"] != "open":
        item |= {"decided_at": row["decided_at"].isoformat() if row["decided_at"] else None,
                 "decided_by": row["decided_by"], "reason": row["reason"]}
    return item


@router.get("", responses={401: {}, 403: {}, 422: {}, 503: {}})
async def list_duplicates(request: Request, who: Lead,
                          status: Literal["open", "accepted", "rejected"] = "open",
                          limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
                          before: Annotated[str | None, Query(max_length=500)] = None) -> JSONResponse:
    """Proposals best first, each with the per-attribute match weights that explain its score."""
    rows, nxt = await page_of(request, status, limit, before)
    await request.app.state.auditor.record(request, who, "duplicate.list",
                                           sorted({c for r in rows for c in (r["a"], r["b"])}))
    return JSONResponse({"items": [_item(r) for r in rows], "next": nxt})


async def page_of(request: Request, status: str, limit: int,
                  before: str | None) -> tuple[list[dict[str, Any]], str | None]:
    """One page of proposals after the cursor ``before`` (score, then id: ties keep their order),
    and the cursor of the next page, or None on the last one."""
    cursor = decode_cursor(before, (float, uuid.UUID)) if before else None
    rows = await duplicate_queries.proposals(request.app.state.pool, status, limit,
                                           (cursor[0], str(cursor[1])) if cursor else None)
    return rows, encode_cursor(rows[-1]["score"], rows[-1]["id"]) if len(rows) == limit else None


async def _open(request: Request, proposal_id: str) -> dict[str, Any]:
    try:
        found = await duplicate_queries.proposal(request.app.state.pool, str(uuid.UUID(proposal_id)))
    except ValueError as exc:
        raise ApiError(404, "not_found", "no such proposal") from exc
    if found is None:
        raise ApiError(404, "not_found", "no such proposal")
    if found["status"] != "open":
        raise ApiError(409, "already_decided", f"this proposal was {found['status']}")
    return found


@router.post("/{proposal_id}/accept", status_code=202, responses=WRITES)
async def accept(request: Request, who: Lead, proposal_id: str) -> JSONResponse:
    """Merge the pair through the identity log; a split of the card undoes it."""
    found = await _open(request, proposal_id)
    now, command_id = datetime.now(UTC), new_id(request, "duplicate-accept", who)
    event = MergeRequested(command_id=command_id, proposal_id=found["id"], customer_ids=[found["a"], found["b"]],
                           requested_by=who.subject, score=found["score"], at=now)
    await publish(request, who, "duplicate.accept", event, event_id=command_id, key=found["a"], at=now,
                  customer_ids=[found["a"], found["b"]], topic=topics.IDENTITY_COMMANDS)
    return JSONResponse({"id": command_id, "status": "accepted"}, 202)


@router.post("/{proposal_id}/reject", status_code=202, responses=WRITES)
async def reject(request: Request, who: Lead, proposal_id: str, body: RejectBody) -> JSONResponse:
    """The pair are two people: recorded with the reason, never proposed again."""
    found = await _open(request, proposal_id)
    now, command_id = datetime.now(UTC), new_id(request, "duplicate-reject", who)
    event = DuplicateRejected(command_id=command_id, proposal_id=found["id"],
                              customer_ids=[found["a"], found["b"]], requested_by=who.subject,
                              reason=body.reason, at=now)
    await publish(request, who, "duplicate.reject", event, event_id=command_id, key=found["a"], at=now,
                  customer_ids=[found["a"], found["b"]], topic=topics.IDENTITY_COMMANDS)
    return JSONResponse({"id": command_id, "status": "rejected"}, 202)
