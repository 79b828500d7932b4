"""Which routes return customer data (and must audit), and a guard that holds them to it.

Every route of the api is declared here, one way or the other; the route-coverage test
fails on a route that is not, so a new read path cannot slip past the audit unnoticed. At
run time a declared route that answers 2xx without having recorded its access is turned
into a 500: no customer data leaves unaudited, even through a forgotten ``record`` call.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from events.catalog import AccessAction
from kartoteka.http import error_body

log = logging.getLogger(__name__)
RouteKey = tuple[str, str]
"""(HTTP method, path template)."""

AUDITED: dict[RouteKey, AccessAction] = {
    ("GET", "/v1/customers"): "customer.search",
    ("GET", "/v1/customers/{customer_id}"): "customer.card",
    ("GET", "/v1/customers/{customer_id}/timeline"): "customer.timeline",
    ("GET", "/v1/customers/{customer_id}/export"): "customer.export",
    ("GET", "/v1/audit/access"): "audit.access",
    ("GET", "/v1/audit/alerts"): "audit.alerts",
    ("GET", "/v1/audit/verify"): "audit.verify",
    ("GET", "/v1/duplicates"): "duplicate.list",
    ("POST", "/v1/duplicates/{proposal_id}/accept"): "duplicate.accept",
    ("POST", "/v1/duplicates/{proposal_id}/reject"): "duplicate.reject",
    ("GET", "/v1/audit/alerts/{alert_id}"): "audit.alert",
    ("POST", "/v1/audit/alerts/{alert_id}/status"): "audit.alert_status",
    ("GET", "/v1/audit/suppressions"): "audit.suppressions",
    # The agent's work: every write is an access record naming it, and so is every list.
    ("POST", "/v1/customers/{customer_id}/notes"): "customer.note",
    ("PATCH", "/v1/customers/{customer_id}"): "customer.profile",
    ("POST", "/v1/customers/{customer_id}/requests"): "request.open",
    ("POST", "/v1/requests/{request_id}/status"): "request.status",
    ("GET", "/v1/requests"): "request.list",
    ("POST", "/v1/tasks"): "task.create",
    ("POST", "/v1/tasks/{task_id}/done"): "task.done",
    ("GET", "/v1/tasks"): "task.list",
    ("POST", "/v1/employees/{employee_id}/handover"): "employee.handover",
    ("GET", "/v1/reports/dormant"): "report.dormant",
    ("GET", "/v1/reports/birthdays"): "report.birthdays",
    ("GET", "/v1/reports/activity"): "report.activity",
    # Personal data: erasure and legal holds are employee writes, audited with their reason.
    ("POST", "/v1/customers/{customer_id}/erase"): "customer.erase",
    ("POST", "/v1/customers/{customer_id}/hold"): "customer.hold",
    # Pages: each read and write is audited like its JSON twin (services/api/pages).
    ("GET", "/desk"): "task.list",
    ("GET", "/desk/customers/{customer_id}"): "customer.card",
    ("GET", "/desk/customers/{customer_id}/summary"): "customer.card",
    ("GET", "/desk/customers/{customer_id}/timeline"): "customer.timeline",
    ("GET", "/desk/duplicates"): "duplicate.list",
    ("GET", "/desk/duplicates/{proposal_id}"): "duplicate.read",
    ("POST", "/desk/duplicates/{proposal_id}/accept"): "duplicate.accept",
    ("POST", "/desk/duplicates/{proposal_id}/reject"): "duplicate.reject",
    ("POST", "/desk/customers/{customer_id}/notes"): "customer.note",
    ("POST", "/desk/customers/{customer_id}/profile"): "customer.profile",
    ("POST", "/desk/customers/{customer_id}/requests"): "request.open",
    ("POST", "/desk/customers/{customer_id}/tasks"): "task.create",
    ("GET", "/console"): "audit.alerts",
    ("POST", "/console/verify"): "audit.verify",
    ("POST", "/console/alerts/{alert_id}/status"): "audit.alert_status",
    ("GET", "/console/employees/{employee_id}"): "audit.access",
    ("GET", "/console/customers/{customer_id}"): "audit.access",
}
"""Routes that return customer (or audit) data, with the action each records."""

NO_CUSTOMER_DATA: dict[RouteKey, str] = {
    ("GET", "/healthz"): "liveness only",
    ("GET", "/readyz"): "dependency checks only",
    ("GET", "/metrics"): "request counts and latencies by route template",
    ("POST", "/v1/employees/{employee_id}/status"): "writes employee context, echoes it back",
    ("POST", "/v1/customers/{customer_id}/split"): "a command: answers with the command id and "
    "the customer ids the caller named",
    ("GET", "/login"): "the sign-in form",
    ("POST", "/login"): "checks a token, sets the session cookie",
    ("POST", "/logout"): "drops the session cookie",
    ("GET", "/desk/events"): "ids of this agent's inbound calls and chats; the card they pop is "
    "read (and audited) by /desk/customers/{customer_id}/summary",
    ("GET", "/console/customers"): "redirects to the who-saw page of the id typed in",
    ("GET", "/openapi.json"): "the API's schema",
    ("HEAD", "/openapi.json"): "the API's schema",
    ("GET", "/docs"): "the API's documentation page",
    ("HEAD", "/docs"): "the API's documentation page",
    ("GET", "/docs/oauth2-redirect"): "documentation helper",
    ("HEAD", "/docs/oauth2-redirect"): "documentation helper",
    ("GET", "/redoc"): "the API's documentation page",
    ("HEAD", "/redoc"): "the API's documentation page",
}
"""Routes that return no customer data, each with the reason it needs no audit."""


def route_keys(app: FastAPI) -> set[RouteKey]:
    """Every (method, path) the app serves, included routers flattened."""
    try:  # FastAPI >= 0.165 keeps included routers as nodes of app.routes
        from fastapi.routing import iter_route_contexts

        routes: Iterable[Any] = iter_route_contexts(app.routes)
    except ImportError:
        routes = app.routes
    keys: set[RouteKey] = set()
    for route in routes:
        methods = getattr(route, "methods", None) or set()
        keys.update((method, getattr(route, "path", "")) for method in methods)
    return keys


def undeclared(app: FastAPI) -> set[RouteKey]:
    """Routes declared neither audited nor free of customer data."""
    return route_keys(app) - set(AUDITED) - set(NO_CUSTOMER_DATA)


def install_audit_guard(app: FastAPI) -> None:
    """Refuse (500) a successful answer of an audited route that recorded no access."""
    app.add_middleware(AuditGuard)


class AuditGuard:
    """Plain ASGI (no task group per request): decides at the response's start, by which time
    the route is known and the handler has recorded its access or not."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refused = False

        async def guarded(message: Message) -> None:
            nonlocal refused
            if message["type"] == "http.response.start":
                route = getattr(scope.get("route"), "path", None)
                succeeded = 200 <= message["status"] < 300
                unrecorded = scope.get("state", {}).get("audited") is None
                if (scope["method"], route) in AUDITED and succeeded and unrecorded:
                    log.error("audited route answered without an access record",
                              extra={"route": route})
                    refused = True
                    response = JSONResponse(
                        error_body("audit_missing", "the access was not audited"), 500
                    )
                    await response(scope, receive, send)
                    return
            if not refused:
                await send(message)

        await self.app(scope, receive, guarded)
