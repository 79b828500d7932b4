"""The card's forms: note, profile, request, task. Each post is checked (origin, CSRF), then
goes through the JSON API's own handler (same validation, event, audit); the page's script
gets a fragment, a browser without script a 303 back to the card."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from kartoteka.http import ApiError
from services.api.pages.common import AgentSession, Csrf, checked
from services.api.pages.render import formatter, page, partial
from services.api.routes import requests as request_routes
from services.api.routes import tasks as task_routes
from services.api.routes import work as work_routes

router = APIRouter(include_in_schema=False)
Text = Annotated[str, Form(max_length=20_000)]
Optional = Annotated[str, Form(max_length=2_000)]


async def _submit(request: Request, session: Any, customer_id: str, what: str,
                  call: Callable[[], Awaitable[Any]], shown: dict[str, Any]) -> Response:
    try:
        await call()
    except ValidationError as exc:
        return _answer(request, session, customer_id, what, 422, error=_reason(exc))
    except ApiError as exc:
        if exc.status in (403, 503) or not partial(request):
            raise
        return _answer(request, session, customer_id, what, exc.status, error=exc.message)
    return _answer(request, session, customer_id, what, 200, shown=shown)


def _answer(request: Request, session: Any, customer_id: str, what: str, status: int, *,
            error: str | None = None, shown: dict[str, Any] | None = None) -> Response:
    if not partial(request):
        if error is not None:
            raise ApiError(status, "invalid_request", error)
        return RedirectResponse(f"/desk/customers/{customer_id}", 303)
    return page(request, "partials/saved.html", session, status=status, what=what, error=error,
                shown=shown or {})


def _reason(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5])


@router.post("/desk/customers/{customer_id}/notes")
async def note(request: Request, session: AgentSession, customer_id: str, csrf: Csrf = "",
               text: Text = "", outcome: Optional = "") -> Response:
    """A note with the call's outcome; shows at the top of the timeline at once."""
    checked(request, session, csrf)

    async def call() -> Any:
        body = work_routes.NoteBody(text=text, outcome=outcome or None)
        return await work_routes.add_note(request, session.principal, customer_id, body)

    shown = {"text": text, "outcome": outcome, "at": formatter(request).when(datetime.now().astimezone()),
             "by": session.principal.subject}
    return await _submit(request, session, customer_id, "note", call, shown)


@router.post("/desk/customers/{customer_id}/profile")
async def profile(request: Request, session: AgentSession, customer_id: str, csrf: Csrf = "",
                  name: Optional = "", company: Optional = "", birth_date: Optional = "",
                  tags: Optional = "", owner: Optional = "") -> Response:
    """Only the fields filled in change; tags are comma separated."""
    checked(request, session, csrf)
    given: dict[str, Any] = {k: v.strip() for k, v in (("name", name), ("company", company),
                             ("birth_date", birth_date), ("owner", owner)) if v.strip()}
    if tags.strip():
        given["tags"] = [t.strip() for t in tags.split(",") if t.strip()]

    async def call() -> Any:
        body = work_routes.ProfileBody(**given)
        return await work_routes.change_profile(request, session.principal, customer_id, body)

    return await _submit(request, session, customer_id, "profile", call, given)


@router.post("/desk/customers/{customer_id}/requests")
async def open_request(request: Request, session: AgentSession, customer_id: str, csrf: Csrf = "",
                       subject: Optional = "", priority: Optional = "normal") -> Response:
    """A request (ticket) about this customer, assigned to the agent."""
    checked(request, session, csrf)

    async def call() -> Any:
        body = request_routes.OpenBody(subject=subject, priority=priority)  # type: ignore[arg-type]
        return await request_routes.open_request(request, session.principal, customer_id, body)

    return await _submit(request, session, customer_id, "request", call,
                         {"subject": subject, "priority": priority})


@router.post("/desk/customers/{customer_id}/tasks")
async def task(request: Request, session: AgentSession, customer_id: str, csrf: Csrf = "",
               title: Optional = "", due_at: Optional = "") -> Response:
    """A reminder; ``due_at`` from the browser's date-time field, in the page's time zone."""
    checked(request, session, csrf)
    zone = formatter(request).zone

    async def call() -> Any:
        try:
            due = datetime.fromisoformat(due_at)
        except ValueError as exc:
            raise ApiError(422, "invalid_request", "due_at: give a date and time") from exc
        due = due if due.tzinfo else due.replace(tzinfo=zone)
        body = task_routes.TaskBody(customer_id=customer_id, title=title, due_at=due)
        return await task_routes.create_task(request, session.principal, body)

    return await _submit(request, session, customer_id, "task", call,
                         {"title": title, "due": due_at.replace("T", " ")})
