"""Tasks and reminders: create one about a customer, list them, mark one done."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from events.work import EmployeeId, Short, TaskCreated, TaskDone
from kartoteka.auth import Principal, Role
from kartoteka.http import ApiError
from services.api.pagination import MAX_LIMIT, decode_cursor, encode_cursor
from services.api.queries import work as work_queries
from services.api.routes.work import WRITES, Agent, active_employee, customer_root
from services.api.tabular import answer
from services.api.work_commands import new_id, publish

router = APIRouter(prefix="/v1/tasks", tags=["tasks"])
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


class TaskBody(BaseModel):
    """A follow-up about a customer; ``assignee`` defaults to the caller."""

    model_config = ConfigDict(extra="forbid")
    customer_id: Annotated[str, Field(min_length=1, max_length=64)]
    title: Short
    due_at: AwareDatetime
    assignee: EmployeeId | None = None


@router.post("", status_code=202, responses=WRITES)
async def create_task(request: Request, who: Agent, body: TaskBody) -> JSONResponse:
    """Create a task or reminder."""
    root, _ = await customer_root(request, body.customer_id)
    assignee = body.assignee or who.subject
    await active_employee(request, assignee, "assignee")
    now, task_id = datetime.now(UTC), new_id(request, "task", who)
    event = TaskCreated(task_id=task_id, customer_id=root, title=body.title, due_at=body.due_at,
                        assignee=assignee, by=who.subject, at=now)
    await publish(request, who, "task.create", event, event_id=task_id, key=root, at=now, customer_ids=[root])
    return JSONResponse({"id": task_id}, 202)


@router.post("/{task_id}/done", status_code=202, responses={**WRITES, 409: {}})
async def finish_task(request: Request, who: Agent, task_id: str) -> JSONResponse:
    """Mark a task done; an agent only their own, a supervisor any."""
    tid = work_queries.as_uuid(task_id)
    found = await work_queries.task(request.app.state.pool, tid) if tid else None
    if found is None:
        raise ApiError(404, "not_found", "no such task")
    if who.role is Role.agent and found["assignee"] != who.subject:
        raise ApiError(403, "forbidden", "an agent may only finish their own tasks")
    if found["status"] != "open":
        raise ApiError(409, "already_done", "the task is already done")
    now = datetime.now(UTC)
    event = TaskDone(task_id=found["id"], customer_id=found["customer_id"], by=who.subject, at=now)
    await publish(request, who, "task.done", event, event_id=new_id(request, "task-done", who),
                  key=found["customer_id"], at=now, customer_ids=[found["customer_id"]])
    return JSONResponse({"id": found["id"]}, 202)


@router.get("", responses={400: {}, 401: {}, 403: {}, 503: {}})
async def list_tasks(
    request: Request, who: Agent,
    assignee: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    status: Literal["open", "done"] | None = None,
    due_before: AwareDatetime | None = None,
    before: Annotated[str | None, Query(max_length=200)] = None,
    limit: Limit = 50,
) -> Response:
    """An agent sees their own tasks; a supervisor their team's (everyone's without a team)."""
    assignees = await _visible(request, who, assignee)
    cursor = tuple(decode_cursor(before, (datetime, str))) if before else None
    found = await work_queries.tasks(request.app.state.pool, assignees=assignees, status=status,
                                   due_before=due_before, before=cursor, limit=limit)  # type: ignore[arg-type]
    page = found[:limit]
    await request.app.state.auditor.record(request, who, "task.list", [t["customer_id"] for t in page])
    last: dict[str, Any] = page[-1] if page else {}
    return answer(request, page, encode_cursor(last["due_at"], last["id"]) if len(found) > limit else None)


async def _visible(request: Request, who: Principal, assignee: str | None) -> list[str] | None:
    """Whose tasks the caller asks for and may see (None: everyone's)."""
    if assignee == "me" or (assignee is None and who.role is Role.agent):
        return [who.subject]
    if who.role is Role.agent and assignee != who.subject:
        raise ApiError(403, "forbidden", "an agent sees only their own tasks")
    team = await work_queries.team_of(request.app.state.pool, who.subject)
    if assignee is not None:
        if team is not None and assignee not in team:
            raise ApiError(403, "forbidden", f"{assignee} is not in your team")
        return [assignee]
    return team
