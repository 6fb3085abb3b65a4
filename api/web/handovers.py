"""The handover inbox and outbox: age, the overdue flag, and the way to each decision."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.deps import read_your_writes_at_first_read
from api.web.case_page import SAVED
from api.web.core import ServicesDep, WebPrincipal, WebRoute, render
from service_layer import cases
from service_layer import handovers as handover_cases

router = APIRouter(prefix="/ui", route_class=WebRoute, include_in_schema=False)
STATES = {
    "offered": "offen",
    "overdue": "überfällig",
    "accepted": "angenommen",
    "rejected": "abgelehnt",
    "withdrawn": "zurückgezogen",
    "receiver_unknown": "Empfänger unbekannt",
}


@router.get("/handovers")
def handovers(
    request: Request,
    services: ServicesDep,
    principal: WebPrincipal,
    direction: Literal["incoming", "outgoing"] = "incoming",
    state: Annotated[str | None, Query(max_length=20)] = None,
    saved: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    read_your_writes_at_first_read(request, services, principal)
    chosen = state if state in STATES else None
    if direction == "incoming" and chosen == "receiver_unknown":
        chosen = None
    items = handover_cases.queue(services, principal, direction, chosen, limit=200).items
    items.sort(key=lambda h: (not h["overdue"], h["offered_at"] or ""))
    return render(
        request,
        "handovers.html",
        title="Übergaben: Eingang" if direction == "incoming" else "Übergaben: Ausgang",
        nav=direction,
        direction=direction,
        state=chosen,
        states={
            k: v for k, v in STATES.items() if direction == "outgoing" or k != "receiver_unknown"
        },
        items=cases.with_people(services, principal, items, "GET /ui/handovers"),
        saved=SAVED.get(saved or ""),
    )
