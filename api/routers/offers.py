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
    ExpectedVersion,
    IdempotencyHeader,
    PrincipalDep,
    ReadYourWrites,
    actor_of,
    idempotency_key,
)
from api.partner_deps import REFUSALS, WRITTEN, MatchingDep, PartnersDep, not_found, saved
from api.partner_schemas import OfferOut, OfferPage, PlaceCase, PublishOffer, SavedOut
from api.routers.cases import created
from api.schemas import Reason, Recorded
from domain.actor import acting_as
from domain.principal import STAFF_ROLES, Role
from domain.values import OfferState, PlacementKind
from service_layer import access
from service_layer import cases as operations
from service_layer import partner_access as pa
from service_layer.matching import offer_out, offers_out

router = APIRouter(prefix="/offers", tags=["offers"], responses=REFUSALS)
MANAGERS = (*STAFF_ROLES, Role.EMPLOYER)


@router.post("", status_code=201, response_model=SavedOut, responses=WRITTEN)
def publish_offer(
    body: PublishOffer,
    request: Request,
    partners: PartnersDep,
    principal: PrincipalDep,
    key: IdempotencyHeader = None,
) -> JSONResponse:
    """Publish an offer of an employer: by the employer itself or the organisation that looks
    after it (which bundles its employers' requests)."""
    pa.require(principal, *MANAGERS, doing="publish offers")
    idem = idempotency_key(principal, key, "POST", "/offers", body.model_dump(mode="json"))
    with acting_as(actor_of(principal)):
        result = partners.publish_offer(
            body.employer_id,
            kind=body.kind,
            occupation=body.occupation,
            municipality=body.municipality,
            german_level=body.german_level,
            starts_on=body.starts_on,
            positions=body.positions,
            wage_subsidy_possible=body.wage_subsidy_possible,
            idempotency=idem,
        )
    return saved(result, request)


@router.get("", response_model=OfferPage)
def list_offers(
    matching: MatchingDep,
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
    own = pa.offer_scope(principal)
    if own is not None and employer_id is not None and str(employer_id) != own:
        raise access.forbidden(f"'{principal.org}' may see only its own offers")
    filters = {
        "state": state.value if state else None, "kind": kind.value if kind else None,
        "municipality": municipality, "occupation": occupation, "caring_org": caring_org,
        "employer_id": own or (str(employer_id) if employer_id else None),
    }  # fmt: skip
    page = matching.offers(filters=filters, limit=limit, cursor=cursor)
    return {"items": offers_out(matching, page.items), "next_cursor": page.next_cursor}


def offer_for(matching: Any, offer_id: UUID) -> dict[str, Any]:
    doc = matching.offer(str(offer_id))
    if doc is None:
        raise not_found("offer", offer_id)
    return dict(doc)


@router.get("/{offer_id}", response_model=OfferOut)
def get_offer(
    offer_id: UUID, matching: MatchingDep, principal: PrincipalDep, _: ReadYourWrites
) -> Any:
    doc = offer_for(matching, offer_id)
    pa.require_offer_reader(principal, doc)
    return offer_out(doc, matching.employer(doc["employer_id"]))


def _state_change(
    request: Request, principal: Any, command: Any, offer_id: UUID, **kwargs: Any
) -> JSONResponse:
    pa.require(principal, *MANAGERS, doing="change offers")
    with acting_as(actor_of(principal)):
        result = command(offer_id, **kwargs)
    return saved(result, request)


@router.post("/{offer_id}/pause", status_code=201, response_model=SavedOut, responses=WRITTEN)
def pause_offer(
    offer_id: UUID, body: Reason, request: Request, partners: PartnersDep, principal: PrincipalDep
) -> JSONResponse:
    return _state_change(request, principal, partners.pause_offer, offer_id, reason=body.reason)


@router.post("/{offer_id}/reopen", status_code=201, response_model=SavedOut, responses=WRITTEN)
def reopen_offer(
    offer_id: UUID, request: Request, partners: PartnersDep, principal: PrincipalDep
) -> JSONResponse:
    return _state_change(request, principal, partners.reopen_offer, offer_id)


@router.post("/{offer_id}/withdraw", status_code=201, response_model=SavedOut, responses=WRITTEN)
def withdraw_offer(
    offer_id: UUID, body: Reason, request: Request, partners: PartnersDep, principal: PrincipalDep
) -> JSONResponse:
    return _state_change(request, principal, partners.withdraw_offer, offer_id, reason=body.reason)


@router.post("/{offer_id}/placements", status_code=201, response_model=Recorded, responses=WRITTEN)
def place_case(
    offer_id: UUID,
    body: PlaceCase,
    request: Request,
    partners: PartnersDep,
    principal: PrincipalDep,
    expected: ExpectedVersion,
    key: IdempotencyHeader = None,
) -> JSONResponse:
    """Place a person on the offer: the case's holder records ``PlacementMade`` (answer: the
    case's new version, as for any case event; ``If-Match`` is the case's version). The last free
    position fills the offer; a full, paused or withdrawn offer is a 409."""
    pa.require(principal, *STAFF_ROLES, doing="place people")
    operations.require_known(request.app.state.services, principal, body.case_id)
    path = f"/offers/{offer_id}/placements"
    idem = idempotency_key(principal, key, "POST", path, body.model_dump(mode="json"))
    with acting_as(actor_of(principal)):
        result = partners.place(
            body.case_id,
            offer_id,
            placement_id=body.placement_id or f"offer-{offer_id}",
            starts_on=body.starts_on,
            wage_subsidy=body.wage_subsidy.to_value() if body.wage_subsidy else None,
            expected_version=expected,
            idempotency=idem,
        )
    return created(result, request)
