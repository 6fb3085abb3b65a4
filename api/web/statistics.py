"""Figures for a team lead or the working group, as charts: intake per week, caseload per office
and counsellor, the share needing support, measures, placements, days from recognition to
acceptance; for the whole time, a month or a quarter. The page, its CSV and XLSX exports and the
monthly report (PDF) show one document, ``service_layer.statistics.figures`` (ADR 0020)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api import exports
from api.deps import read_your_writes_at_first_read
from api.web import statistics_report
from api.web.charts import number
from api.web.core import ServicesDep, WebPrincipal, WebRoute, finish, render
from api.web.text import day
from domain.policy import today_in_germany
from service_layer import periods, statistics
from service_layer.periods import Period

router = APIRouter(prefix="/ui", route_class=WebRoute, include_in_schema=False)
Text = Annotated[str | None, Query(max_length=40)]


def chosen_period(
    month: str | None, quarter: str | None, start: str | None, end: str | None
) -> Period:
    if month:
        return periods.month(month)
    if quarter:
        return periods.quarter(quarter)
    return periods.between(start, end)


def quarters(today: date | None = None, count: int = 8) -> list[tuple[str, str]]:
    """The current quarter and those before it, as (``YYYY-Qn``, German label)."""
    today = today or today_in_germany()
    year, q = today.year, (today.month - 1) // 3 + 1
    shown = []
    for _ in range(count):
        shown.append((f"{year}-Q{q}", f"{q}. Quartal {year}"))
        year, q = (year, q - 1) if q > 1 else (year - 1, 4)
    return shown


def shown_value(value: int | float | None, unit: str) -> str:
    if value is None:
        return "\N{EN DASH}"
    return f"{number(value)} {unit}" if unit else number(value)


@router.get("/statistics")
def statistics_page(
    request: Request,
    services: ServicesDep,
    principal: WebPrincipal,
    org: Annotated[str | None, Query(max_length=64)] = None,
    month: Text = None,
    quarter: Text = None,
    start: Annotated[str | None, Query(alias="from", max_length=40)] = None,
    end: Annotated[str | None, Query(alias="to", max_length=40)] = None,
) -> Response:
    read_your_writes_at_first_read(request, services, principal)
    period = chosen_period(month, quarter, start, end)
    shown = statistics.figures(services, principal, org or None, period)
    query = {**({"org": shown.org} if shown.may_choose else {}), **period.query()}
    return render(
        request,
        "statistics.html",
        title="Statistik",
        nav="statistics",
        f=shown,
        org=shown.org,
        orgs=[o for o in services.orgs if o.kind != "audit"],
        can_choose=shown.may_choose,
        as_of=day(shown.as_of),
        charts=statistics_report.charts_of(shown),
        shown_value=shown_value,
        month=period.slug if month else "",
        quarter=period.slug if quarter else "",
        quarters=quarters(),
        links={
            "csv": "/ui/statistics/export?" + urlencode({"format": "csv", **query}),
            "xlsx": "/ui/statistics/export?" + urlencode({"format": "xlsx", **query}),
            "pdf": "/ui/statistics/report.pdf?" + urlencode(query),
        },
    )


@router.get("/statistics/export")
def export(
    request: Request,
    services: ServicesDep,
    principal: WebPrincipal,
    format: Literal["csv", "xlsx"],
    org: Annotated[str | None, Query(max_length=64)] = None,
    start: Annotated[str | None, Query(alias="from", max_length=40)] = None,
    end: Annotated[str | None, Query(alias="to", max_length=40)] = None,
) -> Response:
    """The page's figures as CSV or XLSX (``GET /statistics/export`` for a signed-in user)."""
    read_your_writes_at_first_read(request, services, principal)
    figures = statistics.figures(services, principal, org or None, periods.between(start, end))
    statistics.log_export(services, principal, statistics.WEB_EXPORT_ENDPOINT)
    return finish(request, exports.statistics_file(figures, format))


@router.get("/statistics/report.pdf")
def report(
    request: Request,
    services: ServicesDep,
    principal: WebPrincipal,
    org: Annotated[str | None, Query(max_length=64)] = None,
    start: Annotated[str | None, Query(alias="from", max_length=40)] = None,
    end: Annotated[str | None, Query(alias="to", max_length=40)] = None,
) -> Response:
    """The page's figures and charts as a printable report (PDF)."""
    read_your_writes_at_first_read(request, services, principal)
    figures = statistics.figures(services, principal, org or None, periods.between(start, end))
    statistics.log_export(services, principal, statistics.WEB_REPORT_ENDPOINT)
    return finish(request, statistics_report.pdf_response(figures))
