"""The Übergabebogen of a case (issue 18): the PDF for ``Accept: application/pdf``, otherwise the
same content as JSON (``service_layer.handover_sheet``), for whoever may read the case."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request

from api.deps import PrincipalDep, ReadYourWrites, ServicesDep
from api.problems import PROBLEMS
from api.web import handover_sheet as sheets
from service_layer.handover_sheet import ENDPOINT

router = APIRouter(prefix="/cases", tags=["cases"], responses=PROBLEMS)
PDF = "application/pdf"


def wants_pdf(request: Request) -> bool:
    """Whether the Accept header ranks application/pdf above JSON and no lower than ``*/*``
    (``q`` weights honoured); anything else gets JSON."""
    ranks: dict[str, float] = {}
    for part in request.headers.get("accept", "").split(","):
        kind, _, params = part.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        key = kind.strip().lower()
        ranks[key] = max(q, ranks.get(key, 0.0))
    pdf = ranks.get(PDF, 0.0)
    return pdf > ranks.get("application/json", 0.0) and pdf >= ranks.get("*/*", 0.0)


@router.get(
    "/{case_id}/handover-sheet",
    responses={
        200: {
            "description": "the Übergabebogen; a PDF for Accept: application/pdf",
            "content": {
                "application/json": {"schema": {"type": "object"}},
                PDF: {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
)
def handover_sheet(
    case_id: UUID,
    request: Request,
    services: ServicesDep,
    principal: PrincipalDep,
    _: ReadYourWrites,
) -> Any:
    """The case's handover summary (person, status, languages, qualifications, measures, steps,
    placements, consents, mentor, contact, open handover, notes) and the version and digest it
    was made from, as the caller may see it: what the disclosure table withholds from the caller
    reads "[nicht freigegeben]" and is named in ``withheld``. The read is logged."""
    sheet = sheets.build(services, principal, case_id, ENDPOINT)
    if wants_pdf(request):
        return sheets.pdf_response(sheet)
    return sheet
