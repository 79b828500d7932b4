"""Undoing merges: supervisors and admins split identifiers (and their interactions) off a customer."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from events import topics
from events.identifiers import Identifier, identifiers_of
from events.ids import split_target_id
from kartoteka.auth import Principal, Role
from kartoteka.http import ApiError, require_roles
from services.api.commands import request_split
from services.api.queries.customers import card_identifiers, members
from services.api.routes.customers import customer_id_or_404

router = APIRouter(prefix="/v1/customers", tags=["identity"])
Supervisor = Annotated[Principal, Depends(require_roles(Role.supervisor, Role.admin))]


class IdentifierRef(BaseModel):
    """One identifier as the card shows it; normalised the same way interactions are."""

    model_config = ConfigDict(extra="forbid")
    kind: str = Field(pattern="^(phone|email|handle)$")
    value: str = Field(min_length=1, max_length=320)


class SplitBody(BaseModel):
    """Which identifiers move, and optionally to which existing customer."""

    model_config = ConfigDict(extra="forbid")
    identifiers: list[IdentifierRef] = Field(min_length=1, max_length=50)
    into: str | None = Field(None, max_length=64)
    reason: str | None = Field(None, max_length=1000)


def _normalised(ref: IdentifierRef) -> Identifier:
    found = identifiers_of(**{ref.kind: ref.value})  # type: ignore[arg-type]
    if not found:
        raise ApiError(422, "invalid_identifier", f"{ref.kind} {ref.value!r} is not a usable identifier")
    return found[0]


@router.post("/{customer_id}/split", status_code=202, responses={401: {}, 403: {}, 404: {}, 409: {}, 422: {}})
async def split(request: Request, who: Supervisor, customer_id: str, body: SplitBody) -> JSONResponse:
    """Move identifiers, and the interactions that came only through them, to a new or existing customer."""
    pool = request.app.state.pool
    found = await members(pool, customer_id_or_404(customer_id))
    if found is None:
        raise ApiError(404, "not_found", "no such customer")
    root, _ = found
    keys = [_normalised(ref).key for ref in body.identifiers]
    on_card = {f"{i['kind']}:{i['value']}" for i in await card_identifiers(pool, root)}
    if missing := [k for k in keys if k not in on_card]:
        raise ApiError(409, "not_on_card", f"not identifiers of this customer: {', '.join(missing)}")
    target = None
    if body.into:
        into = await members(pool, customer_id_or_404(body.into))
        if into is None:
            raise ApiError(404, "not_found", "no such target customer")
        target = into[0]
        if target == root:
            raise ApiError(409, "same_customer", "cannot split a customer into itself")
    command = await request_split(request.app.state.producer, request.app.state.settings.topic(
        topics.IDENTITY_COMMANDS), root_id=root, keys=keys, target_id=target, requested_by=who.subject,
        reason=body.reason, sealer=request.app.state.keys)
    result: dict[str, Any] = {"command_id": command.command_id, "status": "accepted", "customer_id": root,
                              "target_customer_id": target or split_target_id(command.command_id)}
    return JSONResponse(result, 202)
