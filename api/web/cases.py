"""My caseload (search and filters, handovers waiting with the overdue first) and registering a
person."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api import exports
from api.deps import idempotency_key, read_your_writes_at_first_read
from api.responses import after_write
from api.schemas.cases import RegisterCase
from api.web import forms
from api.web.core import (
    FormDep,
    ServicesDep,
    WebPrincipal,
    WebRoute,
    finish,
    next_page,
    redirect,
    render,
)
from api.web.text import HANDOVER_STATES, colleague, day, domain_error, person_name
from api.web.text import legal_status as legal_status_label
from domain.aggregates.case_errors import DuplicateBamfFileNumberError
from domain.policy import today_in_germany
from domain.principal import STAFF_ROLES
from domain.values import LegalStatus
from projections import cldr
from projections import labels as de
from projections.summary import handover_state
from service_layer import access, follow_ups, handovers
from service_layer import cases as operations
from service_layer.errors import InvalidInputError
from service_layer.statistics import CASELOAD_EXPORT_ENDPOINT

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


def caseload_filters(
    principal: Any,
    q: str | None,
    office: str | None,
    legal_status: str | None,
    handover: str | None,
    holder: str | None,
) -> dict[str, Any]:
    """The list's filters as the search takes them; ``holder`` only for non-staff (auditors)."""
    staff = principal.has(*STAFF_ROLES)
    filters = {
        "q": q or None,
        "office": office or None,
        "legal_status": legal_status if legal_status in {s.value for s in LegalStatus} else None,
        "handover": handover if handover in HANDOVER_FILTERS else None,
    }
    if not staff:
        filters["holder"] = holder
    return filters


def row_of(doc: dict[str, Any], today: date) -> dict[str, Any]:
    overdue = 0 if doc.get("erased_on") else overdue_steps(doc, today)
    return {**doc, "handover_state": handover_state(doc), "overdue_steps": overdue}


@router.get("/cases/export")
def caseload_export(
    request: Request,
    services: ServicesDep,
    principal: WebPrincipal,
    format: Literal["csv", "xlsx"],
    q: Text = None,
    office: Text = None,
    legal_status: Text = None,
    handover: Text = None,
    holder: Text = None,
) -> Response:
    """Every case of the list with its filters (not only one page), in the columns the page
    shows; each exported case is access-logged ("Fallliste exportiert")."""
    read_your_writes_at_first_read(request, services, principal)
    filters = caseload_filters(principal, q, office, legal_status, handover, holder)
    scope = filters.pop("holder", None)
    today, rows, cursor = today_in_germany(), [], None
    while True:
        page = operations.search(
            services, principal, scope, CASELOAD_EXPORT_ENDPOINT, **filters, limit=200,
            cursor=cursor,
        )  # fmt: skip
        rows += [row_of(d, today) for d in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    columns = caseload_columns(services, holder_column=not principal.has(*STAFF_ROLES))
    body = [[value(r) for _, value in columns] for r in rows]
    head = [name for name, _ in columns]
    if format == "csv":
        return finish(
            request, exports.attachment(exports.csv_bytes([head, *body]), "csv", "faelle")
        )
    data = exports.xlsx_bytes([("Fälle", head, body)])
    return finish(request, exports.attachment(data, "xlsx", "faelle"))


def caseload_columns(services: Any, *, holder_column: bool) -> list[tuple[str, Any]]:
    """The columns of the caseload table (``caseload.html``), as plain values."""

    def org(org_id: str) -> str:
        found = services.orgs.get(org_id)
        return str(found.name) if found else org_id

    def handover_text(d: dict[str, Any]) -> str:
        if d.get("erased_on") and d["handover_state"] == "due":
            return "entfällt (gelöscht)"
        return str(HANDOVER_STATES.get(d["handover_state"], d["handover_state"]))

    def bamf(d: dict[str, Any]) -> str:
        return str(d["bamf_file_number"] or ("[gelöscht]" if d.get("erased_on") else ""))

    columns: list[tuple[str, Any]] = [
        ("Person", lambda d: person_name(d["person"])),
        ("BAMF-Aktenzeichen", bamf),
        ("Wohnort", lambda d: d["residence_municipality"]),
        ("Dienststelle", lambda d: d["office"] or ""),
        ("Fachkraft", lambda d: colleague(d.get("caseworker"), services)),
        ("Aufenthaltsstatus", lambda d: legal_status_label(d["legal_status"])),
        ("Zuständig", lambda d: org(d["holder"])),
        ("Übergabe", handover_text),
        ("Offene Schritte überfällig", lambda d: d["overdue_steps"]),
        ("Letzte Änderung", lambda d: day(d["last_activity"])),
    ]  # fmt: skip
    return [c for c in columns if holder_column or c[0] != "Zuständig"]


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
    read_your_writes_at_first_read(request, services, principal)
    staff = principal.has(*STAFF_ROLES)
    searched = caseload_filters(principal, q, office, legal_status, handover, holder)
    scope = searched.pop("holder", None)
    page = operations.search(
        services, principal, scope or None, "GET /ui/cases", **searched, limit=PAGE_SIZE,
        cursor=cursor,
    )  # fmt: skip
    today = today_in_germany()
    rows = [row_of(d, today) for d in page.items]
    status, state = searched["legal_status"], searched["handover"]
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
        exports={
            kind: "/ui/cases/export?"
            + urlencode({"format": kind, **{k: v for k, v in filters.items() if v}})
            for kind in ("xlsx", "csv")
        },
        offices=org.offices if org and staff else (),
        orgs=[o for o in services.orgs if o.kind != "audit"],
        statuses=[(s.value, label) for s, label in de.LEGAL_STATUS.items()],
        handover_filters=HANDOVER_FILTERS,
        waiting=waiting(services, principal) if staff else [],
        follow_up_count=follow_ups.open_count(services, principal) if staff else 0,
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
        choices={
            "offices": tuple((o, o) for o in (org.offices if org else ())),
            "countries": cldr.countries(),
            "languages": cldr.languages(),
        },
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
