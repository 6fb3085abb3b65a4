"""Employers' offers: publish, list, read, pause, reopen, withdraw, and place a person on one.

A placement is ``POST /offers/{offer_id}/placements``: the case's ``PlacementMade`` and the
offer's ``PositionTaken`` in one transaction, so concurrent placements never take more positions
than the offer has. ``POST /cases/{case_id}/events`` with a ``PlacementMade`` whose ``offer_id``
names an offer of this service takes the same path.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from api.deps import (
    PARTNER_REFUSALS,
    WRITTEN,
    ExpectedVersion,
    IdempotencyHeader,
    PrincipalDep,
    ReadYourWrites,
    ServicesDep,
    idempotency_key,
)
from api.responses import written
from api.schemas.common import Reason, Recorded, SavedOut
from api.schemas.offers import OfferOut, OfferPage, PlaceCase, PublishOffer
from domain.values import OfferState, PlacementKind
from service_layer import matching, partners

router = APIRouter(prefix="/offers", tags=["offers"], responses=PARTNER_REFUSALS)


@router.post("", status_code=201, response_model=SavedOut, responses=WRITTEN)
def publish_offer(
    body: PublishOffer,
    request: Request,
    services: ServicesDep,
    principal: PrincipalDep,
    key: IdempotencyHeader = None,
) -> JSONResponse:
    """Publish an offer of an employer: by the employer itself or the organisation that looks
    after it (which bundles its employers' requests)."""
    idem = idempotency_key(principal, key, "POST", "/offers", body.model_dump(mode="json"))
    result = partners.publish_offer(services, principal, body.to_value(), idem)
    return written(request, SavedOut, result)


@router.get("", response_model=OfferPage)
def list_offers(
    services: ServicesDep,
    principal: PrincipalDep,
    _: ReadYourWrites,
    state: OfferState | None = None,
    kind: PlacementKind | None = None,
    municipality: Annotated[str | None, Query(max_length=100)] = None,
    occupation: Annotated[str | None, Query(max_length=100)] = None,
    employer_id: UUID | None = None,
    caring_org: Annotated[
        str | None, Query(max_length=64, description="the organisation bundling the requests")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Any:
    """Offers, newest first. An employer sees only its own."""
    page = partners.offers(
        services, principal, state=state, kind=kind, municipality=municipality,
        occupation=occupation, employer_id=employer_id, caring_org=caring_org, limit=limit,
        cursor=cursor,
    )  # fmt: skip
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.get("/{offer_id}", response_model=OfferOut)
def get_offer(
    offer_id: UUID, services: ServicesDep, principal: PrincipalDep, _: ReadYourWrites
) -> Any:
    return partners.offer(services, principal, offer_id)


@router.post("/{offer_id}/pause", status_code=201, response_model=SavedOut, responses=WRITTEN)
def pause_offer(
    offer_id: UUID,
    body: Reason,
    request: Request,
    services: ServicesDep,
    principal: PrincipalDep,
    key: IdempotencyHeader = None,
) -> JSONResponse:
    path = f"/offers/{offer_id}/pause"
    idem = idempotency_key(principal, key, "POST", path, body.model_dump(mode="json"))
    result = partners.pause_offer(services, principal, offer_id, body.reason, idem)
    return written(request, SavedOut, result)


@router.post("/{offer_id}/reopen", status_code=201, response_model=SavedOut, responses=WRITTEN)
def reopen_offer(
    offer_id: UUID,
    request: Request,
    services: ServicesDep,
    principal: PrincipalDep,
    key: IdempotencyHeader = None,
) -> JSONResponse:
    idem = idempotency_key(principal, key, "POST", f"/offers/{offer_id}/reopen", None)
    return written(request, SavedOut, partners.reopen_offer(services, principal, offer_id, idem))


@router.post("/{offer_id}/withdraw", status_code=201, response_model=SavedOut, responses=WRITTEN)
def withdraw_offer(
    offer_id: UUID,
    body: Reason,
    request: Request,
    services: ServicesDep,
    principal: PrincipalDep,
    key: IdempotencyHeader = None,
) -> JSONResponse:
    path = f"/offers/{offer_id}/withdraw"
    idem = idempotency_key(principal, key, "POST", path, body.model_dump(mode="json"))
    result = partners.withdraw_offer(services, principal, offer_id, body.reason, idem)
    return written(request, SavedOut, result)


@router.post("/{offer_id}/placements", status_code=201, response_model=Recorded, responses=WRITTEN)
def place_case(
    offer_id: UUID,
    body: PlaceCase,
    request: Request,
    services: ServicesDep,
    principal: PrincipalDep,
    expected: ExpectedVersion,
    key: IdempotencyHeader = None,
) -> JSONResponse:
    """Place a person on the offer: the case's holder records ``PlacementMade`` (answer: the
    case's new version, as for any case event; ``If-Match`` is the case's version). The last free
    position fills the offer; a full, paused or withdrawn offer is a 409."""
    path = f"/offers/{offer_id}/placements"
    idem = idempotency_key(principal, key, "POST", path, body.model_dump(mode="json"))
    result = matching.place(services, principal, offer_id, body.to_value(), expected, idem)
    return written(request, Recorded, result)
