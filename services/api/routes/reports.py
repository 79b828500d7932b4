"""The supervisors' morning reports: dormant customers, birthdays, activity (JSON, or CSV with
``Accept: text/csv``). Each is audited as a bulk read of the customers it lists, with their count."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response

from kartoteka.auth import Principal, Role
from kartoteka.http import ApiError, require_roles
from services.api.birthdays import MAX_WINDOW_DAYS, keys_within, next_birthday
from services.api.pagination import MAX_LIMIT, decode_cursor, encode_cursor
from services.api.queries import reports as report_queries
from services.api.tabular import answer

router = APIRouter(prefix="/v1/reports", tags=["reports"])
Lead = Annotated[Principal, Depends(require_roles(Role.supervisor, Role.admin))]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Owner = Annotated[str | None, Query(min_length=1, max_length=200)]
Before = Annotated[str | None, Query(max_length=200)]
READS: dict[int | str, dict[str, Any]] = {400: {}, 401: {}, 403: {}, 422: {}, 503: {}}
MAX_ACTIVITY_DAYS = 366


@router.get("/dormant", responses=READS)
async def dormant(request: Request, who: Lead, days: Annotated[int, Query(ge=1, le=36500)],
                  owner: Owner = None, before: Before = None, limit: Limit = 50) -> Response:
    """Customers whose last contact is older than ``days`` days, oldest first."""
    cursor = tuple(decode_cursor(before, (datetime, str))) if before else None
    cutoff = datetime.now(UTC) - timedelta(days=days)
    found = await report_queries.dormant(request.app.state.pool, cutoff=cutoff, owner=owner,
                                       before=cursor, limit=limit)  # type: ignore[arg-type]
    page = found[:limit]
    last: dict[str, Any] = page[-1] if page else {}
    await _audit(request, who, "report.dormant", page, f"days={days} owner={owner or ''}")
    items = [{k: r[k] for k in ("id", "name", "last_contact_at", "owner")} for r in page]
    more = encode_cursor(last["last_contact_at"], last["via"]) if len(found) > limit else None
    return answer(request, items, more, ("id", "name", "last_contact_at", "owner"))


@router.get("/birthdays", responses=READS)
async def birthdays(request: Request, who: Lead,
                    within_days: Annotated[int, Query(ge=0, le=MAX_WINDOW_DAYS)] = 7,
                    owner: Owner = None, before: Before = None, limit: Limit = 50) -> Response:
    """Customers whose birthday falls today or in the next ``within_days`` days, soonest first."""
    today = datetime.now(UTC).date()
    cursor = tuple(decode_cursor(before, (int, str))) if before else None
    found = await report_queries.birthdays(request.app.state.pool, keys=keys_within(today, within_days),
                                         owner=owner, before=cursor, limit=limit)  # type: ignore[arg-type]
    page = found[:limit]
    last: dict[str, Any] = page[-1] if page else {}
    await _audit(request, who, "report.birthdays", page, f"within_days={within_days} owner={owner or ''}")
    items = [{"id": r["id"], "name": r["name"], "birth_date": r["birth_date"],
              "next_birthday": next_birthday(r["birth_date"], today)} for r in page]
    more = encode_cursor(last["pos"], last["via"]) if len(found) > limit else None
    return answer(request, items, more, ("id", "name", "birth_date", "next_birthday"))


@router.get("/activity", responses=READS)
async def activity(request: Request, who: Lead, by: Literal["channel", "agent", "day"] = "day",
                   start: Annotated[date | None, Query(alias="from")] = None,
                   end: Annotated[date | None, Query(alias="to")] = None) -> Response:
    """Volumes per channel, agent or day over ``from`` .. ``to`` (UTC days, inclusive; default the last 7)."""
    end = end or datetime.now(UTC).date()
    start = start or end - timedelta(days=6)
    if start > end or (end - start).days >= MAX_ACTIVITY_DAYS:
        raise ApiError(422, "invalid_range", f"from must not be after to, at most {MAX_ACTIVITY_DAYS} days")
    found = await report_queries.activity(request.app.state.pool, start=start, end=end, by=by)
    await request.app.state.auditor.record(request, who, "report.activity", [],
                                           f"from={start} to={end} by={by} rows={len(found)}")
    return answer(request, found, None, report_queries.ACTIVITY_FIELDS, key="rows")


async def _audit(request: Request, who: Principal, action: Any, page: list[dict[str, Any]], query: str) -> None:
    # A bulk read: every customer listed is in the record, and its query says how many.
    await request.app.state.auditor.record(request, who, action, [r["id"] for r in page],
                                           f"{query} count={len(page)}")
