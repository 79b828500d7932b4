"""Ingest routes: translate HTTP to :func:`services.ingest.service.ingest` and back."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request
from fastapi.responses import JSONResponse
from kafka.errors import KafkaError
from pydantic import BaseModel, ConfigDict, Field

from kartoteka.auth import Principal, Role
from kartoteka.http import ApiError, require_roles
from services.ingest.service import ingest

router = APIRouter(prefix="/v1")
Channel = Annotated[Principal, Depends(require_roles(Role.channel))]
MAX_BATCH = 1000


class Batch(BaseModel):
    """Up to 1000 interactions; each is validated on its own."""

    model_config = ConfigDict(extra="forbid")
    items: list[dict[str, Any]] = Field(min_length=1, max_length=MAX_BATCH)


async def _run(request: Request, items: list[Any]) -> list[Any]:
    state = request.app.state
    try:
        return await ingest(items, state.publisher, state.receipts)
    except (KafkaError, TimeoutError) as exc:
        raise ApiError(
            503, "broker_unavailable", f"Kafka did not acknowledge: {exc}", {"Retry-After": "1"}
        ) from exc


@router.post(
    "/interactions", status_code=202, responses={200: {}, 400: {}, 401: {}, 403: {}, 503: {}}
)
async def post_interaction(
    request: Request, _: Channel, item: Annotated[dict[str, Any], Body()]
) -> JSONResponse:
    """Accept one interaction; 202 only once Kafka acknowledged it. A repeat answers 200 "duplicate"."""
    [result] = await _run(request, [item])
    if result.status == "rejected":
        raise ApiError(422, "invalid_interaction", result.error or "invalid interaction")
    return JSONResponse(
        {"id": result.id, "status": result.status}, 202 if result.status == "accepted" else 200
    )


@router.post("/interactions/batch", status_code=202, responses={401: {}, 403: {}, 503: {}})
async def post_batch(request: Request, _: Channel, batch: Batch) -> JSONResponse:
    """Accept up to 1000 interactions; per-item results in input order."""
    results = await _run(request, batch.items)
    return JSONResponse({"results": [r.as_json() for r in results]}, 202)
