"""Screen-pop: while the desk is open, an inbound call or chat for this agent shows the caller.

Server-sent events at /desk/events carry only ids; the page then fetches the caller's card
header (/desk/customers/{id}/summary), an audited read like any other. The browser's
EventSource reconnects by itself; a leaver's stream ends at the next poll.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from kartoteka.http import ApiError
from services.api.pages.common import AgentSession
from services.api.queries.timeline import inbound_calls_and_chats

router = APIRouter(include_in_schema=False)
POLL_S = 0.4
HEARTBEAT_S = 15.0
# A call rings now; a PBX clock a little off must not hide it.
LOOKBACK = timedelta(minutes=10)


@router.get("/desk/events")
async def events(request: Request, session: AgentSession) -> StreamingResponse:
    """``event: pop`` with ``{"id", "customer_id", "channel"}`` per new inbound call or chat."""
    return StreamingResponse(_stream(request, session.principal), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


async def _stream(request: Request, principal: object) -> AsyncIterator[str]:
    pool, check = request.app.state.pool, getattr(request.app.state, "status_check", None)
    agent = principal.subject  # type: ignore[attr-defined]
    seen = {r["id"] for r in await inbound_calls_and_chats(pool, agent, datetime.now(UTC) - LOOKBACK)}
    yield "retry: 1000\n\n"
    quiet = 0.0
    while not await request.is_disconnected():
        await asyncio.sleep(POLL_S)
        if check is not None:
            try:
                await check(principal)
            except ApiError:
                yield "event: ended\ndata: {}\n\n"
                return
        for row in await inbound_calls_and_chats(pool, agent, datetime.now(UTC) - LOOKBACK):
            if row["id"] not in seen:
                seen.add(row["id"])
                yield f"event: pop\ndata: {json.dumps(row)}\n\n"
                quiet = 0.0
        quiet += POLL_S
        if quiet >= HEARTBEAT_S:
            quiet = 0.0
            yield ": keep-alive\n\n"
