"""Data protection: the subject access report (Art. 15 GDPR, issue 9), as JSON or as a printable
German HTML page (``Accept: text/html`` or ``?format=html``)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from api.deps import PrincipalDep, ReadYourWrites, ServicesDep
from api.problems import PROBLEMS
from api.schemas.cases import Entry
from api.web import subject_access as page
from service_layer import data_protection

router = APIRouter(prefix="/cases", tags=["data protection"], responses=PROBLEMS)
ENDPOINT = "GET /cases/{id}/subject-access-report"


class OrgRef(BaseModel):
    org: str
    org_name: str | None


class Handover(BaseModel):
    from_org: str
    from_name: str | None
    to_org: str
    to_name: str | None
    legal_basis: str
    reason: str
    state: str
    offered_at: str
    decided_at: str | None
    effective_on: str | None


class Bundle(BaseModel):
    kind: str  # bundle (the case's events), receipt (an answer to a peer's offer) or answer
    version: int  # (the events up to our decision on a peer's receipt, each time it was sent)
    as_of: str | None
    peer: str
    peer_name: str | None
    state: str
    attempts: int
    sent_at: str | None = None  # an answer: when it was sent
    channel: str | None = None  # outbox, http (a peer's receipt) or file


class Consent(BaseModel):
    consent_id: str
    purpose: str
    recipient: str
    recipient_name: str | None
    scope: list[str]
    given_on: str
    withdrawn_on: str | None


class Mentoring(OrgRef):
    volunteer_id: str
    volunteer_name: str | None
    assigned_on: str
    released_on: str | None


class Placement(BaseModel):
    placement_id: str
    employer: str
    kind: str
    offer_id: str | None
    starts_on: str
    ended_on: str | None


class Shares(BaseModel):
    handovers: list[Handover]
    bundles: list[Bundle]
    consents: list[Consent]
    mentors: list[Mentoring]
    employers: list[Placement]


class Read(OrgRef):
    at: str
    actor: str
    endpoint: str


class Actor(BaseModel):
    actor: str
    org: str


class SubjectAccessReport(BaseModel):
    case_id: UUID
    generated_at: str
    generated_by: Actor
    controller: OrgRef
    erased: bool
    erased_on: str | None
    person: dict[str, Any]
    purposes: list[str]
    summary: dict[str, Any]
    history: list[Entry]
    sources: list[OrgRef]
    shared_with: Shares
    reads: list[Read]


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
