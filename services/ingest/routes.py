"""Ingest routes: translate HTTP to :func:`services.ingest.service.ingest` and back."""

from __future__ import annotations

import email.message
import json
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import psycopg
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from kafka.errors import KafkaError
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from events.interaction import Interaction, strings_in
from kartoteka.auth import Principal, Role
from kartoteka.http import ApiError, require_roles
from services.ingest.accept import accept, accepted
from services.ingest.coalescer import Settle
from services.ingest.service import ItemResult, settle

router = APIRouter(prefix="/v1")
Channel = Annotated[Principal, Depends(require_roles(Role.channel))]
MAX_BATCH = 1000
T = TypeVar("T")


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
# The routes read the raw body (a valid one is validated in one call, anything else item by
# item, with per-item errors), but the published document describes the real contract, so
# clients and fuzzers see it.
INTERACTION_SCHEMA = {**_inline(Interaction.model_json_schema()), "example": EXAMPLE}
ONE_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": INTERACTION_SCHEMA}}}}


class Batch(BaseModel):
    """Up to 1000 interactions; each is validated on its own."""

    model_config = ConfigDict(extra="forbid")
    items: list[dict[str, Any]] = Field(
        min_length=1, max_length=MAX_BATCH, json_schema_extra={"items": INTERACTION_SCHEMA}
    )


BATCH_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": Batch.model_json_schema()}}}}


class ValidBatch(BaseModel):
    """A batch whose every item is a valid interaction: the whole body in one pydantic-core
    call. Anything it refuses goes the item-by-item way, which says what is wrong where."""

    model_config = ConfigDict(extra="forbid")
    items: list[Interaction] = Field(min_length=1, max_length=MAX_BATCH)


_ONE_ITEM: TypeAdapter[dict[str, Any]] = TypeAdapter(dict[str, Any])


def _declares_json(request: Request) -> bool:
    """FastAPI's rule for reading a body as JSON (its strict content-type default)."""
    content_type = request.headers.get("content-type")
    if not content_type:
        return False
    if content_type == "application/json":
        return True
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


def _as_fastapi_would(request: Request, body: bytes, adapter: TypeAdapter[T]) -> T:
    """The body parsed and validated as a declared body parameter would be, with the same
    errors (the routes read the raw body themselves to try the fast path first)."""
    value: Any
    if not body:
        raise RequestValidationError(
            [{"type": "missing", "loc": ("body",), "msg": "Field required", "input": None}]
        )
    if _declares_json(request):
        try:
            value = json.loads(body)
        except json.JSONDecodeError as exc:
            raise RequestValidationError([{
                "type": "json_invalid", "loc": ("body", exc.pos), "msg": "JSON decode error",
                "input": {}, "ctx": {"error": exc.msg},
            }], body=exc.doc) from exc
        except Exception as exc:  # e.g. RecursionError on absurdly deep nesting
            raise HTTPException(400, "There was an error parsing the body") from exc
    else:
        value = body
    try:
        return adapter.validate_python(value, from_attributes=True)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        for error in errors:
            error["loc"] = ("body", *error["loc"])
        raise RequestValidationError(errors, body=value) from exc


def _fast(request: Request, body: bytes, adapter: TypeAdapter[T]) -> T | None:
    """The body validated straight from its bytes, or None when anything in it is off."""
    if not body or not _declares_json(request):
        return None
    try:
        return adapter.validate_json(body)
    except ValidationError:
        return None


_VALID_BATCH = TypeAdapter(ValidBatch)
_BATCH = TypeAdapter(Batch)
_VALID_ONE = TypeAdapter(Interaction)


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


def direct(request: Request) -> Settle:
    """Settles a request's items on their own (a big batch gains nothing from company)."""
    state = request.app.state
    return lambda outcomes: settle(outcomes, state.publisher, state.receipts)


def coalesced(request: Request) -> Settle:
    """Settles a request's items together with the other requests in flight (single deliveries)."""
    return request.app.state.coalescer.submit  # type: ignore[no-any-return]


async def _run(request: Request, settle_: Settle, items: list[Any]) -> list[ItemResult]:
    secret = request.app.state.publisher.id_secret
    refused = {i: why for i, item in enumerate(items) if (why := _not_unicode(item))}
    results = iter(await unavailable_as_503(
        settle_([accept(x, secret) for i, x in enumerate(items) if i not in refused])
    ))
    return [
        ItemResult(None, "rejected", refused[i]) if i in refused else next(results)
        for i in range(len(items))
    ]


async def unavailable_as_503(work: Awaitable[list[ItemResult]]) -> list[ItemResult]:
    try:
        return await work
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


async def _run_valid(request: Request, settle_: Settle, interactions: list[Interaction]) -> list[ItemResult]:
    secret = request.app.state.publisher.id_secret
    # Text decoded by pydantic-core is valid Unicode (it refuses lone surrogate escapes).
    return await unavailable_as_503(settle_([accepted(i, secret) for i in interactions]))


@router.post(
    "/interactions", status_code=202, openapi_extra=ONE_BODY,
    responses={200: {}, 400: {}, 401: {}, 403: {}, 422: {}, 503: {}},
)
async def post_interaction(request: Request, _: Channel) -> JSONResponse:
    """Accept one interaction; 202 only once Kafka acknowledged it. A repeat answers 200 "duplicate".
    Concurrent deliveries share one produce (and one wait for Kafka's acknowledgement)."""
    body = await request.body()
    valid = _fast(request, body, _VALID_ONE)
    if valid is not None:
        [result] = await _run_valid(request, coalesced(request), [valid])
    else:
        [result] = await _run(request, coalesced(request), [_as_fastapi_would(request, body, _ONE_ITEM)])
    if result.status == "rejected":
        raise ApiError(422, "invalid_interaction", result.error or "invalid interaction")
    return JSONResponse(
        {"id": result.id, "status": result.status}, 202 if result.status == "accepted" else 200
    )


@router.post(
    "/interactions/batch", status_code=202, openapi_extra=BATCH_BODY,
    responses={400: {}, 401: {}, 403: {}, 422: {}, 503: {}},
)
async def post_batch(request: Request, _: Channel) -> Response:
    """Accept up to 1000 interactions; per-item results in input order."""
    body = await request.body()
    valid = _fast(request, body, _VALID_BATCH)
    if valid is not None:
        results = await _run_valid(request, direct(request), valid.items)
    else:
        results = await _run(request, direct(request), _as_fastapi_would(request, body, _BATCH).items)
    return Response(results_json(results), 202, media_type="application/json")


def results_json(results: list[ItemResult]) -> bytes:
    """The bytes JSONResponse({"results": [r.as_json() ...]}) renders, spelt out per item: the
    generic encoder over a thousand small dicts showed up in the profile."""
    parts = [
        "".join(('{"id":', "null" if r.id is None else _quote(r.id), ',"status":', _quote(r.status),
                 ',"error":', "null" if r.error is None else _quote(r.error), "}"))
        for r in results
    ]
    return ('{"results":[' + ",".join(parts) + "]}").encode()


_quote: Callable[[str], str] = json.encoder.encode_basestring  # type: ignore[attr-defined]
