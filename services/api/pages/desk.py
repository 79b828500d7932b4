"""The agent desk: search, my work for today, and the customer card with its timeline.

Views over the API's read module (services/api/views.py, work_queries.py), each read recorded by
the same auditor with the same action as its JSON twin; only the route differs.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from services.api.erased import missing
from services.api.pages.common import AgentSession
from services.api.pages.duplicates import possible_duplicates
from services.api.pages.render import formatter, page, partial
from services.api.pagination import decode_cursor, encode_cursor
from services.api.queries import customers as customer_queries
from services.api.queries import work as work_queries
from services.api.queries.timeline import timeline_page
from services.api.routes.customers import TIMELINE_CHANNELS, customer_id_or_404

router = APIRouter(include_in_schema=False)
PAGE = 30
Channel = Annotated[str | None, Query(pattern=TIMELINE_CHANNELS)]


@router.get("/desk")
async def desk(request: Request, session: AgentSession,
               q: Annotated[str | None, Query(max_length=200)] = None) -> HTMLResponse:
    """Search box (focused), results, my open tasks and my requests due today."""
    who, pool, auditor = session.principal, request.app.state.pool, request.app.state.auditor
    results = None
    if q and q.strip():
        results = await customer_queries.search(pool, q.strip(), 20)
        await auditor.record(request, who, "customer.search", [r["id"] for r in results], q)
        if partial(request):
            return page(request, "partials/search_results.html", session, q=q, results=results)
    end_of_day = _end_of_today(request)
    tasks = (await work_queries.tasks(pool, assignees=[who.subject], status="open", due_before=None,
                                    before=None, limit=20))[:20]
    await auditor.record(request, who, "task.list", [t["customer_id"] for t in tasks])
    found = await work_queries.requests(pool, members=None, assignee=who.subject, status=None, overdue=None,
                                      before=None, limit=200)
    due = [r for r in found if r["status"] in ("open", "pending") and r["due_at"] <= end_of_day]
    await auditor.record(request, who, "request.list", [r["customer_id"] for r in due])
    return page(request, "desk.html", session, q=q or "", results=results, tasks=tasks,
                requests=sorted(due, key=lambda r: r["due_at"]))


@router.get("/desk/customers/{customer_id}")
async def customer(request: Request, session: AgentSession, customer_id: str,
                   channel: Channel = None) -> HTMLResponse:
    """The card, the first page of the timeline and the forms for the agent's work."""
    cid = customer_id_or_404(customer_id)
    card = await _card(request, session, cid)
    items, more = await _timeline(request, session, cid, channel, None)
    outcomes = request.app.state.work_outcomes
    return page(request, "card.html", session, card=card, items=items, more=more, channel=channel,
                channels=["call", "email", "chat", "sms", "web_form", "note"], outcomes=outcomes,
                now=datetime.now(UTC), duplicates=await possible_duplicates(request, session, card))


@router.get("/desk/customers/{customer_id}/summary")
async def summary(request: Request, session: AgentSession, customer_id: str) -> HTMLResponse:
    """The card's header alone: what the screen-pop shows of a caller."""
    card = await _card(request, session, customer_id_or_404(customer_id))
    return page(request, "partials/card_header.html", session, card=card, popped=True)


@router.get("/desk/customers/{customer_id}/timeline")
async def timeline(request: Request, session: AgentSession, customer_id: str, channel: Channel = None,
                   before: Annotated[str | None, Query(max_length=200)] = None) -> HTMLResponse:
    """One more page of the timeline (loaded on scroll)."""
    cid = customer_id_or_404(customer_id)
    cursor = tuple(decode_cursor(before, (datetime, int))) if before else None
    items, more = await _timeline(request, session, cid, channel, cursor)  # type: ignore[arg-type]
    if not items and (gone := await missing(request.app.state.pool, cid)).status == 410:
        raise gone
    return page(request, "partials/timeline_page.html", session, card={"id": cid}, items=items, more=more,
                channel=channel)


async def _card(request: Request, session: Any, cid: str) -> dict[str, Any]:
    found = await customer_queries.card_json(request.app.state.pool, cid)
    seen = [cid] + ([found[0]] if found and found[0] != cid else [])
    await request.app.state.auditor.record(request, session.principal, "customer.card", seen)
    if found is None:
        raise await missing(request.app.state.pool, cid)  # an erased customer's page says so: 410
    card: dict[str, Any] = json.loads(found[1])
    by_kind: dict[str, list[str]] = {"phone": [], "email": [], "handle": []}
    for ident in card["identifiers"]:
        by_kind.setdefault(ident["kind"], []).append(ident["value"])
    card["by_kind"] = by_kind
    return card


async def _timeline(request: Request, session: Any, cid: str, channel: str | None,
                    cursor: tuple[datetime, int] | None) -> tuple[list[dict[str, Any]], str | None]:
    root, raw, more = await timeline_page(request.app.state.pool, cid, channel, cursor, PAGE)
    await request.app.state.auditor.record(request, session.principal, "customer.timeline",
                                           list(dict.fromkeys([cid, root or cid])))
    return fold_threads(json.loads(raw)), encode_cursor(*more) if more else None


def fold_threads(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mail of one thread folds under its newest message on the page (``earlier``)."""
    folded: list[dict[str, Any]] = []
    heads: dict[str, dict[str, Any]] = {}
    for item in items:
        thread = (item.get("details") or {}).get("thread_id") if item["channel"] == "email" else None
        if thread and thread in heads:
            heads[thread]["earlier"].append(item)
            continue
        item["earlier"] = []
        if thread:
            heads[thread] = item
        folded.append(item)
    return folded


def _end_of_today(request: Request) -> datetime:
    zone = formatter(request).zone
    today = datetime.now(zone).date()
    return datetime.combine(today + timedelta(days=1), time(0), tzinfo=zone)
