"""Query parameters PostgreSQL's text type cannot hold (NUL, U+0000) are refused at the edge: a
422 naming the parameter, on every route and page and on either backend (ADR 0005). Without it
SQLite answered and PostgreSQL failed with a 500 the moment the value reached a query."""

from __future__ import annotations

import json
from html import escape
from urllib.parse import parse_qsl

from starlette.responses import HTMLResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from api.problems import problem

NUL = "\x00"


def refused_parameter(query_string: bytes) -> str | None:
    """The first query parameter (decoded as Starlette decodes it) with a NUL in its name or
    value, spelt as JSON spells it; None if there is none."""
    if b"%00" not in query_string and b"\x00" not in query_string:
        return None
    for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        if NUL in name or NUL in value:
            return json.dumps(name)[1:-1]
    return None


def refusal(path: str, name: str) -> Response:
    message = "must not contain the character NUL (U+0000)"
    if path.startswith("/ui"):
        from api.web.core import SECURITY_HEADERS  # the pages' headers

        text = f"Ungültige Eingabe im Feld „{escape(name)}“: Das Zeichen NUL ist nicht erlaubt."
        page = f'<!doctype html><html lang="de"><title>Ungültige Anfrage</title><p>{text}</p>'
        return HTMLResponse(page, status_code=422, headers=SECURITY_HEADERS)
    return problem(
        422, "invalid-request", "The request is not valid", f"{name}: {message}",
        errors=[{"field": name, "message": message}],
    )  # fmt: skip


class RefuseNul:
    """Plain ASGI middleware: answers the request itself when a query parameter holds NUL."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            name = refused_parameter(scope.get("query_string") or b"")
            if name is not None:
                await refusal(str(scope.get("path", "")), name)(scope, receive, send)
                return
        await self.app(scope, receive, send)
