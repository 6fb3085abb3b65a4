"""Matching for a person: the open offers that fit them best, each explained in German, and
placing a person on an offer (from the offer's candidates or from the person's matches). Reads
and writes are the service layer's use cases (``service_layer/matching.py``), as the JSON API
calls them."""

from __future__ import annotations

import dataclasses
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.deps import idempotency_key, read_your_writes_at_first_read
from api.responses import after_write
from api.schemas.offers import PlaceCase
from api.web import forms
from api.web.core import FormDep, ServicesDep, WebPrincipal, WebRoute, redirect, render
from api.web.offers import offer_page, with_place_forms
from api.web.text import person_name
from bootstrap import Services
from domain.principal import STAFF_ROLES, Principal, Role
from domain.values import as_uuid
from service_layer import cases as operations
from service_layer import matching

router = APIRouter(prefix="/ui", route_class=WebRoute, include_in_schema=False)


def matches_page(
    request: Request,
    services: Services,
    principal: Principal,
    case_id: UUID,
    *,
    status_code: int = 200,
    open_form: str | None = None,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    items = matching.offers_for_case(services, principal, case_id)  # decides who may see them
    doc = operations.find_case(services, case_id, principal)  # as the disclosure table shows it
    holds = (
        principal.has(*STAFF_ROLES)
        and not principal.has(Role.AUDITOR)
        and doc["holder"] == principal.org
        and not doc["closed"]
        and not doc.get("erased_on")  # nothing can be recorded on an erased case
    )
    person = doc["person"]
    return render(
        request,
        "matches.html",
        status_code=status_code,
        title=f"Passende Angebote: {person_name(person)}",
        nav="cases",
        case_id=str(case_id),
        person=person,
        doc=doc,
        holds=holds,
        matches=with_place_forms(items),
        open_form=open_form,
        values=values or {},
        errors=errors or {},
    )


@router.get("/cases/{case_id}/offers")
def show_matches(
    case_id: UUID, request: Request, services: ServicesDep, principal: WebPrincipal
) -> Response:
    read_your_writes_at_first_read(request, services, principal)
    return matches_page(request, services, principal, case_id)


@router.post("/offers/{offer_id}/placements")
def place(
    offer_id: UUID,
    request: Request,
    services: ServicesDep,
    principal: WebPrincipal,
    posted: FormDep,
) -> Response:
    """Place a person on the offer; ``back=case``: the form was on the person's matches."""
    key = posted.get("form_key", "")
    form = dataclasses.replace(forms.PLACE, key=key if key.startswith("place-") else "place")
    body, errors = forms.validate(form, posted)
    from_case = posted.get("back") == "case"
    if body is None:
        again: dict[str, Any] = {"status_code": 422, "open_form": form.key, "values": posted,
                                 "errors": errors}  # fmt: skip
        case_id = as_uuid(posted.get("case_id"))
        if from_case and case_id is not None:
            return matches_page(request, services, principal, case_id, **again)
        return offer_page(request, services, principal, offer_id, **again)
    assert isinstance(body, PlaceCase)
    path = f"/offers/{offer_id}/placements"
    fingerprint = body.model_dump(mode="json")
    idem = idempotency_key(principal, posted.get("request_key"), "POST", path, fingerprint)
    saved = matching.place(services, principal, offer_id, body.to_value(), None, idem)
    after_write(request, saved.position)
    if from_case:
        return redirect(f"/ui/cases/{body.case_id}?saved=place")
    return redirect(f"/ui/offers/{offer_id}?saved=place")
