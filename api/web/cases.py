"""My caseload (search and filters, handovers waiting with the overdue first) and registering a
person."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.deps import idempotency_key, wait_for_reads
from api.responses import after_write
from api.schemas.cases import RegisterCase
from api.web import forms
from api.web.core import FormDep, ServicesDep, WebPrincipal, WebRoute, next_page, redirect, render
from api.web.text import domain_error
from domain.aggregates.case_errors import DuplicateBamfFileNumberError
from domain.principal import STAFF_ROLES
from domain.values import LegalStatus
from projections import labels as de
from projections.summary import handover_state
from service_layer import access, handovers
from service_layer import cases as operations
from service_layer.errors import InvalidInputError

router = APIRouter(prefix="/ui", route_class=WebRoute, include_in_schema=False)
PAGE_SIZE = 25
HANDOVER_FILTERS = {
    "offered": "Übergabe angeboten",
    "due": "Wechsel fällig, nicht angeboten",
    "accepted": "Übergabe angenommen",
    "rejected": "Übergabe abgelehnt",
    "none": "keine Übergabe",
}
Text = Annotated[str | None, Query(max_length=100)]


def overdue_steps(doc: dict[str, Any], today: date) -> int:
    return sum(
        1
        for s in doc["steps"]
        if s["completed_on"] is None and s["due_on"] and date.fromisoformat(s["due_on"]) < today
    )


def waiting(services: Any, principal: Any) -> list[dict[str, Any]]:
    """Offers to my organisation, the overdue first, then the oldest; with the person's name."""
    items = handovers.queue(services, principal, "incoming", "offered", limit=200).items
    items.sort(key=lambda h: (not h["overdue"], h["offered_at"]))
    return operations.with_people(services, principal, items, "GET /ui/cases")


@router.get("/cases")
def caseload(
    request: Request,
    services: ServicesDep,
    principal: WebPrincipal,
    q: Text = None,
    office: Text = None,
    legal_status: Text = None,
    handover: Text = None,
    holder: Text = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    wait_for_reads(request, services, principal)
    status = legal_status if legal_status in {s.value for s in LegalStatus} else None
    state = handover if handover in HANDOVER_FILTERS else None
    staff = principal.has(*STAFF_ROLES)
    page = operations.search(
        services, principal, None if staff else (holder or None), "GET /ui/cases",
        q=q or None, office=office or None, legal_status=status, handover=state,
        limit=PAGE_SIZE, cursor=cursor,
    )  # fmt: skip
    today = date.today()
    rows = [
        {
            **d,
            "handover_state": handover_state(d),
            "overdue_steps": 0 if d.get("erased_on") else overdue_steps(d, today),
        }
        for d in page.items
    ]
    filters = {"q": q, "office": office, "legal_status": status, "handover": state}
    if not staff:
        filters["holder"] = holder
    org = services.orgs.get(principal.org)
    return render(
        request,
        "caseload.html",
        title="Meine Fälle" if staff else "Alle Fälle",
        nav="cases",
        rows=rows,
        total=page.total if page.total is not None else len(rows),
        filters=filters,
        next_url=next_page("/ui/cases", filters, page.next_cursor),
        offices=org.offices if org and staff else (),
        orgs=[o for o in services.orgs if o.kind != "audit"],
        statuses=[(s.value, label) for s, label in de.LEGAL_STATUS.items()],
        handover_filters=HANDOVER_FILTERS,
        waiting=waiting(services, principal) if staff else [],
        receiver_unknown=handovers.queue(
            services, principal, "outgoing", "receiver_unknown", limit=200
        ).items
        if staff
        else [],
        overdue_out=handovers.queue(services, principal, "outgoing", "overdue", limit=200).items
        if staff
        else [],
    )


def register_page(
    request: Request,
    services: Any,
    principal: Any,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    existing: str | None = None,
) -> Response:
    org = services.orgs.get(principal.org)
    return render(
        request,
        "register.html",
        status_code=status_code,
        title="Person registrieren",
        nav="new",
        form=forms.REGISTER,
        values=values or {},
        errors=errors or {},
        choices={"offices": tuple((o, o) for o in (org.offices if org else ()))},
        existing=existing,
        request_key=(values or {}).get("request_key") or uuid.uuid4().hex,
    )


@router.get("/cases/new")
def new_case(request: Request, services: ServicesDep, principal: WebPrincipal) -> Response:
    if not access.may_write(principal):
        raise access.forbidden("only caseworkers, team leads and admins register people")
    return register_page(request, services, principal)


@router.post("/cases/new")
def register(
    request: Request, services: ServicesDep, principal: WebPrincipal, form: FormDep
) -> Response:
    body, errors = forms.validate(forms.REGISTER, form)
    if not errors:
        assert isinstance(body, RegisterCase)
        try:
            # a per-form key: a double click or a resent form registers the person once
            key = form.get("request_key") or None
            idem = idempotency_key(principal, key, "POST", "/cases", body.model_dump(mode="json"))
            result = operations.register(services, principal, body.to_new_case(), idem)
        except DuplicateBamfFileNumberError as e:
            errors = {"bamf_file_number": domain_error(e)}
            return register_page(
                request,
                services,
                principal,
                form,
                errors,
                409,
                str(e.existing_case_id) if e.existing_case_id else None,
            )
        except InvalidInputError as e:
            errors = {e.field: "Bitte eine Dienststelle Ihrer Organisation wählen."}
        else:
            after_write(request, result.position)
            return redirect(f"/ui/cases/{result.id}?saved=register")
            after_write(request, result)
            return redirect(f"/ui/cases/{result.case_id}?saved=register")
    return register_page(request, services, principal, form, errors, 422)
