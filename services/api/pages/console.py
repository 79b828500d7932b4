"""The security console: alerts, an employee's activity in charts, who saw a customer, and the
audit chain's status. Reads go through the audit read module and are audited like the
audit API's (an officer's reading of the trail is itself an access record)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from kartoteka.http import ApiError
from services.api.pages import activity, charts
from services.api.pages.common import Csrf, OfficerSession, checked
from services.api.pages.render import formatter, page, partial
from services.api.queries import access as access_queries
from services.api.queries import alerts as alert_queries
from services.api.queries import work as work_queries
from services.api.queries.access import AccessFilter
from services.api.queries.alerts import AlertFilter
from services.api.routes import alerts as alert_routes
from services.api.routes.customers import customer_id_or_404
from services.api.verification import verify_trail

router = APIRouter(include_in_schema=False)
RAW_RECORDS = 200
STATUSES = ("open", "acknowledged", "resolved", "false_positive", "suppressed")
Status = Annotated[str, Query(pattern=f"^({'|'.join(STATUSES)})$")]


@router.get("/console")
async def console(request: Request, session: OfficerSession, status: Status = "open") -> HTMLResponse:
    """Alerts of one status (open ones first thing in the morning) newest first, with their
    workflow, and the chain's last verification."""
    where = AlertFilter(session.principal.subject, status=status)
    rows = await alert_queries.alerts_page(request.app.state.pool, where, None, 50)
    await request.app.state.auditor.record(request, session.principal, "audit.alerts", [],
                                           f"status={status}")
    return page(request, "console.html", session, alerts=rows[:50], listed=status, statuses=STATUSES,
                chain=getattr(request.app.state, "last_verification", None))


@router.post("/console/alerts/{alert_id}/status", response_model=None)
async def alert_status(request: Request, session: OfficerSession, alert_id: str, csrf: Csrf = "",
                       status: Annotated[str, Form(max_length=40)] = "",
                       comment: Annotated[str, Form(max_length=2000)] = "") -> Response:
    """Acknowledge, resolve or dismiss an alert through the alert API's own handler."""
    checked(request, session, csrf)
    try:
        body = alert_routes.StatusBody(status=status, comment=comment.strip() or None)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise ApiError(422, "invalid_request", str(exc.errors()[0]["msg"])) from exc
    error: str | None = None
    try:
        await alert_routes.change_status(request, session.principal, alert_id, body)
    except ApiError as exc:
        if exc.status != 409 or not partial(request):
            raise
        error = exc.message
    if not partial(request):
        return RedirectResponse("/console", 303)
    found: dict[str, Any] = await alert_queries.alert(request.app.state.pool, alert_id, session.principal.subject) or {}
    # The alerts projection applies the change shortly after the 202: show what was asked.
    shown = {**found, "status": found.get("status") if error else body.status, "comment": body.comment}
    return page(request, "partials/alert_row.html", session, alert=shown, workflow=True, error=error)


@router.post("/console/verify", response_model=None)
async def verify_now(request: Request, session: OfficerSession, csrf: Csrf = "") -> Response:
    """Recompute the chain now; a fault raises a chain_integrity alert, as through the API."""
    checked(request, session, csrf)
    state = request.app.state
    report = await verify_trail(state.pool, state.checkpoint_key)
    await state.auditor.record(request, session.principal, "audit.verify", [])
    if not report.ok and report.first_bad is not None:
        await state.alerts.chain_broken(report.first_bad, report.reason or "chain broken")
    # Per api process: the console shows what this process verified last.
    state.last_verification = {"at": datetime.now(UTC), **report.as_json()}
    if partial(request):
        return page(request, "partials/chain.html", session, chain=state.last_verification)
    return RedirectResponse("/console", 303)


@router.get("/console/employees/{employee_id}")
async def employee(request: Request, session: OfficerSession, employee_id: str) -> HTMLResponse:
    """Hourly accesses against the own baseline and the peers' band, daily customers, exports
    and searches, HR status and team, and the raw access records."""
    pool, t = request.app.state.pool, formatter(request)
    now = datetime.now(UTC)
    hr = await work_queries.employee(pool, employee_id)
    peers = [p for p in (await work_queries.team_of(pool, employee_id) or []) if p != employee_id]
    rows = await access_queries.hourly_accesses(pool, [employee_id, *peers],
                                             now - timedelta(days=activity.BASELINE_DAYS))
    slots = activity.hour_slots(now)
    counts, baseline, band = activity.hourly_series(rows, employee_id, peers, slots)
    days, daily = activity.daily_series(
        await access_queries.daily_activity(pool, employee_id, now - timedelta(days=activity.DAYS_SHOWN),
                                         request.app.state.settings.pages_timezone),
        now.astimezone(t.zone).date())
    records = await access_queries.access_page(pool, AccessFilter(employee_id=employee_id), None, RAW_RECORDS)
    await request.app.state.auditor.record(request, session.principal, "audit.access", [],
                                           f"employee_id={employee_id}")
    labels = [t.when(s) for s in slots]
    day_labels = [t.day(d) for d in days]
    svg = {
        "hourly": charts.hourly(t("accesses_hourly"), labels, counts, baseline, band,
                                (employee_id, t("own_baseline"), t("peer_band"))),
        **{key: charts.bars(t(title), day_labels, daily[key])
           for key, title in (("customers", "distinct_customers"), ("exports", "exports"),
                              ("searches", "searches"))},
    }
    return page(request, "employee.html", session, employee_id=employee_id, hr=hr, peers=peers, svg=svg,
                records=records[:RAW_RECORDS])


@router.get("/console/customers/{customer_id}")
async def who_saw(request: Request, session: OfficerSession, customer_id: str) -> HTMLResponse:
    """Every access to one customer: who, when, and through which page or route."""
    cid = customer_id_or_404(customer_id)
    records = await access_queries.access_page(request.app.state.pool, AccessFilter(customer_id=cid), None,
                                            RAW_RECORDS)
    await request.app.state.auditor.record(request, session.principal, "audit.access", [cid],
                                           f"customer_id={cid}")
    return page(request, "who_saw.html", session, customer_id=cid, records=records[:RAW_RECORDS])


@router.get("/console/customers")
async def who_saw_form(session: OfficerSession, id: str = "") -> RedirectResponse:  # noqa: A002
    """The console's who-saw form: on to the page of the id typed in."""
    return RedirectResponse(f"/console/customers/{customer_id_or_404(id.strip())}", 303)
