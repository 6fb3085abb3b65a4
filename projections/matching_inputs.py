"""The matching inputs as pure folds: a person's latest competences, legal status, residence,
measures, placements, mentors and open consents (here); each offer, employer and volunteer as it
now stands (``partner_docs``).

Documents are plain JSON, like the case summary (``projections/summary.py``). The fold of a case
keeps only what matching and consent-based sharing need.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from domain.aggregates import case_events as ce
from domain.aggregates import employer_events as ee
from domain.aggregates import offer_events as oe
from domain.aggregates import volunteer_events as ve
from domain.matching import Training, occupation_key
from domain.values import Redacted
from projections.history import event_data
from projections.partner_docs import Doc, fold_employer, fold_offer, fold_volunteer
from projections.summary import person_doc


def _drop(items: list[Doc], key: str, ref: Any) -> list[Doc]:
    return [item for item in items if item[key] != ref]


def occupations(work: list[Doc], training: list[Doc]) -> list[list[Any]]:
    """``[key, label, years, training]`` per occupation, from work experience and training."""
    found: dict[str, list[Any]] = {}
    for w in work:
        key = occupation_key(w["occupation"])
        entry = found.setdefault(key, [key, w["occupation"], 0, Training.NONE.value])
        entry[2] = max(entry[2], w["years"])
    for t in training:
        key = occupation_key(t["occupation"])
        entry = found.setdefault(key, [key, t["occupation"], 0, Training.NONE.value])
        state = Training.COMPLETED if t["completed"] else Training.STARTED
        entry[3] = max(entry[3], state.value)
    return [found[k] for k in sorted(found)]


def fold_case(doc: Doc | None, event: ce.CaseEvent) -> Doc:
    data = event_data(event)
    if doc is None:
        assert isinstance(event, ce.CaseRegistered)
        doc = {
            "case_id": str(event.originator_id),
            "holder": data["holder"],
            "closed": False,
            "person": person_doc(data["person"]),
            "municipality": data["residence_municipality"],
            "legal_status": data["legal_status"],
            "german_level": None,
            "language_skills": [],
            "work_experience": [],
            "vocational_training": [],
            "occupations": [],
            "school": None,
            "measures": [],
            "placements": [],
            "mentors": [],
            "consents": [],
        }
    return {**doc, **_case_change(doc, data, event), "version": event.originator_version}


def _case_change(doc: Doc, data: Doc, event: ce.CaseEvent) -> Doc:
    match event:
        case ce.LegalStatusChanged():
            return {"legal_status": data["status"]}
        case ce.AsylumRecognized():
            return {"legal_status": data["protection"]}
        case ce.CompetenceAssessed():
            return {
                "german_level": data["german_level"],
                "language_skills": data["languages"],
                "work_experience": data["work_experience"],
                "vocational_training": data["vocational_training"],
                "occupations": occupations(data["work_experience"], data["vocational_training"]),
                "school": {
                    "years": data["school_years"],
                    "certificate": data["school_certificate"],
                },
            }
        case ce.ResidenceChanged():
            return {"municipality": data["municipality"]}
        case ce.MeasureStarted():
            return {"measures": [*doc["measures"], {**data, "ended_on": None, "outcome": None}]}
        case ce.MeasureEnded():
            ended = {"ended_on": data["ended_on"], "outcome": data["outcome"]}
            return {
                "measures": [
                    {**m, **ended} if m["measure_id"] == data["measure_id"] else m
                    for m in doc["measures"]
                ]
            }
        case ce.PlacementMade():
            return {"placements": [*doc["placements"], {**data, "ended_on": None}]}
        case ce.PlacementEnded():
            return {
                "placements": [
                    {**p, "ended_on": data["ended_on"]}
                    if p["placement_id"] == data["placement_id"]
                    else p
                    for p in doc["placements"]
                ]
            }
        case ce.MentorAssigned():
            return {"mentors": [*doc["mentors"], data]}
        case ce.MentorReleased():
            return {"mentors": _drop(doc["mentors"], "volunteer_id", data["volunteer_id"])}
        case ce.ConsentGiven():
            return {"consents": [*doc["consents"], data]}
        case ce.ConsentWithdrawn():
            return {"consents": _drop(doc["consents"], "consent_id", data["consent_id"])}
        case ce.CaseClosed():
            return {"closed": True}
        case ce.CaseReopened():
            return {"closed": False}
        case ce.JurisdictionChanged():
            return {"holder": data["to_org"]}
        case ce.PersonalDataErased():  # out of matching for good, nothing personal kept
            return {
                "closed": True,
                "person": person_doc(Redacted.ERASED),
                "consents": [],
                **_erased_free_text(doc),
            }
    return {}


def _erased_free_text(doc: Doc) -> Doc:
    """The free text the document holds (sealed in its events), each value the marker."""
    erased = Redacted.ERASED.value
    school = doc.get("school")
    return {
        "school": (
            {**school, "certificate": erased}
            if school and school.get("certificate") is not None
            else school
        ),
        "measures": [{**m, "provider": erased} for m in doc["measures"]],
        "placements": [{**p, "employer": erased} for p in doc["placements"]],
    }


# the case events that change a matching input; the others leave the document as it is
CASE_EVENTS = (
    ce.CaseRegistered,
    ce.LegalStatusChanged,
    ce.AsylumRecognized,
    ce.CompetenceAssessed,
    ce.ResidenceChanged,
    ce.MeasureStarted,
    ce.MeasureEnded,
    ce.PlacementMade,
    ce.PlacementEnded,
    ce.MentorAssigned,
    ce.MentorReleased,
    ce.ConsentGiven,
    ce.ConsentWithdrawn,
    ce.CaseClosed,
    ce.CaseReopened,
    ce.JurisdictionChanged,
    ce.PersonalDataErased,
)


# kind of document -> (the events that fold into it, the fold)
FOLDS: dict[str, tuple[tuple[type, ...], Callable[[Doc | None, Any], Doc]]] = {
    "cases": (CASE_EVENTS, fold_case),
    "employers": ((ee.EmployerEvent,), fold_employer),
    "offers": ((oe.OfferEvent,), fold_offer),
    "volunteers": ((ve.VolunteerEvent,), fold_volunteer),
}
