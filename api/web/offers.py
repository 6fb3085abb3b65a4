"""Employers' offers: the list with filters, an offer's page with its ranked candidates and their
German explanations, the offer's pause, reopening and withdrawal, and placing a person on it.
Every read and write is the service layer's use case (``service_layer/partners.py``,
``service_layer/matching.py``), as the JSON API calls it."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from api.deps import read_your_writes_at_first_read, wait_for_consents
from api.responses import after_write
from api.schemas.common import Reason
from api.web import forms
from api.web.core import FormDep, ServicesDep, WebPrincipal, WebRoute, next_page, redirect, render
from bootstrap import Services
from domain.principal import STAFF_ROLES, Principal, Role
from domain.values import OfferState, PlacementKind
from projections import labels as de
from service_layer import access, matching, partners

router = APIRouter(prefix="/ui", route_class=WebRoute, include_in_schema=False)
Text = Annotated[str | None, Query(max_length=100)]
SAVED = {
    "publish": "Das Angebot ist veröffentlicht.",
    "pause": "Das Angebot ist pausiert: Es wird niemandem mehr als passend vorgeschlagen.",
    "reopen": "Das Angebot ist wieder offen.",
    "withdraw": "Das Angebot ist zurückgezogen.",
    "place": "Die Vermittlung ist gespeichert und im Verlauf des Falls vermerkt.",
}
STATES = {s.value: label for s, label in (
    (OfferState.OPEN, "offen"), (OfferState.PAUSED, "pausiert"),
    (OfferState.FILLED, "besetzt"), (OfferState.WITHDRAWN, "zurückgezogen"),
)}  # fmt: skip
KINDS = [(k.value, label) for k, label in de.PLACEMENT.items()]
LIMIT = 50  # entries of a list page


def employer_or_none(services: Services, principal: Principal, employer_id: str) -> Any:
    """The offer's employer where the caller may read it (volunteers may not)."""
    if not partners.sees_employers(principal):
        return None
    own = access.employer_of(principal)
    if not principal.has(*access.READERS) and str(own) != employer_id:
        return None
    return partners.employer(services, principal, UUID(employer_id))


@router.get("/offers")
def offer_list(
    request: Request,
    services: ServicesDep,
    principal: WebPrincipal,
    municipality: Text = None,
    kind: Text = None,
    state: Text = None,
    occupation: Text = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    read_your_writes_at_first_read(request, services, principal)
    filters = {
        "municipality": municipality or None,
        "kind": kind if kind in {k for k, _ in KINDS} else None,
        "state": state if state in STATES else None,
        "occupation": occupation or None,
    }
    page = partners.offers(
        services, principal, municipality=filters["municipality"],
        occupation=filters["occupation"],
        kind=PlacementKind(filters["kind"]) if filters["kind"] else None,
        state=OfferState(filters["state"]) if filters["state"] else None, limit=LIMIT,
        cursor=cursor,
    )  # fmt: skip
    own = access.offer_scope(principal)
    return render(
        request,
        "offers.html",
        title="Unsere Angebote" if own else "Angebote",
        nav="offers",
        offers=page.items,
        filters=filters,
        kinds=KINDS,
        states=STATES,
        own_employer=own,
        links_employers=partners.sees_employers(principal),
        next_url=next_page("/ui/offers", filters, page.next_cursor),
    )


def with_place_forms(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each candidate or match with its own placement form (ids unique on the page) and its
    own request key (a resent form places once)."""
    return [
        {**item, "form": dataclasses.replace(forms.PLACE, key=f"place-{n}"),
         "request_key": uuid.uuid4().hex}
        for n, item in enumerate(items, start=1)
    ]  # fmt: skip


def offer_page(
    request: Request,
    services: Services,
    principal: Principal,
    offer_id: UUID,
    *,
    status_code: int = 200,
    open_form: str | None = None,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    saved: str | None = None,
) -> Response:
    offer = partners.offer(services, principal, offer_id)
    employer = employer_or_none(services, principal, offer["employer_id"])
    staff = principal.has(*STAFF_ROLES) and not principal.has(Role.AUDITOR)
    # as the candidates endpoint decides: staff, or the offer's employer (the offer was readable)
    sees_candidates = principal.has(*STAFF_ROLES, Role.EMPLOYER)
    candidates = []
    if sees_candidates:
        wait_for_consents(services)  # as the JSON endpoint waits
        candidates = matching.candidates(services, principal, offer_id)
    placeable = staff and offer["state"] == OfferState.OPEN.value
    return render(
        request,
        "offer.html",
        status_code=status_code,
        title=f"{offer['occupation']}: {de.PLACEMENT[PlacementKind(offer['kind'])]}",
        nav="offers",
        offer=offer,
        employer=employer,
        manages=employer is not None
        and partners.may_manage(services, principal, employer["employer_id"]),
        manage_forms=forms.OFFER_FORMS,
        sees_candidates=sees_candidates,
        staff_view=staff,
        candidates=with_place_forms(candidates),
        placeable=placeable,
        open_form=open_form,
        values=values or {},
        errors=errors or {},
        saved=SAVED.get(saved or ""),
    )


@router.get("/offers/{offer_id}")
def show_offer(
    offer_id: UUID,
    request: Request,
    services: ServicesDep,
    principal: WebPrincipal,
    saved: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    read_your_writes_at_first_read(request, services, principal)
    return offer_page(request, services, principal, offer_id, saved=saved)


@router.post("/offers/{offer_id}/actions/{action}")
def change_offer(
    offer_id: UUID,
    action: str,
    request: Request,
    services: ServicesDep,
    principal: WebPrincipal,
    posted: FormDep,
) -> Response:
    form = forms.OFFER_FORMS.get(action)
    if form is None:
        raise HTTPException(404)
    body, errors = forms.validate(form, posted)
    if body is None:
        return offer_page(request, services, principal, offer_id, status_code=422,
                          open_form=action, values=posted, errors=errors)  # fmt: skip
    if action == "reopen":
        saved = partners.reopen_offer(services, principal, offer_id)
    else:
        assert isinstance(body, Reason)
        change = partners.pause_offer if action == "pause" else partners.withdraw_offer
        saved = change(services, principal, offer_id, body.reason)
    after_write(request, saved.position)
    return redirect(f"/ui/offers/{offer_id}?saved={action}")
