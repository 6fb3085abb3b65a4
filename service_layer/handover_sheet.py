"""The Übergabebogen (issue 18): a case's handover summary, one document for the JSON answer, the
page and the PDF, so the three never differ. Built from the read models (summary and history)
as the caller may see them: the same access decision (``access.read_scope``, via
``cases.read_case``) and the same withholding (``projections.withholding``) as the case pages,
nothing decided here. It names the case version and digest it was made from, so a printed copy
ties back to the verified chain; the read is logged like every other.

Values keep their codes (ISO 3166 countries, ISO 639 languages, enum values) with the German
label beside them: countries and languages by their CLDR names (Babel), organisations by name.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from adapters.orgs import OrgKind
from adapters.views.matching_queries import MatchingQueries
from domain import consent, corrections
from domain.handover_policy import POLICY_ACTOR
from domain.principal import Principal
from domain.values import (
    Cefr,
    ConsentPurpose,
    LegalBasis,
    LegalStatus,
    MeasureKind,
    MeasureOutcome,
    NoteCategory,
    PlacementKind,
    Plan,
    QualificationRecognition,
    RejectionKind,
)
from projections import labels as de
from projections.cldr import country, language
from service_layer import cases, consents
from service_layer.ports import Services

Doc = dict[str, Any]
StaffNames = Callable[[str], str | None]
ENDPOINT = "GET /cases/{id}/handover-sheet"
PAGE_ENDPOINT = "GET /ui/cases/{id}/uebergabebogen"
PDF_ENDPOINT = "GET /ui/cases/{id}/uebergabebogen.pdf"
# what the access log's entries of these endpoints mean, in German (Art. 15 report, audit)
ACTIONS = dict.fromkeys((ENDPOINT, PAGE_ENDPOINT, PDF_ENDPOINT), "Übergabebogen erstellt")
LANGUAGE_COURSES = {MeasureKind.INTEGRATION_COURSE.value, MeasureKind.JOB_LANGUAGE_COURSE.value}
_STATUS_EVENTS = ("CaseRegistered", "AsylumRecognized", "AsylumRejected", "LegalStatusChanged")


def _label(table: dict[Any, str], kind: type, value: Any) -> str | None:
    if value is None:
        return None
    try:
        return table[kind(value)]
    except (ValueError, KeyError):
        return str(value)


def build(
    services: Services,
    principal: Principal,
    case_id: UUID,
    endpoint: str = ENDPOINT,
    staff_names: StaffNames | None = None,
) -> Doc:
    """The Übergabebogen of ``case_id`` as ``principal`` may see it (403/404 as for the case
    page); the read is logged under ``endpoint``. ``staff_names``: a login's name, where known."""
    summary = cases.read_case(services, principal, case_id, endpoint)
    history = cases.history_of(services, principal, case_id, "full", summary)
    version = int(summary["version"])
    entries = [e for e in history.entries if int(e["version"]) <= version]
    orgs = {o.id: o for o in services.orgs}

    def org(org_id: str | None) -> Doc | None:
        found = orgs.get(org_id) if org_id else None
        return {"id": org_id, "name": found.name if found else org_id} if org_id else None

    def recipient(recipient_id: str) -> Doc | None:
        """An organisation by its name; an employer or a volunteer by the consent form's label."""
        if recipient_id in orgs:
            return org(recipient_id)
        named = dict(consents.recipients(services))
        return {"id": recipient_id, "name": named.get(recipient_id, recipient_id)}

    def staff(login: str | None) -> Doc | None:
        if not login:
            return None
        if login == POLICY_ACTOR:
            return {"login": login, "name": "automatisch (Übergaberegel)"}
        name = principal.name if login == principal.sub and principal.name != login else None
        return {"login": login, "name": name or (staff_names(login) if staff_names else None)}

    competences: Doc = summary.get("competences") or {}
    person: Doc = summary["person"]
    sheet: Doc = {
        "case_id": str(case_id),
        "version": version,
        "digest": summary["digest"],
        "generated_at": datetime.now(UTC).isoformat(),
        "generated_by": {**(staff(principal.sub) or {}), "org": org(principal.org)},
        "holder": org(summary["holder"]),
        "erased_on": summary.get("erased_on"),
        "closed_on": summary.get("closed_on"),
        "person": {
            "given_name": person["given_name"],
            "family_name": person["family_name"],
            "birth_date": person.get("birth_date"),
            "nationality": country(person.get("nationality")),
            "languages": [language(c) for c in person.get("languages") or []],
            "bamf_file_number": summary.get("bamf_file_number"),
        },
        "residence": {"municipality": summary["residence_municipality"]},
        "legal_status": _legal_status(summary, entries),
        "german": _german_level(competences, summary["measures"], entries),
        "languages": [
            {**language(s["language"]), "level": s["level"]}
            for s in competences.get("languages") or []
        ],
        "schooling": {
            "years": competences.get("school_years"),
            "certificate": competences.get("school_certificate"),
        },
        "vocational_training": [
            {
                "occupation": t["occupation"],
                "completed": t["completed"],
                "country": country(t.get("country")),
            }
            for t in competences.get("vocational_training") or []
        ],
        "qualification_recognition": _coded(
            competences.get("qualification_recognition"), de.RECOGNITION, QualificationRecognition
        ),
        "work_experience": list(competences.get("work_experience") or []),
        "assessment": _assessment(competences),
        "measures": _measures(summary["measures"], entries),
        "steps": _steps(summary["steps"]),
        "placements": [
            {**p, "kind": _coded(p["kind"], de.PLACEMENT, PlacementKind)}
            for p in summary["placements"]
        ],
        "consents": [
            {
                **c,
                "purpose": _coded(c["purpose"], de.CONSENT, ConsentPurpose),
                "recipient": recipient(c["recipient"]),
                "scope_labels": [consent.FIELDS.get(f, f) for f in c["scope"]],
                "valid_until": c.get("valid_until"),  # not in consents recorded before it existed
            }
            for c in summary["consents"]
        ],
        "mentors": _mentors(services, summary["mentors"], org),
        "contact": _contact(entries, orgs, org, staff),
        "handover": _handover(summary, org, staff),
        "notes": [
            {
                "version": e["version"],
                "recorded_at": e["recorded_at"],
                "org": org(e["org"]),
                "category": _coded(e["data"].get("category"), de.NOTE, NoteCategory),
                "text": e["data"]["text"],
            }
            for e in entries
            if e["type"] == "NoteRecorded"
        ],
        "corrections": [
            {
                "version": e["version"],
                "corrects_version": e["data"]["corrects_version"],
                "field": e["data"]["field"],
                "label": corrections.LABELS.get(e["data"]["field"], e["data"]["field"]),
            }
            for e in entries
            if e["type"] == "FactCorrected"
        ],
        "withheld": sorted(
            {
                *summary.get("withheld", ()),
                *(
                    f"notes.{w}"
                    for e in entries
                    if e["type"] == "NoteRecorded"
                    for w in e["withheld"]
                ),
            }
        ),
    }
    return sheet


def _coded(value: Any, table: dict[Any, str], kind: type) -> Doc | None:
    """A coded value with its German label: ``{"code": ..., "label": ...}``."""
    if value is None:
        return None
    return {"code": value, "label": _label(table, kind, value)}


def _legal_status(summary: Doc, entries: list[Doc]) -> Doc:
    """The status now, and the decision it rests on: its date, its document and validity."""
    last = next((e for e in reversed(entries) if e["type"] in _STATUS_EVENTS), None)
    data: Doc = last["data"] if last else {}
    decided_on = data.get("decided_on") or data.get("effective_on") or data.get("registered_on")
    decision = {
        "CaseRegistered": "bei der Registrierung festgestellt",
        "AsylumRecognized": "Asylantrag anerkannt",
        "AsylumRejected": "Asylantrag abgelehnt",
        "LegalStatusChanged": "Aufenthaltsstatus geändert",
    }.get(last["type"] if last else "")
    if last and last["type"] == "AsylumRejected":
        decision = f"{decision} ({_label(de.REJECTION, RejectionKind, data.get('kind'))})"
    return {
        "status": _coded(summary["legal_status"], de.LEGAL_STATUS, LegalStatus),
        "legal_basis": _coded(summary["legal_basis"], de.LEGAL_BASIS, LegalBasis),
        "decision": decision,
        "decided_on": decided_on,
        "document": data.get("document"),
        "valid_until": data.get("valid_until"),
        "recognized_on": summary.get("recognized_on"),
    }


def _german_level(competences: Doc, measures: list[Doc], entries: list[Doc]) -> Doc:
    """The German level assessed, and the last certificate of a language course with its date."""
    level = competences.get("german_level")
    certified = [
        e["data"]
        for e in entries
        if e["type"] == "MeasureEnded"
        and e["data"].get("certificate")
        and any(
            m["measure_id"] == e["data"]["measure_id"] and m["kind"] in LANGUAGE_COURSES
            for m in measures
        )
    ]
    last = certified[-1] if certified else None
    return {
        "level": level,
        "label": de.german_level(Cefr(level)) if level else None,
        "assessed_on": competences.get("assessed_on"),
        "instrument": competences.get("instrument"),
        "certificate": last["certificate"] if last else None,
        "certificate_on": last["ended_on"] if last else None,
    }


def _assessment(competences: Doc) -> Doc | None:
    if not competences:
        return None
    return {
        "assessed_on": competences.get("assessed_on"),
        "instrument": competences.get("instrument"),
        "support_need": competences.get("support_need"),
        "notes": competences.get("notes"),
    }


def _measures(measures: list[Doc], entries: list[Doc]) -> list[Doc]:
    certificates = {
        e["data"]["measure_id"]: e["data"].get("certificate")
        for e in entries
        if e["type"] == "MeasureEnded"
    }
    return [
        {
            "measure_id": m["measure_id"],
            "kind": _coded(m["kind"], de.MEASURE, MeasureKind),
            "provider": m["provider"],
            "starts_on": m["starts_on"],
            "ends_on": m["ends_on"],
            "ended_on": m["ended_on"],
            "outcome": _coded(m["outcome"], de.OUTCOME, MeasureOutcome),
            "certificate": certificates.get(m["measure_id"]),
        }
        for m in measures
    ]


def _steps(steps: list[Doc]) -> Doc:
    shown = [
        {"step_id": s["step_id"], "description": s["description"], "due_on": s.get("due_on"),
         "plan": _coded(s.get("plan"), de.PLAN, Plan), "completed_on": s.get("completed_on")}
        for s in steps
    ]  # fmt: skip
    return {
        "open": [s for s in shown if not s["completed_on"]],
        "done": [s for s in shown if s["completed_on"]],
    }


def _mentors(
    services: Services, mentors: list[Doc], org: Callable[[str | None], Doc | None]
) -> list[Doc]:
    volunteers = MatchingQueries(services.supervisor.store)
    shown = []
    for m in mentors:
        found = volunteers.volunteer(m["volunteer_id"])
        shown.append(
            {"volunteer_id": m["volunteer_id"], "name": found.get("name") if found else None,
             "organisation": org(m["organisation"]), "assigned_on": m["assigned_on"]}
        )  # fmt: skip
    return shown


def _contact(
    entries: list[Doc],
    orgs: dict[str, Any],
    org: Callable[[str | None], Doc | None],
    staff: Callable[[str | None], Doc | None],
) -> Doc | None:
    """The Agentur's contact person: who last recorded on the case there, with the office the
    case was registered at (an Agentur's own). Without an Agentur on the case: the first
    organisation's."""
    by_people = [e for e in entries if e["actor"] != POLICY_ACTOR]
    agentur = [e for e in by_people if getattr(orgs.get(e["org"]), "kind", None) is OrgKind.AGENTUR]
    own = agentur or by_people[:1]
    if not own:
        return None
    registered = next((e for e in entries if e["type"] == "CaseRegistered"), None)
    office = None
    if registered is not None and registered["org"] == own[-1]["org"]:
        office = registered["data"].get("office")
    return {"person": staff(own[-1]["actor"]), "org": org(own[-1]["org"]), "office": office,
            "agentur": bool(agentur)}  # fmt: skip


def _handover(
    summary: Doc,
    org: Callable[[str | None], Doc | None],
    staff: Callable[[str | None], Doc | None],
) -> Doc | None:
    """The open handover offer, if any, with its deadline."""
    offers = summary["handovers"]
    last = offers[-1] if offers else None
    if last is None or last["state"] != "offered":
        return None
    return {
        "from": org(last["from_org"]),
        "to": org(last["to_org"]),
        "offered_by": staff(last["offered_by"]),
        "offered_at": last["offered_at"],
        "due_on": last["due_on"],
        "legal_basis": _coded(last["legal_basis"], de.LEGAL_BASIS, LegalBasis),
        "reason": last["reason"],
        "offer_version": last["offer_version"],
    }
