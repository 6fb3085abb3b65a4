"""An unknown ``/ui/...`` address: the German "Nicht gefunden" page with status 404, not the
API's problem+json (issue 18). Included after every other page, so it only catches what none of
them answers."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.web import text
from api.web.core import WebRoute, error_page

router = APIRouter(prefix="/ui", include_in_schema=False, route_class=WebRoute)


@router.api_route("/{rest:path}", methods=["GET", "HEAD"])
def not_found(request: Request, rest: str) -> Response:
    return error_page(request, 404, text.NOT_FOUND)
