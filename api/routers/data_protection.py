"""Data protection: the subject access report (Art. 15 GDPR, issue 9), as JSON or as a printable
German HTML page (``Accept: text/html`` or ``?format=html``)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request

from api.deps import PrincipalDep, ReadYourWrites, ServicesDep
from api.problems import PROBLEMS
from api.schemas.data_protection import SubjectAccessReport
from api.web import subject_access as page
from service_layer import data_protection

router = APIRouter(prefix="/cases", tags=["data protection"], responses=PROBLEMS)
ENDPOINT = "GET /cases/{id}/subject-access-report"


def wants_html(request: Request, format: str | None) -> bool:
    """``?format=`` decides; else the Accept header, if it ranks text/html above JSON."""
    if format is not None:
        return format == "html"
    ranks: dict[str, float] = {}
    for part in request.headers.get("accept", "").split(","):
        kind, _, params = part.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        ranks[kind.strip().lower()] = max(q, ranks.get(kind.strip().lower(), 0.0))
    return ranks.get("text/html", 0.0) > ranks.get("application/json", 0.0)


@router.get(
    "/{case_id}/subject-access-report",
    response_model=SubjectAccessReport,
    responses={
        200: {
            "description": "the report; a printable German page for text/html",
            "content": {"text/html": {"schema": {"type": "string"}}},
        }
    },
)
def subject_access_report(
    case_id: UUID,
    request: Request,
    services: ServicesDep,
    principal: PrincipalDep,
    _: ReadYourWrites,
    format: Annotated[str | None, Query(pattern="^(json|html)$")] = None,
) -> Any:
    """Everything held about the person, who it was shared with (handovers, bundles to other
    deployments, consents, mentors, placements) and who read it. A team lead or an admin of the
    holding organisation, or an auditor; the read is logged. After erasure the personal values
    read "[gelöscht]"."""
    report = data_protection.report(services, principal, case_id, ENDPOINT)
    if wants_html(request, format):
        return page.render_report(request, services, report)
    return report
