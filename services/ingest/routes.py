"""Ingest routes: translate HTTP to :func:`services.ingest.service.ingest` and back."""

from __future__ import annotations

from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, Body, Depends, Request
from fastapi.responses import JSONResponse
from kafka.errors import KafkaError
from pydantic import BaseModel, ConfigDict, Field

from events.interaction import Interaction, strings_in
from kartoteka.auth import Principal, Role
from kartoteka.http import ApiError, require_roles
from services.ingest.service import ItemResult, ingest

router = APIRouter(prefix="/v1")
Channel = Annotated[Principal, Depends(require_roles(Role.channel))]
MAX_BATCH = 1000


def _inline(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with its ``$defs`` references resolved in place (an OpenAPI body schema
    cannot point into a model's own ``$defs``)."""
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return resolve(defs[ref.removeprefix("#/$defs/")])
            return {k: resolve(v) for k, v in node.items()}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    return resolve(schema)  # type: ignore[no-any-return]


EXAMPLE = {
    "channel": "call", "external_id": "c-1", "occurred_at": "2026-11-20T10:00:00+03:00",
    "direction": "inbound", "customer": {"phone": "+7 912 345-67-89", "name": "Ирина Петрова"},
    "agent_id": "emp-42", "details": {"duration_s": 60},
}
# The routes take raw objects (each item is validated on its own, with per-item errors), but
# the published document describes the real contract, so clients and fuzzers see it.
INTERACTION_SCHEMA = {**_inline(Interaction.model_json_schema()), "example": EXAMPLE}
ONE_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": INTERACTION_SCHEMA}}}}


class Batch(BaseModel):
    """Up to 1000 interactions; each is validated on its own."""

    model_config = ConfigDict(extra="forbid")
    items: list[dict[str, Any]] = Field(
        min_length=1, max_length=MAX_BATCH, json_schema_extra={"items": INTERACTION_SCHEMA}
    )


def _not_unicode(raw: Any) -> str | None:
    """Why ``raw`` holds text that is not valid Unicode (a lone surrogate from a ``\\ud800``
    escape), else None. Such text can be neither hashed into an id nor stored, so it is
    refused before anything else looks at the item."""
    for text in strings_in(raw):
        try:
            text.encode()
        except UnicodeEncodeError:
            return "text is not valid Unicode (lone surrogate escape)"
    return None


async def _run(request: Request, items: list[Any]) -> list[ItemResult]:
    state = request.app.state
    refused = {i: why for i, item in enumerate(items) if (why := _not_unicode(item))}
    try:
        results = iter(
            await ingest([x for i, x in enumerate(items) if i not in refused], state.publisher,
                         state.receipts)
        )
    except (KafkaError, TimeoutError) as exc:
        raise ApiError(
            503, "broker_unavailable", f"Kafka did not acknowledge: {exc}", {"Retry-After": "1"}
        ) from exc
    except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
        # Without the duplicate check a retry could not be told from a new delivery: refuse,
        # the channel retries (PoolTimeout is an OperationalError too).
        raise ApiError(
            503, "database_unavailable", f"duplicate check unavailable: {exc}", {"Retry-After": "1"}
        ) from exc
    return [
        ItemResult(None, "rejected", refused[i]) if i in refused else next(results)
        for i in range(len(items))
    ]


@router.post(
    "/interactions", status_code=202, openapi_extra=ONE_BODY,
    responses={200: {}, 400: {}, 401: {}, 403: {}, 422: {}, 503: {}},
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


@router.post(
    "/interactions/batch", status_code=202,
    responses={400: {}, 401: {}, 403: {}, 422: {}, 503: {}},
)
async def post_batch(request: Request, _: Channel, batch: Batch) -> JSONResponse:
    """Accept up to 1000 interactions; per-item results in input order."""
    results = await _run(request, batch.items)
    return JSONResponse({"results": [r.as_json() for r in results]}, 202)
