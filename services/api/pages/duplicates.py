"""The review queue of possible duplicates (supervisors): both customers side by side,
the evidence in plain words, accept or reject. Reads and decisions go through the JSON API's own
queries and handlers (same audit, same events); the page adds only the two customers' names.
The queue pages through every open proposal; one proposal has a page of its own (the card links it)."""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from kartoteka.auth import Role
from kartoteka.http import ApiError
from services.api.pages.common import Csrf, SupervisorSession, checked
from services.api.pages.render import page
from services.api.queries import customers as customer_queries
from services.api.queries import duplicates as duplicate_queries
from services.api.queries.duplicate_reasons import held_conflict, reasons
from services.api.routes import duplicates as duplicate_routes

router = APIRouter(include_in_schema=False)
QUEUE = 30
Reason = Annotated[str, Form(min_length=1, max_length=1000)]


@router.get("/desk/duplicates")
async def queue(request: Request, session: SupervisorSession,
                before: Annotated[str | None, Query(max_length=500)] = None) -> HTMLResponse:
    """Open proposals, best first, a page at a time, each with both customers and the reasons beside them."""
    rows, nxt = await duplicate_routes.page_of(request, "open", QUEUE, before)
    ids = sorted({c for r in rows for c in (r["a"], r["b"])})
    await request.app.state.auditor.record(request, session.principal, "duplicate.list", ids)
    return page(request, "duplicates.html", session, items=await _shown(request, rows), next=nxt, paged=bool(before))


@router.get("/desk/duplicates/{proposal_id}")
async def one(request: Request, session: SupervisorSession, proposal_id: str) -> HTMLResponse:
    """One proposal, open or decided: where a card's "review" link leads, however far down the queue it is."""
    found = await duplicate_queries.proposal(request.app.state.pool, _uuid(proposal_id))
    if found is None:
        raise ApiError(404, "not_found", "no such proposal")
    await request.app.state.auditor.record(request, session.principal, "duplicate.read", [found["a"], found["b"]])
    return page(request, "duplicate.html", session, p=(await _shown(request, [found]))[0])


def _uuid(text: str) -> str:
    try:
        return str(uuid.UUID(text))
    except ValueError as exc:
        raise ApiError(404, "not_found", "no such proposal") from exc


async def _shown(request: Request, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Proposals with both customers' names, the reasons in words and the evidence table's rows."""
    names = await _names(request.app.state.pool, sorted({c for r in rows for c in (r["a"], r["b"])}))
    return [{**r, "names": (names.get(r["a"]), names.get(r["b"])), "reasons": reasons(r["evidence"]),
             "held": held_conflict(r["evidence"]), "shown": [e for e in r["evidence"] if e["attribute"] != "held"]}
            for r in rows]


async def possible_duplicates(request: Request, session: Any, card: dict[str, Any]) -> list[dict[str, Any]] | None:
    """A supervisor's card shows the open proposals touching it (None for everyone else)."""
    if session.principal.role is not Role.supervisor:
        return None
    rows = await duplicate_queries.for_customers(request.app.state.pool, card["members"])
    others = sorted({c for r in rows for c in (r["a"], r["b"])} - set(card["members"]))
    await request.app.state.auditor.record(request, session.principal, "duplicate.list", others)
    names = await _names(request.app.state.pool, others)
    return [{**r, "reasons": reasons(r["evidence"]), "held": held_conflict(r["evidence"]), "names": names}
            for r in rows]


async def _names(pool: Any, ids: list[str]) -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for cid in ids:
        card = await customer_queries.card_json(pool, cid)
        found[cid] = json.loads(card[1]).get("name") if card else None
    return found


@router.post("/desk/duplicates/{proposal_id}/accept")
async def accept(request: Request, session: SupervisorSession, proposal_id: str, csrf: Csrf = "") -> Response:
    """The JSON API's accept (a merge command), then back to the queue."""
    checked(request, session, csrf)
    await duplicate_routes.accept(request, session.principal, proposal_id)
    return RedirectResponse("/desk/duplicates", 303)


@router.post("/desk/duplicates/{proposal_id}/reject")
async def reject(request: Request, session: SupervisorSession, proposal_id: str, csrf: Csrf = "",
                 reason: Reason = "") -> Response:
    """The JSON API's reject with the supervisor's reason, then back to the queue."""
    checked(request, session, csrf)
    await duplicate_routes.reject(request, session.principal, proposal_id, duplicate_routes.RejectBody(reason=reason))
    return RedirectResponse("/desk/duplicates", 303)
