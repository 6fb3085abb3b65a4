"""Matching: ranked candidates for an offer, ranked open offers for a person. Each result
explains its score in German. Every person shown lands in the access log."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query

from adapters.auth import STAFF_ROLES, Role
from api.deps import PrincipalDep, ReadYourWrites, ServicesDep
from api.partner_deps import REFUSALS, MatchingDep, consents_current, not_found
from api.partner_schemas import CandidatesOut, CaseOffersOut
from api.routers.offers import offer_for
from service_layer import access, cases
from service_layer import matching as reads
from service_layer import partner_access as pa

router = APIRouter(tags=["matching"], responses=REFUSALS)
Limit = Annotated[int, Query(ge=1, le=200)]


@router.get(
    "/offers/{offer_id}/candidates",
    response_model=CandidatesOut,
    dependencies=[Depends(consents_current)],
)
def candidates(
    offer_id: UUID,
    services: ServicesDep,
    matching: MatchingDep,
    principal: PrincipalDep,
    _: ReadYourWrites,
    limit: Limit = 20,
) -> Any:
    """The best candidates for the offer, best first. Staff: among the open cases their
    organisation holds, in full. The employer of the offer: only people who consented to share
    with it, ranked on and showing only the consented fields (withdrawing hides them at once)."""
    offer = offer_for(matching, offer_id)
    if principal.has(*STAFF_ROLES):
        items = reads.candidates_for_staff(matching, offer, principal.org, limit)
    elif principal.has(Role.EMPLOYER):
        pa.require_offer_reader(principal, offer)
        employer = matching.employer(offer["employer_id"])
        if employer is None:
            raise not_found("employer", offer["employer_id"])
        recipients = pa.employer_recipients(employer)
        items = reads.candidates_for_employer(matching, offer, recipients, limit)
    else:
        raise access.forbidden("only staff and the offer's employer see candidates")
    services.access_log.record(
        actor=principal.sub,
        org=principal.org,
        case_ids=[i["case_id"] for i in items],
        endpoint="GET /offers/{id}/candidates",
    )
    return {"offer_id": offer_id, "items": items}


@router.get("/cases/{case_id}/offers", response_model=CaseOffersOut)
def offers_for_case(
    case_id: UUID,
    services: ServicesDep,
    matching: MatchingDep,
    principal: PrincipalDep,
    _: ReadYourWrites,
    limit: Limit = 20,
) -> Any:
    """The best open offers for the person, best first: for whoever may read the whole case."""
    if not principal.has(*STAFF_ROLES, Role.AUDITOR):
        raise access.forbidden("volunteers and employers see people only through their consent")
    if access.read_scope(principal, cases.find_case(services, case_id)) != "full":
        raise access.forbidden(f"'{principal.org}' may not read this case")
    person = matching.person(str(case_id))
    if person is None:
        raise not_found("case", case_id)
    items = reads.offers_for_person(matching, person, limit)
    services.access_log.record(
        actor=principal.sub,
        org=principal.org,
        case_ids=[str(case_id)],
        endpoint="GET /cases/{id}/offers",
    )
    return {"case_id": case_id, "items": items}
