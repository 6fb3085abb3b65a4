"""*Einstellungen*: a staff member's own e-mail notifications (ADR 0018): the daily digest of due
follow-ups, opt-in, sent to the work address the identity provider vouches for."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.web.core import FormDep, ServicesDep, WebPrincipal, WebRoute, redirect, render
from service_layer import notifications

router = APIRouter(prefix="/ui", route_class=WebRoute, include_in_schema=False)


@router.get("/settings")
def settings_page(
    request: Request,
    services: ServicesDep,
    principal: WebPrincipal,
    saved: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    mine = notifications.mine(services, principal)
    return render(
        request, "settings.html", title="Einstellungen", nav="settings", mine=mine,
        saved="Ihre Einstellungen sind gespeichert." if saved else None,
    )  # fmt: skip


@router.post("/settings/notifications")
def choose(
    request: Request, services: ServicesDep, principal: WebPrincipal, posted: FormDep
) -> Response:
    chosen = posted.get("follow_up_digest", "") == "1"
    notifications.choose(services, principal, follow_up_digest=chosen)
    return redirect("/ui/settings?saved=1")
