"""The web interface for staff, auditors, employers and volunteers: German, server-rendered pages
under ``/ui`` over the same operations and endpoints as the JSON API, no JavaScript."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from adapters.settings import Settings
from api.web import (
    audit,
    case_page,
    cases,
    employers,
    handover_sheet,
    handovers,
    matches,
    mentors,
    offers,
    oidc,
    preferences,
    signin,
    statistics,
    work,
)
from api.web.core import HERE


def install(app: FastAPI, settings: Settings) -> None:
    for module in (signin, oidc, cases, case_page, handover_sheet, handovers, statistics, audit,
                   employers, offers, matches, mentors, work, preferences):  # fmt: skip
        app.include_router(module.router)
    app.mount("/ui/static", StaticFiles(directory=HERE / "static"), name="ui-static")
    if settings.demo:

        @app.get("/", include_in_schema=False)
        def home() -> RedirectResponse:
            return RedirectResponse("/ui", status_code=307)
