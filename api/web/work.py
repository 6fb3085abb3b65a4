"""*Meine Wiedervorlagen* (mine and my team's follow-ups: overdue first, today, this week, later)
and the *Team* page of a team lead (incoming handovers by age with their deadline, cases without
a caseworker with one click to assign, caseload per caseworker). ADR 0017."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from api.deps import read_your_writes_at_first_read
from api.responses import after_write
from api.web import forms
from api.web.core import FormDep, ServicesDep, WebPrincipal, WebRoute, redirect, render
from domain.policy import today_in_germany
from service_layer import cases, follow_ups
from service_layer.errors import InvalidInputError

router = APIRouter(prefix="/ui", route_class=WebRoute, include_in_schema=False)
SAVED = {
    "done": "Die Wiedervorlage ist erledigt.",
    "postponed": "Die Wiedervorlage ist verschoben.",
    "cancelled": "Die Wiedervorlage ist aufgehoben.",
    "assigned": "Der Fall ist zugewiesen.",
}
GROUPS = (
    ("overdue", "Überfällig"),
    ("today", "Heute"),
    ("week", "Diese Woche"),
    ("later", "Später"),
)


def group_of(due_on: str, today: date) -> str:
    due = date.fromisoformat(due_on)
    if due < today:
        return "overdue"
    if due == today:
        return "today"
    if due <= today + timedelta(days=6 - today.weekday()):  # up to this week's Sunday
        return "week"
    return "later"


def grouped(items: list[dict[str, Any]], today: date) -> list[tuple[str, str, list[Any]]]:
    by: dict[str, list[Any]] = {key: [] for key, _ in GROUPS}
    for item in items:
        by[group_of(item["due_on"], today)].append(item)
    return [(key, label, by[key]) for key, label in GROUPS]


@router.get("/follow-ups")
def my_follow_ups(
    request: Request,
    services: ServicesDep,
    principal: WebPrincipal,
    saved: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    read_your_writes_at_first_read(request, services, principal)
    page = follow_ups.listing(services, principal, "GET /ui/follow-ups", limit=200)
    return render(
        request,
        "follow_ups.html",
        title="Meine Wiedervorlagen",
        nav="follow-ups",
        groups=grouped(page.items, today_in_germany()),
        more=page.next_cursor is not None,
        saved=SAVED.get(saved or ""),
    )


@router.post("/follow-ups/{case_id}/{follow_up_id}/{how}")
def settle(
    request: Request,
    services: ServicesDep,
    principal: WebPrincipal,
    case_id: UUID,
    follow_up_id: Annotated[str, Path(max_length=64)],
    how: Literal["done", "postponed", "cancelled"],
    posted: FormDep,
) -> Response:
    due_on = None
    if how == "postponed":
        day = forms.iso_day(posted.get("due_on", "").strip())
        try:
            due_on = date.fromisoformat(day)
        except ValueError:
            raise InvalidInputError(
                "due_on", "not a date", "Bitte ein Datum im Format TT.MM.JJJJ angeben."
            ) from None
    result = follow_ups.settle(services, principal, case_id, follow_up_id, how, due_on=due_on)
    after_write(request, result.position)
    return redirect(f"/ui/follow-ups?saved={how}")


@router.get("/team")
def team(
    request: Request,
    services: ServicesDep,
    principal: WebPrincipal,
    saved: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    read_your_writes_at_first_read(request, services, principal)
    view = follow_ups.team(services, principal, "GET /ui/team")
    incoming = sorted(view.incoming, key=lambda h: -h["age_days"])  # the oldest first
    org = services.orgs.get(principal.org)
    return render(
        request,
        "team.html",
        title="Team",
        nav="team",
        incoming=incoming,
        unassigned=view.unassigned,
        caseload=sorted(view.caseload.items(), key=lambda kv: (-kv[1], kv[0])),
        caseworkers=view.caseworkers,
        offices=org.offices if org else (),
        saved=SAVED.get(saved or ""),
    )


@router.post("/team/assign/{case_id}")
def assign(
    request: Request,
    services: ServicesDep,
    principal: WebPrincipal,
    case_id: UUID,
    posted: FormDep,
) -> Response:
    follow_ups.require_team_lead(principal)
    caseworker = posted.get("caseworker", "").strip() or None
    office = posted.get("office", "").strip() or None
    if caseworker is None:
        raise InvalidInputError("caseworker", "required", "Bitte eine Fachkraft angeben.")
    if office is None:  # keep the case's office
        office = cases.find_case(services, case_id).get("office")
    fields = {"office": office, "caseworker": caseworker}
    result = cases.record(services, principal, case_id, "CaseAssigned", fields)
    after_write(request, result.position)
    return redirect("/ui/team?saved=assigned")
