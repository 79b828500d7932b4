"""Personal data: erasure and legal holds (admin). Both are commands on identity.commands.v1,
carried out by the resolver in order with the interactions, and access records naming them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict

from events import topics
from events.envelope import encode, wrap
from events.privacy import ErasureRequested, HoldPlaced, Reason
from kartoteka.auth import Principal, Role
from kartoteka.http import ApiError, require_roles
from kartoteka.kafka import send_all
from services.api.erased import hold
from services.api.routes.work import customer_root

router = APIRouter(prefix="/v1/customers", tags=["personal data"])
# The data protection officer answers erasure requests; an admin may too.
Privacy = Annotated[Principal, Depends(require_roles(Role.admin, Role.dpo))]
SOURCE = "kartoteka/api"


class EraseBody(BaseModel):
    """Why the customer is erased (kept in the erasure record and, sealed, in the audit trail)."""

    model_config = ConfigDict(extra="forbid")
    reason: Reason


class HoldBody(BaseModel):
    """Why, and until when, neither retention nor erasure may touch the customer."""

    model_config = ConfigDict(extra="forbid")
    reason: Reason
    until: AwareDatetime


async def _send(request: Request, root: str, command: ErasureRequested | HoldPlaced) -> None:
    envelope = wrap(command, id=command.command_id, source=SOURCE, time=command.at, subject=root)
    topic = request.app.state.settings.topic(topics.IDENTITY_COMMANDS)
    # Under the audit's key, not the customer's: the erasure must stay readable after it ran.
    value = request.app.state.keys.seal_audit(encode(envelope))
    await send_all(request.app.state.producer,
                   [(topic, root.encode(), value, [("event-type", envelope.type.encode())])])


@router.post("/{customer_id}/erase", status_code=202, responses={401: {}, 403: {}, 404: {}, 409: {}, 410: {}, 422: {}})
async def erase(request: Request, who: Privacy, customer_id: str, body: EraseBody) -> JSONResponse:
    """Erase a customer (and everyone merged into them): keys destroyed, every read model
    emptied of them, later reads 410. A legal hold in force answers 409 with its reason."""
    root, members = await customer_root(request, customer_id)
    held = await hold(request.app.state.pool, members)
    if held is not None:
        raise ApiError(409, "legal_hold", f"legal hold until {held[1].isoformat()}: {held[0]}")
    command = ErasureRequested(command_id=str(uuid.uuid4()), customer_id=root, requested_by=who.subject,
                               reason=body.reason, at=datetime.now(UTC))
    await request.app.state.auditor.record(request, who, "customer.erase", members, f"reason: {body.reason}")
    await _send(request, root, command)
    return JSONResponse({"id": command.command_id, "status": "accepted", "customer_id": root}, 202)


@router.post("/{customer_id}/hold", status_code=202, responses={401: {}, 403: {}, 404: {}, 410: {}, 422: {}})
async def place_hold(request: Request, who: Privacy, customer_id: str, body: HoldBody) -> JSONResponse:
    """Place (or move, or lift with a past ``until``) a legal hold on a customer."""
    root, members = await customer_root(request, customer_id)
    command = HoldPlaced(command_id=str(uuid.uuid4()), customer_id=root, placed_by=who.subject,
                         reason=body.reason, until=body.until, at=datetime.now(UTC))
    await request.app.state.auditor.record(request, who, "customer.hold", members,
                                           f"until {body.until.isoformat()}: {body.reason}")
    await _send(request, root, command)
    return JSONResponse({"id": command.command_id, "status": "accepted", "customer_id": root,
                         "until": body.until.isoformat()}, 202)
