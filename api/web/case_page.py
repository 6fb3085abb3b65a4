"""The case page: the summary, the whole timeline in German, the forms for each event the caller
may record, the handover decision (accept acknowledging version and digest, or reject), the link
to the subject access report and, for a team lead or an admin of the holder, the erasure of the
person's personal data. Every read and write goes through the service layer, as the JSON API's
(``service_layer.cases``, ``.handovers``, ``.data_protection``)."""

from __future__ import annotations

import re
import uuid
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from api.deps import idempotency_key, read_your_writes_at_first_read
from api.problems import status_of
from api.responses import after_write
from api.schemas.cases import EventIn
from api.schemas.common import Reason
from api.schemas.handovers import AcceptHandover, OfferHandover
from api.web import forms, text
from api.web.core import (
    FormDep,
    ServicesDep,
    WebPrincipal,
    WebRoute,
    redirect,
    render,
)
from api.web.text import domain_error
from bootstrap import Services
from domain import corrections
from domain.aggregates import case_errors as ce
from domain.aggregates import volunteer_errors as ve
from domain.disclosure import may_request_subject_access
from domain.errors import (
    ConcurrentChangeError,
    ReferenceMismatchError,
    VersionConflictError,
    VolunteerNotFoundError,
)
from domain.principal import STAFF_ROLES, Principal, Role
from domain.values import VolunteerState, as_uuid
from domain.writes import IdempotencyKey, Recorded
from projections import labels as de
from projections.history import corrected_value
from projections.summary import person_doc
from service_layer import access, consents, data_protection, handovers, matching, partners
from service_layer import cases as operations
from service_layer.errors import InvalidInputError, ServiceError

router = APIRouter(prefix="/ui", route_class=WebRoute, include_in_schema=False)
SAVED = {
    **{f.key: f"{f.title}: gespeichert." for f in forms.CASE_FORMS.values()},
    "register": "Die Person ist registriert. Sie können jetzt Einträge erfassen.",
    "offer": "Die Übergabe ist angeboten.",
    "withdraw": "Das Übergabeangebot ist zurückgezogen.",
    "accept": "Sie haben die Übergabe angenommen: Ihre Organisation ist jetzt zuständig.",
    "reject": "Sie haben die Übergabe abgelehnt.",
    "pending": "Ihre Antwort wird der anbietenden Stelle zugestellt; das kann etwas dauern.",
    "mentor": "Die Patin oder der Pate ist zugeordnet.",
    "place": "Die Vermittlung ist gespeichert: Das Angebot hat einen Platz weniger frei.",
    "erase": (
        "Die personenbezogenen Daten sind gelöscht. Der Fall bleibt mit Art, Datum und"
        " Organisation jedes Eintrags für Statistik und Prüfung erhalten."
    ),
}
PARTNER_RULES = (ve.VolunteerRuleError, ReferenceMismatchError, ConcurrentChangeError)
PICK = "Bitte einen Wert aus der Liste wählen."
NOT_FITTING = (
    "Der Wert passt nicht zur gewählten Angabe: ein Datum als TT.MM.JJJJ (nicht in der Zukunft),"
    " ein Land aus der Liste, Deutschkenntnisse als A1 bis C2."
)
BEFORE_GIVEN = "Das Datum darf nicht vor dem Tag der Einwilligung liegen."
REF_FIELDS = {"step": "step_id", "measure": "measure_id", "placement": "placement_id",
              "mentor": "volunteer_id", "consent": "consent_id"}  # fmt: skip


def open_offer(doc: dict[str, Any]) -> dict[str, Any] | None:
    last = doc["handovers"][-1] if doc["handovers"] else None
    return last if last and last["state"] == "offered" else None


def mentors(services: Services, principal: Principal, doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The case's mentors with their names where they are registered volunteers."""
    orgs = {o.id: o.name for o in services.orgs}
    shown = []
    for m in doc["mentors"]:
        volunteer_id = as_uuid(m["volunteer_id"])
        try:
            found = partners.volunteer(services, principal, volunteer_id) if volunteer_id else None
        except (ServiceError, VolunteerNotFoundError):  # not a registered volunteer here
            found = None
        name = found["name"] if found else m["volunteer_id"]
        label = f"{name} ({orgs.get(m['organisation'], m['organisation'])})"
        shown.append({**m, "name": name, "label": label, "registered": bool(found)})
    return shown


def volunteer_choices(services: Services, principal: Principal) -> forms.Options:
    """Registered volunteers who can take a mentee, for the mentor form."""
    page = partners.volunteers(
        services, principal, with_capacity=True, state=VolunteerState.AVAILABLE, limit=200
    )
    org = {o.id: o.name for o in services.orgs}
    return tuple(
        (v["volunteer_id"], f"{v['name']} ({org.get(v['organisation'], v['organisation'])},"
         f" {v['municipality']}; {v['capacity'] - v['mentee_count']} von {v['capacity']} frei)")
        for v in page.items
    )  # fmt: skip


def colleagues(
    services: Services, principal: Principal, *, accepting: bool = False
) -> forms.Options:
    """Whom the caller may make the caseworker, by name: its organisation's staff in the
    directory; a caseworker accepting a handover only themselves (ADR 0017)."""
    if accepting and not principal.has(Role.TEAM_LEAD, Role.ADMIN):
        return ((principal.sub, "Ich übernehme den Fall selbst"),)
    return tuple((e.actor, e.name) for e in services.directory.members(principal.org))


def in_date_order(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The timeline in real-world order (issue 18): by the day a thing happened (the day it was
    recorded where it has none), recording order within a day; stable, so a late entry of an old
    fact stands where it belongs, not at the end."""
    return sorted(entries, key=lambda e: (text.day_key(e), e["version"]))


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
    read = operations.read_history(services, principal, case_id, "GET /ui/cases/{id}")
    doc, scope, history = read.summary, read.scope, read.history
    staff = access.may_write(principal)  # an auditor with a staff role too gets no forms
    erased_on = doc.get("erased_on")
    holds = staff and scope == "full" and doc["holder"] == principal.org
    offer = open_offer(doc)
    decides = staff and offer is not None and offer["to_org"] == principal.org
    shown: list[forms.Form] = []
    if erased_on:
        pass  # nothing can be recorded on an erased case: no forms that would be refused
    elif holds and doc["closed"]:
        shown = [forms.REOPEN]
    elif holds:
        shown = [f for f in (*forms.EVENT_FORMS, forms.OFFER) if f.shown(doc)]
        at = next(i for i, f in enumerate(shown) if f.key == "MentorAssigned")
        shown.insert(at, forms.MENTOR)  # registered volunteers first, by name
    full = scope == "full"
    with_mentors = mentors(services, principal, doc) if full else []
    choices: dict[str, Any] = {}
    if shown:
        choices = forms.page_choices(doc, services.orgs, doc["holder"])
        choices["volunteers"] = volunteer_choices(services, principal)
        choices["recipients"] = consents.recipients(services)
        choices["mentors"] = tuple((m["volunteer_id"], m["label"]) for m in with_mentors)
        org = services.orgs.get(principal.org)
        choices["offices"] = tuple((o, o) for o in org.offices) if org else ()
        choices["colleagues"] = colleagues(services, principal)
    registered = next((e for e in history.entries if e["type"] == "CaseRegistered"), None)
    found = doc["person"] if scope == "full" else (registered or {}).get("data", {}).get("person")
    person = person_doc(found) if found is not None else None  # a marker: in every field
    marker = person["family_name"] if person and person["family_name"] in text.MARKERS else None
    erases = (
        holds
        and not erased_on
        and principal.has(Role.TEAM_LEAD, Role.ADMIN)
        and not principal.has(Role.AUDITOR)
    )
    corrected_by: dict[int, list[dict[str, Any]]] = {}
    for e in history.entries:
        if e["type"] == "FactCorrected":
            data = e["data"]
            value = data["value"] if data["value"] is not None else data["personal_value"]
            corrected_by.setdefault(int(data["corrects_version"]), []).append(
                {"version": e["version"], "label": corrections.LABELS.get(data["field"], ""),
                 "value": corrected_value(data["field"], value)}
            )  # fmt: skip
    if shown:
        choices["entries"] = tuple(
            (str(e["version"]), f"Eintrag {e['version']}: {e['summary']}")
            for e in history.entries
            if e["type"] in forms.CORRECTABLE_EVENTS
        )
    texts = [e["summary"] for e in history.entries]
    if scope == "full":
        texts += [s["description"] for s in doc["steps"]] + [doc["bamf_file_number"], marker]
    return render(
        request,
        "case.html",
        status_code=status_code,
        title=text.person_name(person) if person else "Fall",
        nav="cases",
        case_id=str(case_id),
        doc=doc if scope == "full" else None,
        person=person,
        marker=marker,
        erased_on=erased_on,
        holder=doc["holder"],
        history=history,
        corrected_by=corrected_by,
        timeline=in_date_order(history.entries),
        filtered=scope != "full",
        offer=offer,
        holds=holds,
        decides=decides,
        forms=shown,
        withdraw=forms.WITHDRAW if holds and offer else None,
        accept=forms.ACCEPT,
        accept_colleagues=colleagues(services, principal, accepting=True) if decides else (),
        reject=forms.REJECT,
        accept_values={"version": str(history.version), "digest": history.digest},
        choices=choices,
        mentors=with_mentors,
        matches=full and not erased_on and principal.has(*STAFF_ROLES, Role.AUDITOR),
        subject_access=may_request_subject_access(principal.roles, principal.org, doc["holder"]),
        erase=forms.ERASE if erases else None,
        erase_request_key=(values or {}).get("request_key") or uuid.uuid4().hex,
        # each form its own key, kept when the form comes back with an error (ADR 0005)
        request_key=lambda key: (
            ((values or {}).get("request_key") if key == open_form else None) or uuid.uuid4().hex
        ),
        legend=text.markers_in(texts),
        placement_kinds=de.PLACEMENT,
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
    read_your_writes_at_first_read(request, services, principal)
    return case_page(request, services, principal, case_id, saved=saved)


def perform(
    request: Request,
    services: Services,
    principal: Principal,
    case_id: UUID,
    form: forms.Form,
    body: BaseModel,
    expected: int | None,
    idem: IdempotencyKey | None = None,
) -> Recorded | handovers.Pending:
    if form is forms.MENTOR:
        assert isinstance(body, forms.ChooseMentor)
        return matching.assign_mentor(
            services, principal, body.volunteer_id, case_id, body.assigned_on, expected, idem
        )
    if form.event is not None:
        assert isinstance(body, EventIn)
        fields = body.to_fields()
        return operations.record(services, principal, case_id, form.event, fields, expected, idem)
    if isinstance(body, OfferHandover):
        return handovers.offer(services, principal, case_id, body.to_org, body.reason, idem)
    if isinstance(body, AcceptHandover):
        return handovers.answer(
            services, principal, case_id, "accepted", version=body.version, digest=body.digest,
            assign=body.assignment(), idem=idem,
        )  # fmt: skip
    assert isinstance(body, Reason)
    if form is forms.WITHDRAW:
        return handovers.withdraw(services, principal, case_id, body.reason, idem)
    return handovers.answer(services, principal, case_id, "rejected", reason=body.reason, idem=idem)


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
    if form is forms.MENTOR:  # the case is the page's, whatever the form says
        posted = {**posted, "case_id": str(case_id)}
    body, errors = forms.validate(form, posted)
    expected = posted.get("expected_version", "")

    def again(status: int, **kw: Any) -> Response:
        kw.setdefault("values", posted)
        return case_page(request, services, principal, case_id, status_code=status,
                         open_form=key, **kw)  # fmt: skip

    if body is None:
        return again(422, errors=errors)
    # the form's own key: a repeated submission (a retry, a double click) records once
    idem = idempotency_key(
        principal, posted.get("request_key") or None, "POST",
        f"/ui/cases/{case_id}/forms/{key}", body.model_dump(mode="json"),
    )  # fmt: skip
    try:
        result = perform(
            request,
            services,
            principal,
            case_id,
            form,
            body,
            int(expected) if re.fullmatch(r"[0-9]{1,18}", expected) else None,
            idem,
        )
    except VersionConflictError as e:
        return again(409, conflict=e.current_version)
    except ce.StaleAcknowledgementError as e:
        return again(409, values=None, notice=domain_error(e))
    except ce.CaseRuleError as e:
        message = domain_error(e)
        return again(status_of(e), errors={rule_field(form, e): message}, notice=message)
    except PARTNER_RULES as e:
        message = domain_error(e)
        field = "volunteer_id" if form is forms.MENTOR else "form"
        return again(status_of(e), errors={field: message}, notice=message)
    except InvalidInputError as e:
        message = {"value": NOT_FITTING, "valid_until": BEFORE_GIVEN}.get(e.field, PICK)
        return again(422, errors={e.field: message})
    if isinstance(result, handovers.Pending):
        return redirect(f"/ui/cases/{case_id}?saved=pending")
    after_write(request, result.position)
    if form is forms.REJECT:  # the case is no longer ours to read: back to the inbox
        return redirect("/ui/handovers?direction=incoming&saved=reject")
    return redirect(f"/ui/cases/{case_id}?saved={key}")


@router.post("/cases/{case_id}/erasure")
def erase(
    case_id: UUID,
    request: Request,
    services: ServicesDep,
    principal: WebPrincipal,
    posted: FormDep,
) -> Response:
    """Erase the person's personal data: the JSON API's ``POST /cases/{id}/erasure`` once the
    page's confirmation is ticked. Whoever may not erase gets the API's refusal (403), whatever
    the form holds."""
    access.require_erasure_right(principal)
    body, errors = forms.validate(forms.ERASE, posted)
    if not posted.get("confirmed"):
        errors["confirmed"] = forms.ERASE_UNCONFIRMED
    expected = posted.get("expected_version", "")

    def again(status: int, **kw: Any) -> Response:
        kw.setdefault("values", posted)
        return case_page(request, services, principal, case_id, status_code=status,
                         open_form=forms.ERASE.key, **kw)  # fmt: skip

    if errors or not isinstance(body, forms.ConfirmErasure):
        return again(422, errors=errors)
    erasure = body.erasure()
    # the JSON API's request fingerprint: a per-form key erases once, whichever edge repeats it
    idem = idempotency_key(
        principal, posted.get("request_key") or None, "POST", f"/cases/{case_id}/erasure",
        erasure.model_dump(mode="json"),
    )  # fmt: skip
    try:
        result = data_protection.erase(
            services, principal, case_id, erasure.ground, erasure.reason,
            int(expected) if re.fullmatch(r"[0-9]{1,18}", expected) else None, idem,
        )  # fmt: skip
    except VersionConflictError as e:
        return again(409, conflict=e.current_version)
    except ce.CaseErasedError as e:  # someone else erased it meanwhile
        return again(409, values=None, notice=domain_error(e))
    after_write(request, result.position)
    return redirect(f"/ui/cases/{case_id}?saved=erase")
