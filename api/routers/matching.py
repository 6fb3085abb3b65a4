"""Matching: ranked candidates for an offer, ranked open offers for a person. Each result
explains its score in German. Every person shown lands in the access log."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query

from api.deps import PARTNER_REFUSALS, PrincipalDep, ReadYourWrites, ServicesDep, consents_current
from api.schemas.matching import CandidatesOut, CaseOffersOut
from service_layer import matching

router = APIRouter(tags=["matching"], responses=PARTNER_REFUSALS)
Limit = Annotated[int, Query(ge=1, le=200)]


@router.get(
    "/offers/{offer_id}/candidates",
    response_model=CandidatesOut,
    dependencies=[Depends(consents_current)],
)
def candidates(
    offer_id: UUID,
    services: ServicesDep,
    principal: PrincipalDep,
    _: ReadYourWrites,
    limit: Limit = 20,
) -> Any:
    """The best candidates for the offer, best first. Staff: among the open cases their
    organisation holds, in full. The employer of the offer: only people who consented to share
    with it, ranked on and showing only the consented fields (withdrawing hides them at once)."""
    items = matching.candidates(services, principal, offer_id, limit)
    return {"offer_id": offer_id, "items": items}


@router.get("/cases/{case_id}/offers", response_model=CaseOffersOut)
def offers_for_case(
    case_id: UUID,
    services: ServicesDep,
    principal: PrincipalDep,
    _: ReadYourWrites,
    limit: Limit = 20,
) -> Any:
    """The best open offers for the person, best first: for whoever may read the whole case."""
    items = matching.offers_for_case(services, principal, case_id, limit)
    return {"case_id": case_id, "items": items}
