"""Templates: one Jinja2 environment (autoescaped), the language of a request, and the page
response that remembers a ``?lang=`` choice for the session."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from services.api.pages import i18n
from services.api.pages.session import LANG_COOKIE, Session, cookie_flags

HERE = Path(__file__).parent
# Symbols every common font has (emoji fonts are missing on many desks, and in headless Chromium).
CHANNEL_ICONS = {"call": "☎", "email": "✉", "chat": "❝", "sms": "✆", "web_form": "⌨", "note": "✍"}


@cache
def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True, auto_reload=False)
    env.globals["icons"] = CHANNEL_ICONS
    env.filters["svg"] = Markup  # charts.py escapes every text it puts into the SVG
    return env


def language(request: Request) -> str:
    return i18n.choose(request.query_params.get("lang"), request.cookies.get(LANG_COOKIE),
                       request.headers.get("accept-language"))


def formatter(request: Request) -> i18n.Formatter:
    return i18n.Formatter(language(request), request.app.state.settings.pages_timezone)


def page(request: Request, template: str, session: Session | None, status: int = 200,
         **context: Any) -> HTMLResponse:
    """A rendered template; a ``?lang=`` choice is remembered in a cookie beside the session."""
    t = formatter(request)
    html = environment().get_template(template).render(
        t=t, lang=t.lang, session=session, csrf=session.csrf if session else None,
        path=request.url.path, **context)
    response = HTMLResponse(html, status)
    asked = request.query_params.get("lang")
    if asked in i18n.LANGUAGES:
        response.set_cookie(LANG_COOKIE, asked, max_age=365 * 24 * 3600, **cookie_flags(request))  # type: ignore[arg-type]
    return response


def partial(request: Request) -> bool:
    """Whether the page's script asked for a fragment rather than the whole page."""
    return request.headers.get("x-partial") == "1"
