"""Figures for a team lead or the working group, as charts: intake per week, caseload per office
and counsellor, the share needing support, placements, days from recognition to acceptance."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from adapters import german
from api.deps import wait_for_reads
from api.web import charts
from api.web.charts import number
from api.web.core import ServicesDep, WebPrincipal, WebRoute, render
from api.web.text import actor, day
from domain.values import PlacementKind
from projections import labels as de
from service_layer import cases

router = APIRouter(prefix="/ui", route_class=WebRoute, include_in_schema=False)
TITLES = {
    "weeks": "Neue Registrierungen je Kalenderwoche",
    "offices": "Laufende Fälle je Dienststelle",
    "counsellors": "Laufende Fälle je Fallbearbeitung",
    "support": "Anteil mit besonderem Förderbedarf",
    "placements": "Vermittlungen nach Art",
    "days": "Tage von der Asylanerkennung bis zur angenommenen Übergabe",
}


def this_week() -> str:
    year, week, _ = date.today().isocalendar()
    return f"{year}-W{week:02d}"


@router.get("/statistics")
def statistics_page(
    request: Request,
    services: ServicesDep,
    principal: WebPrincipal,
    org: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    wait_for_reads(request, services, principal)
    orgs = [o for o in services.orgs if o.kind != "audit"]
    shown = cases.statistics(services, principal, org or None)
    chosen, stats = shown.org, shown.figures
    weeks = [(german.calendar_week(w), n) for w, n in stats["registrations_per_week"].items()]
    # the largest caseload first: what a team lead looks for
    offices = sorted(stats["by_office"].items(), key=lambda kv: (-kv[1], kv[0]))
    counsellors = [
        (actor(k, services), v)
        for k, v in sorted(stats["by_caseworker"].items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    placements = [
        (de.PLACEMENT[PlacementKind(k)], v) for k, v in stats["placements_by_kind"].items()
    ]
    days = stats.get("days_recognition_to_acceptance", [])
    current = this_week()
    recent = [n for w, n in stats["registrations_per_week"].items() if w != current][-8:]
    figures = {
        "active": stats["active_cases"],
        "this_week": stats["registrations_per_week"].get(current, 0),
        "weekly": number(sum(recent) / len(recent)) if recent else None,
        "weeks": len(recent),
        "support": f"{round(stats['support_need_share'] * 100)} %"
        if stats["support_need_share"] is not None
        else None,
        "measures": stats["measures_in_progress"],
        "placements": sum(stats["placements_by_kind"].values()),
    }
    return render(
        request,
        "statistics.html",
        title="Statistik",
        nav="statistics",
        org=chosen,
        orgs=orgs,
        can_choose=shown.may_choose,
        stats=stats,
        figures=figures,
        as_of=day(stats["as_of"]),
        tables={
            "weeks": weeks,
            "offices": offices,
            "counsellors": counsellors,
            "placements": placements,
        },
        charts={
            "weeks": charts.columns("c-weeks", TITLES["weeks"], weeks),
            "offices": charts.bars("c-offices", TITLES["offices"], offices),
            "counsellors": charts.bars("c-counsellors", TITLES["counsellors"], counsellors),
            "support": charts.share("c-support", TITLES["support"], stats["support_need_share"]),
            "placements": charts.bars("c-placements", TITLES["placements"], placements),
            "days": charts.distribution("c-days", TITLES["days"], days),
        },
        days=days,
    )  # fmt: skip
