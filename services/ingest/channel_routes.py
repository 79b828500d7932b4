"""Channel-native routes: read the body, call the channel's pure adapter, then the shared accept path."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from events import ids
from kartoteka.auth import Principal, Role
from kartoteka.http import ApiError, require_roles
from kartoteka.settings import Settings
from services.ingest.accept import accept
from services.ingest.channels.cdr import PbxConfig, parse_cdr_csv, parse_freeswitch_json
from services.ingest.channels.common import Item, Refused
from services.ingest.channels.email import MailConfig, parse_email
from services.ingest.channels.rate import RateLimit
from services.ingest.channels.telegram import parse_update
from services.ingest.channels.web_form import FormConfig, Honeypot, parse_form
from services.ingest.routes import coalesced, results_json, unavailable_as_503
from services.ingest.service import ItemResult

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1/channels")
Channel = Annotated[Principal, Depends(require_roles(Role.channel))]
T = TypeVar("T")
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {}, 401: {}, 403: {}, 413: {}, 415: {}, 422: {}, 429: {}, 503: {}}


@dataclass(frozen=True)
class Channels:
    """Each adapter's configuration, read from the settings once per process."""

    mail: MailConfig
    pbx: PbxConfig
    forms: FormConfig
    form_rate: RateLimit
    telegram_secret: str | None

    @classmethod
    def from_settings(cls, settings: Settings) -> Channels:
        secret = settings.telegram_secret_token  # an empty value (compose's default) is no secret
        return cls(MailConfig.from_setting(settings.own_email_domains),
                   PbxConfig.from_settings(settings.pbx_timezone, settings.pbx_extension_pattern),
                   FormConfig.from_settings(settings.web_forms, settings.web_form_honeypot),
                   RateLimit(settings.web_form_rate_per_minute),
                   (secret.get_secret_value() or None) if secret else None)


def body_limits(settings: Settings) -> dict[str, int]:
    """Routes that take bodies larger than the default limit."""
    return {"/v1/channels/email": settings.email_max_bytes}


def adapted(adapter: Callable[..., T], *args: Any) -> T:
    """The adapter's answer; any failure it did not foresee is the sender's input, answered 422.

    Native formats arrive as they are: an oddity no rule covers must still get a reason, never a 500.
    """
    try:
        return adapter(*args)
    except (Refused, Honeypot):
        raise
    except Exception as exc:  # noqa: BLE001 - see above; logged for the operator
        log.warning("channel input not understood", exc_info=True)
        raise Refused(422, "unreadable_input", f"{type(exc).__name__}: {exc}"[:500]) from exc


async def _settle(request: Request, items: list[Item]) -> list[ItemResult]:
    secret = request.app.state.publisher.id_secret
    outcomes = [accept(item, secret) if isinstance(item, dict) else item for item in items]
    return await unavailable_as_503(coalesced(request)(outcomes))


async def _one(request: Request, item: dict[str, Any]) -> JSONResponse:
    [result] = await _settle(request, [item])
    if result.status == "rejected":
        raise ApiError(422, "invalid_interaction", result.error or "invalid interaction")
    return JSONResponse({"id": result.id, "status": result.status},
                        202 if result.status == "accepted" else 200)


def _channels(request: Request) -> Channels:
    return request.app.state.channels  # type: ignore[no-any-return]


@router.post("/email", status_code=202, responses=ERRORS)
async def post_email(request: Request, _: Channel) -> JSONResponse:
    """One raw RFC 5322 message (``message/rfc822``); Message-ID makes a re-delivery a duplicate."""
    body = await request.body()
    item = adapted(parse_email, body, _channels(request).mail, datetime.now(UTC))
    return await _one(request, item)


@router.post("/telephony/cdr", status_code=202, responses=ERRORS)
async def post_cdr(request: Request, _: Channel) -> Response:
    """Asterisk cdr-csv lines (``text/csv``) or FreeSWITCH JSON CDRs; results in record order."""
    body = await request.body()
    if "json" in request.headers.get("content-type", "").lower():
        items = adapted(parse_freeswitch_json, body)
    else:
        items = adapted(parse_cdr_csv, body, _channels(request).pbx)
    return Response(results_json(await _settle(request, items)), 202, media_type="application/json")


@router.post("/web-form/{form_id}", status_code=202, responses=ERRORS)
async def post_web_form(request: Request, form_id: str, _: Channel) -> JSONResponse:
    """A site form as the browser posts it; a filled honeypot answers like success, storing nothing."""
    channels = _channels(request)
    # The caller holds a channel token, so it is a trusted relay (the site's backend, a proxy):
    # the visitor's address is the one it forwards, else the connection's.
    forwarded = request.headers.get("x-forwarded-for", "").split(",")[0].strip()
    address = forwarded or (request.client.host if request.client else "unknown")
    if not channels.form_rate.allow(address):
        raise ApiError(429, "rate_limited", f"too many submissions from {address}; retry in a minute",
                       {"Retry-After": "60"})
    body = await request.body()
    content_type = request.headers.get("content-type", "")
    try:
        item = adapted(parse_form, body, content_type, form_id[:128], channels.forms,
                       datetime.now(UTC))
    except Honeypot:
        fake = ids.interaction_id("web_form", f"honeypot:{form_id}:{len(body)}", request.app.state.publisher.id_secret)
        return JSONResponse({"id": fake, "status": "accepted"}, 202)
    return await _one(request, item)


@router.post("/telegram", status_code=202, responses=ERRORS)
async def post_telegram(request: Request, _: Channel) -> JSONResponse:
    """A Telegram Bot API Update; edits and other update types are acknowledged and dropped."""
    secret = _channels(request).telegram_secret
    given = request.headers.get("x-telegram-bot-api-secret-token", "")
    if secret is not None and not hmac.compare_digest(given.encode(), secret.encode()):
        raise ApiError(403, "bad_secret_token", "X-Telegram-Bot-Api-Secret-Token does not match")
    item = adapted(parse_update, await request.body())
    if item is None:
        return JSONResponse({"id": None, "status": "ignored"}, 200)
    return await _one(request, item)


def install(app: Any, settings: Settings) -> None:
    """The channel routes, their configuration and the mapping of adapter refusals to 4xx."""
    app.state.channels = Channels.from_settings(settings)

    async def refused(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Refused)
        return JSONResponse({"error": {"code": exc.code, "message": exc.message}}, exc.status)

    app.add_exception_handler(Refused, refused)
    app.include_router(router)
