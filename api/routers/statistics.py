"""The working group's figures as files (ADR 0020): ``GET /statistics/export`` (CSV or XLSX) and
``GET /statistics/report`` (the monthly report as a PDF), for the whole time or ``from``..``to``.
The same figures as the statistics page (``service_layer.statistics.figures``)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from api import exports
from api.deps import PrincipalDep, ReadYourWrites, ServicesDep
from api.problems import PROBLEMS
from api.web import statistics_report
from service_layer import periods, statistics

router = APIRouter(prefix="/statistics", tags=["statistics"], responses=PROBLEMS)
Day = Annotated[
    str | None, Query(max_length=40, description="first or last day included, YYYY-MM-DD")
]
Org = Annotated[str | None, Query(max_length=64, description="an auditor's choice")]
FILE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "the figures as a file",
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            exports.XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


@router.get("/export", responses=FILE, response_class=Response)
def export(
    services: ServicesDep,
    principal: PrincipalDep,
    _: ReadYourWrites,
    format: Literal["csv", "xlsx"],
    from_: Annotated[Day, Query(alias="from")] = None,
    to: Day = None,
    org: Org = None,
) -> Response:
    """Intake per week, caseload per office and caseworker, the share with support need,
    measures, placements by kind and the days from recognition to accepted handover of the
    caller's organisation (an auditor: ``org``): CSV (UTF-8 with BOM, ``;``) or XLSX, one sheet
    per figure. Without ``from`` and ``to``: the whole time. The export is access-logged."""
    period = periods.between(from_, to)
    figures = statistics.figures(services, principal, org, period)
    statistics.log_export(services, principal, statistics.EXPORT_ENDPOINT)
    return exports.statistics_file(figures, format)


@router.get(
    "/report",
    responses={200: {"content": {"application/pdf": {}}, "description": "the report"}},
    response_class=Response,
)
def report(
    services: ServicesDep,
    principal: PrincipalDep,
    _: ReadYourWrites,
    from_: Annotated[Day, Query(alias="from")] = None,
    to: Day = None,
    org: Org = None,
) -> Response:
    """The monthly report (any ``from``..``to``) as a printable PDF with the charts."""
    figures = statistics.figures(services, principal, org, periods.between(from_, to))
    statistics.log_export(services, principal, statistics.REPORT_ENDPOINT)
    return statistics_report.pdf_response(figures)
