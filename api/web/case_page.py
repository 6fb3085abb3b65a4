"""The case page: the summary, the whole timeline in German, the forms for each event the caller
may record, and the handover decision (accept acknowledging version and digest, or reject)."""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from adapters.auth import STAFF_ROLES, Principal, Role
from adapters.services import Services
from api import access, operations
from api.deps import wait_for_reads
from api.problems import ApiError
from api.schemas import AcceptHandover, EventIn, OfferHandover, Reason
from api.web import forms
from api.web.core import (
    FormDep,
    ServicesDep,
    WebPrincipal,
    WebRoute,
    redirect,
    render,
    status_of,
)
from api.web.text import domain_error
from domain.aggregates import case_errors as ce
from domain.application import Recorded, VersionConflictError

router = APIRouter(prefix="/ui", route_class=WebRoute, include_in_schema=False)
SAVED = {
    **{f.key: f"{f.title}: gespeichert." for f in forms.CASE_FORMS.values()},
    "register": "Die Person ist registriert. Sie können jetzt Einträge erfassen.",
    "offer": "Die Übergabe ist angeboten.",
    "withdraw": "Das Übergabeangebot ist zurückgezogen.",
    "accept": "Sie haben die Übergabe angenommen: Ihre Organisation ist jetzt zuständig.",
    "reject": "Sie haben die Übergabe abgelehnt.",
    "pending": "Ihre Antwort wird der anbietenden Stelle zugestellt; das kann etwas dauern.",
}
PICK = "Bitte einen Wert aus der Liste wählen."
REF_FIELDS = {"step": "step_id", "measure": "measure_id", "placement": "placement_id",
              "mentor": "volunteer_id", "consent": "consent_id"}  # fmt: skip


def open_offer(doc: dict[str, Any]) -> dict[str, Any] | None:
    last = doc["handovers"][-1] if doc["handovers"] else None
    return last if last and last["state"] == "offered" else None


def case_page(
    request: Request,
    services: Services,
    principal: Principal,
    case_id: UUID,
    *,
    status_code: int = 200,
    open_form: str | None = None,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
    conflict: int | None = None,
    saved: str | None = None,
) -> Response:
    doc = operations.find_case(services, case_id)
    scope = access.read_scope(principal, doc)
    history = operations.history_of(services, principal, case_id, scope)
    operations.log_reads(services, principal, [str(case_id)], "GET /ui/cases/{id}")
    staff = principal.has(*STAFF_ROLES)
    holds = staff and scope == "full" and doc["holder"] == principal.org
    offer = open_offer(doc)
    decides = staff and offer is not None and offer["to_org"] == principal.org
    shown: list[forms.Form] = []
    if holds and doc["closed"]:
        shown = [forms.REOPEN]
    elif holds:
        shown = [f for f in (*forms.EVENT_FORMS, forms.OFFER) if f.shown(doc)]
    registered = next((e for e in history.entries if e["type"] == "CaseRegistered"), None)
    person = doc["person"] if scope == "full" else (registered or {}).get("data", {}).get("person")
    return render(
        request,
        "case.html",
        status_code=status_code,
        title=f"{person['family_name']}, {person['given_name']}" if person else "Fall",
        nav="cases",
        case_id=str(case_id),
        doc=doc if scope == "full" else None,
        person=person,
        holder=doc["holder"],
        history=history,
        filtered=scope != "full",
        offer=offer,
        holds=holds,
        decides=decides,
        forms=shown,
        withdraw=forms.WITHDRAW if holds and offer else None,
        accept=forms.ACCEPT,
        reject=forms.REJECT,
        accept_values={"version": str(history.version), "digest": history.digest},
        choices=forms.page_choices(doc, services.orgs, doc["holder"]) if holds else {},
        open_form=open_form,
        values=values or {},
        errors=errors or {},
        notice=notice,
        conflict=conflict,
        saved=SAVED.get(saved or ""),
        auditor=principal.has(Role.AUDITOR),
    )


@router.get("/cases/{case_id}")
def show_case(
    case_id: UUID,
    request: Request,
    services: ServicesDep,
    principal: WebPrincipal,
    saved: str | None = None,
) -> Response:
    wait_for_reads(request, services, principal)
    return case_page(request, services, principal, case_id, saved=saved)


def perform(
    services: Services,
    principal: Principal,
    case_id: UUID,
    form: forms.Form,
    body: BaseModel,
    expected: int | None,
) -> Recorded | operations.Pending:
    if form.event is not None:
        assert isinstance(body, EventIn)
        return operations.record(services, principal, case_id, form.event, body, expected)
    if isinstance(body, OfferHandover):
        return operations.offer(services, principal, case_id, body)
    if isinstance(body, AcceptHandover):
        return operations.answer(
            services, principal, case_id, "accepted", version=body.version, digest=body.digest
        )
    assert isinstance(body, Reason)
    if form is forms.WITHDRAW:
        return operations.withdraw(services, principal, case_id, body.reason)
    return operations.answer(services, principal, case_id, "rejected", reason=body.reason)


def rule_field(form: forms.Form, error: Exception) -> str:
    """The form field a refused rule is about (a taken or unknown reference), else the form."""
    kind = getattr(error, "kind", None)
    name = REF_FIELDS.get(kind or "", "form")
    return name if any(i.name == name for i in form.inputs) else "form"


@router.post("/cases/{case_id}/forms/{key}")
def submit(
    case_id: UUID,
    key: str,
    request: Request,
    services: ServicesDep,
    principal: WebPrincipal,
    posted: FormDep,
) -> Response:
    form = forms.CASE_FORMS.get(key)
    if form is None:
        raise HTTPException(404)
    body, errors = forms.validate(form, posted)
    expected = posted.get("expected_version", "")

    def again(status: int, **kw: Any) -> Response:
        kw.setdefault("values", posted)
        return case_page(request, services, principal, case_id, status_code=status,
                         open_form=key, **kw)  # fmt: skip

    if body is None:
        return again(422, errors=errors)
    try:
        result = perform(
            services,
            principal,
            case_id,
            form,
            body,
            int(expected) if re.fullmatch(r"[0-9]{1,18}", expected) else None,
        )
    except VersionConflictError as e:
        return again(409, conflict=e.current_version)
    except ce.StaleAcknowledgementError as e:
        return again(409, values=None, notice=domain_error(e))
    except ce.CaseRuleError as e:
        message = domain_error(e)
        return again(status_of(e), errors={rule_field(form, e): message}, notice=message)
    except ApiError as e:
        if e.status != 422:
            raise
        return again(422, errors={x["field"]: PICK for x in e.extra["errors"]})
    if isinstance(result, operations.Pending):
        return redirect(f"/ui/cases/{case_id}?saved=pending")
    operations.after_write(request, result)
    if form is forms.REJECT:  # the case is no longer ours to read: back to the inbox
        return redirect("/ui/handovers?direction=incoming&saved=reject")
    return redirect(f"/ui/cases/{case_id}?saved={key}")
