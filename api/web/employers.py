"""Employers willing to take refugees on: the directory with filters, an employer's page with its
offers, and publishing an offer (by the employer's own users or the organisation looking after
it). Reads and writes are the service layer's use cases (``service_layer/partners.py``), as
the JSON API calls them."""

from __future__ import annotations

import uuid
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.deps import idempotency_key, read_your_writes_at_first_read
from api.responses import after_write
from api.schemas.offers import PublishOffer
from api.web import forms
from api.web.core import FormDep, ServicesDep, WebPrincipal, WebRoute, next_page, redirect, render
from api.web.offers import KINDS, LIMIT, STATES
from bootstrap import Services
from domain.principal import Principal
from service_layer import access, partners

router = APIRouter(prefix="/ui", route_class=WebRoute, include_in_schema=False)
Text = Annotated[str | None, Query(max_length=100)]
ACTIVE = {"true": "aktiv", "false": "abgemeldet"}


@router.get("/employers")
def employer_list(
    request: Request,
    services: ServicesDep,
    principal: WebPrincipal,
    q: Text = None,
    municipality: Text = None,
    caring_org: Annotated[str | None, Query(max_length=64)] = None,
    active: Annotated[str | None, Query(max_length=5)] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    read_your_writes_at_first_read(request, services, principal)
    filters = {
        "q": q or None,
        "municipality": municipality or None,
        "caring_org": caring_org or None,
        "active": active if active in ACTIVE else None,
    }
    page = partners.employers(
        services, principal, q=filters["q"], municipality=filters["municipality"],
        caring_org=filters["caring_org"],
        active=None if filters["active"] is None else filters["active"] == "true", limit=LIMIT,
        cursor=cursor,
    )  # fmt: skip
    return render(
        request,
        "employers.html",
        title="Arbeitgeber",
        nav="employers",
        employers=page.items,
        filters=filters,
        orgs=[o for o in services.orgs if o.kind != "audit"],
        active_labels=ACTIVE,
        kinds=dict(KINDS),
        next_url=next_page("/ui/employers", filters, page.next_cursor),
    )


def employer_page(
    request: Request,
    services: Services,
    principal: Principal,
    employer_id: UUID,
    *,
    status_code: int = 200,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    employer = partners.employer(services, principal, employer_id)
    offers = partners.offers(services, principal, employer_id=employer_id, limit=200)
    own = access.employer_of(principal)
    return render(
        request,
        "employer.html",
        status_code=status_code,
        title=employer["name"],
        nav="own-employer" if own == employer_id else "employers",
        employer=employer,
        offers=offers.items,
        more_offers=offers.next_cursor is not None,
        kinds=dict(KINDS),
        states=STATES,
        manages=partners.may_manage(services, principal, employer_id),
        form=forms.PUBLISH_OFFER,
        values=values or {"municipality": (employer["locations"] or [""])[0]},
        errors=errors or {},
        request_key=(values or {}).get("request_key") or uuid.uuid4().hex,
    )


@router.get("/employers/{employer_id}")
def show_employer(
    employer_id: UUID, request: Request, services: ServicesDep, principal: WebPrincipal
) -> Response:
    read_your_writes_at_first_read(request, services, principal)
    return employer_page(request, services, principal, employer_id)


@router.post("/employers/{employer_id}/offers")
def publish(
    employer_id: UUID,
    request: Request,
    services: ServicesDep,
    principal: WebPrincipal,
    posted: FormDep,
) -> Response:
    body, errors = forms.validate(forms.PUBLISH_OFFER, {**posted, "employer_id": str(employer_id)})
    if body is None:
        return employer_page(
            request, services, principal, employer_id, status_code=422, values=posted,
            errors=errors,
        )  # fmt: skip
    assert isinstance(body, PublishOffer)
    key = posted.get("request_key")
    idem = idempotency_key(principal, key, "POST", "/offers", body.model_dump(mode="json"))
    saved = partners.publish_offer(services, principal, body.to_value(), idem)
    after_write(request, saved.position)
    return redirect(f"/ui/offers/{saved.id}?saved=publish")
