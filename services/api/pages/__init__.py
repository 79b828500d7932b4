"""Web pages for agents (the desk) and security officers (the console), served by the api."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from services.api.pages import console, desk, desk_forms, duplicates, login, screenpop
from services.api.pages.common import install_page_errors
from services.api.pages.render import HERE


def install_pages(app: FastAPI) -> None:
    """The pages' routes, their vendored static files, and HTML error answers for them."""
    for module in (login, desk, desk_forms, duplicates, screenpop, console):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    install_page_errors(app)
