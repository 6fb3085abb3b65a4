"""The case summary read model as a pure fold: ``fold(doc, event) -> doc``; the projection
``CaseSummaryProjection`` writes the summaries and the handover queues through ``SummaryWriter``.

A summary document is plain JSON (str, int, bool, None, lists, objects), so the same fold feeds
the stored view, a rebuild and the property tests. Lists keep their order of recording.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, ClassVar, Protocol

from domain import policy
from domain.aggregates import case_events as ev
from domain.values import Redacted
from projections.base import Batch
from projections.history import event_data

Doc = dict[str, Any]


def _replace(items: list[Doc], key: str, ref: str, **changes: Any) -> list[Doc]:
    return [{**item, **changes} if item[key] == ref else item for item in items]


ERASED = Redacted.ERASED.value


def person_doc(value: Any) -> Doc:
    """The person as the summary holds it; a marker in every field once erased."""
    if isinstance(value, dict):
        return value
    return {
        "given_name": str(value),
        "family_name": str(value),
        "birth_date": None,
        "nationality": str(value),
        "languages": [],
    }


def _registered(data: Doc, event: ev.CaseEvent) -> Doc:
    return {
        "case_id": str(event.originator_id),
        "person": person_doc(data["person"]),
        "bamf_file_number": data["bamf_file_number"],
        "residence_municipality": data["residence_municipality"],
        "legal_status": data["legal_status"],
        "legal_basis": data["legal_basis"],
        "holder": data["holder"],
        "registered_by": data["holder"],
        "office": data["office"],
        "caseworker": event.actor,
        "responsible": [
            _responsible(data["registered_on"], data["holder"], data["office"], event.actor)
        ],
        "registered_on": data["registered_on"],
        "closed": False,
        "competences": None,
        "german_level": None,
        "support_need": None,
        "steps": [],
        "measures": [],
        "placements": [],
        "mentors": [],
        "consents": [],
        "switch_due": None,
        "recognized_on": None,
        "handovers": [],
        "handover_accepted_on": None,
        "former_holders": [],
        "closed_on": None,
        "erased_on": None,
    }


def fold(doc: Doc | None, event: ev.CaseEvent) -> Doc:
    """The summary after ``event``; ``doc`` is the summary before it (None before registration)."""
    data = event_data(event)
    doc = _registered(data, event) if doc is None else {**doc, **_change(doc, data, event)}
    doc.update(
        version=event.originator_version,
        digest=event.hash,
        last_activity=event.timestamp.isoformat(),
        last_actor=event.actor,
        last_org=event.org,
    )
    return doc


class SummaryWriter(Protocol):
    """The summary view and the handover queues: what ``CaseSummaryProjection`` writes. The
    queues are rows of the summary's offers, so they share its generation and tracking."""

    def load_summaries(self, case_ids: Iterable[str]) -> dict[str, Doc]: ...

    def save_summaries(self, docs: Sequence[Doc]) -> None: ...

    def save_handovers(self, docs: Sequence[Doc]) -> None:
        """The handover queue rows of these cases become their documents' offers."""
        ...

    def secure_delete(self) -> None:
        """Rows replaced from now on leave no trace in the database file."""
        ...


class CaseSummaryProjection:
    """The current summary of each case, and its handover offers (the handover queues)."""

    name: ClassVar[str] = "case_summary"
    version: ClassVar[int] = 8  # 3: CaseAssigned, no caseworker after a handover; 4: corrections;
    # 5: search_key; 6: responsible (who was responsible since when, ADR 0020); 7: its days
    # and handover_accepted_on are German days, not UTC ones; 8: registered_by (the intake of
    # a case handed over on the day it was registered stays with its registrar)

    def process(self, batch: Batch, writer: SummaryWriter) -> None:
        events = [e for e, _ in batch if isinstance(e, ev.CaseEvent)]
        if not events:
            return
        if any(isinstance(e, ev.PersonalDataErased) for e in events):
            writer.secure_delete()
        ids = {str(e.originator_id) for e in events}
        docs: dict[str, Doc | None] = {**dict.fromkeys(ids), **writer.load_summaries(ids)}
        handovers_of: set[str] = set()
        for event in events:
            case_id = str(event.originator_id)
            before = docs[case_id]
            if not is_newer(before, event):
                continue  # applied already: a fold never takes an event twice (ADR 0004)
            after = fold(before, event)
            docs[case_id] = after
            if isinstance(event, ev.HandoverOffered) or (
                before is not None and before["handovers"] != after["handovers"]
            ):
                handovers_of.add(case_id)
        saved = [d for d in docs.values() if d is not None]
        writer.save_summaries(saved)
        if handovers_of:
            writer.save_handovers([d for d in saved if d["case_id"] in handovers_of])


def is_newer(doc: Doc | None, event: ev.CaseEvent) -> bool:
    """Whether ``event`` comes after what ``doc`` holds: the summary carries the version of
    the last event it applied (``version``), and one not newer is ignored, so an overlapping
    batch or a replayed event cannot append a step, a mentor or a former holder twice."""
    return doc is None or int(event.originator_version or 0) > int(doc["version"])


def _change(doc: Doc, data: Doc, event: ev.CaseEvent) -> Doc:
    match event:
        case ev.LegalStatusChanged():
            return {"legal_status": data["status"], "switch_due": data["switch_to"]}
        case ev.AsylumRecognized():
            return {
                "legal_status": data["protection"],
                "recognized_on": data["decided_on"],
                "switch_due": data["switch_to"],
            }
        case ev.CompetenceAssessed():
            return {
                "competences_version": event.originator_version,
                "competences": data,
                "german_level": data["german_level"],
                "support_need": data["support_need"],
            }
        case ev.StepAgreed():
            return {"steps": [*doc["steps"], {**data, "completed_on": None}]}
        case ev.StepCompleted():
            steps = _replace(
                doc["steps"], "step_id", data["step_id"], completed_on=data["completed_on"]
            )
            return {"steps": steps}
        case ev.MeasureStarted():
            return {"measures": [*doc["measures"], {**data, "ended_on": None, "outcome": None}]}
        case ev.MeasureEnded():
            measures = _replace(
                doc["measures"],
                "measure_id",
                data["measure_id"],
                ended_on=data["ended_on"],
                outcome=data["outcome"],
            )
            return {"measures": measures}
        case ev.PlacementMade():
            return {"placements": [*doc["placements"], {**data, "ended_on": None}]}
        case ev.PlacementEnded():
            placements = _replace(
                doc["placements"], "placement_id", data["placement_id"], ended_on=data["ended_on"]
            )
            return {"placements": placements}
        case ev.MentorAssigned():
            return {"mentors": [*doc["mentors"], data]}
        case ev.MentorReleased():
            return {
                "mentors": [m for m in doc["mentors"] if m["volunteer_id"] != data["volunteer_id"]]
            }
        case ev.ConsentGiven():
            return {"consents": [*doc["consents"], data]}
        case ev.ConsentWithdrawn():
            return {
                "consents": [c for c in doc["consents"] if c["consent_id"] != data["consent_id"]]
            }
        case ev.FactCorrected():
            return corrected(doc, data, event.originator_version)
        case ev.CaseAssigned():
            since = _day_of(event)
            entry = _responsible(since, doc["holder"], data["office"], data["caseworker"])
            return {
                "office": data["office"],
                "caseworker": data["caseworker"],
                "responsible": _responsible_from(doc, entry),
            }
        case ev.ResidenceChanged():
            return {"residence_municipality": data["municipality"]}
        case ev.CaseClosed():
            return {"closed": True, "closed_on": data["closed_on"]}
        case ev.CaseReopened():
            return {"closed": False, "closed_on": None}
        case ev.HandoverOffered():
            offer = {
                "case_id": doc["case_id"],
                "offer_version": event.originator_version,
                "state": "offered",
                "from_org": event.org,
                "to_org": data["to_org"],
                "reason": data["reason"],
                "legal_basis": data["legal_basis"],
                "offered_at": event.timestamp.isoformat(),
                "offered_by": event.actor,
                "due_on": data["due_on"],
                "triggered_by_version": data["triggered_by_version"],
                "decided_at": None,
                "decided_by": None,
                "decision_reason": None,
                "accepted_version": None,
                "accepted_digest": None,
                "effective_on": None,
            }
            return {"handovers": [*doc["handovers"], offer]}
        case ev.HandoverAccepted() | ev.HandoverRejected() | ev.HandoverWithdrawn():
            decision = {
                "state": _OUTCOME[type(event)],
                "decided_at": event.timestamp.isoformat(),
                "decided_by": event.actor,
                "decision_reason": data.get("reason"),
                "accepted_version": data.get("version"),
                "accepted_digest": data.get("digest"),
            }
            return {"handovers": _update_last(doc["handovers"], decision)}
        case ev.PersonalDataErased():
            return _erased(doc, data["erased_on"])
        case ev.JurisdictionChanged():
            return {
                "holder": data["to_org"],
                "legal_basis": data["legal_basis_after"],
                "former_holders": [*doc["former_holders"], data["from_org"]],
                "caseworker": None,  # until a team lead assigns one (CaseAssigned, ADR 0017)
                "office": None,
                "switch_due": None,
                "handover_accepted_on": _day_of(event),
                "responsible": _responsible_from(
                    doc, _responsible(_day_of(event), data["to_org"], None, None)
                ),
                "handovers": _update_last(doc["handovers"], {"effective_on": data["effective_on"]}),
            }
    return {}


def _day_of(event: ev.CaseEvent) -> str:
    """The day an event without a date of its own happened: its timestamp's date in Germany
    (a handover at 00:30 on the 1st belongs to the new month, not to the last day of the old)."""
    return policy.day_in_germany(event.timestamp).isoformat()


def _responsible(since: str, holder: str, office: str | None, caseworker: str | None) -> Doc:
    return {"since": since, "holder": holder, "office": office, "caseworker": caseworker}


def _responsible_from(doc: Doc, entry: Doc) -> list[Doc]:
    """The history of who was responsible (``responsible``: organisation, office, caseworker,
    each since a day) with ``entry`` appended; an entry of the same day is replaced, as the
    figures of a day count who was responsible at its end (``adapters.views.statistics``).
    A summary stored before version 6 has no history: it starts with ``entry``."""
    earlier = [e for e in doc.get("responsible", []) if e["since"] != entry["since"]]
    return [*earlier, entry]


def corrected(doc: Doc, data: Doc, version: int) -> Doc:
    """The summary with a correction applied (ADR 0019): a field of the person, the registration
    date, or a field of the competence assessment the summary shows (a correction of an older
    assessment only joins the list). Every correction is listed, without its value."""
    field, target = data["field"], data["corrects_event"]
    value = data["value"] if data["personal_value"] is None else data["personal_value"]
    listed = {"version": version, "corrects_version": data["corrects_version"], "field": field}
    changes: Doc = {"corrections": [*doc.get("corrections", []), listed]}
    if target == "CaseRegistered" and field == "registered_on":
        changes["registered_on"] = value
    elif target == "CaseRegistered":
        changes["person"] = {**doc["person"], field: value}
    elif (
        target == "CompetenceAssessed"
        and doc.get("competences_version") == data["corrects_version"]
    ):
        changes["competences"] = {**doc["competences"], field: value}
        if field == "german_level":
            changes["german_level"] = value
    return changes


def _erased(doc: Doc, erased_on: str) -> Doc:
    """Every personal value of the summary replaced by the marker (``CaseEvent.PERSONAL_FIELDS``
    as the summary holds them); the handover left open, if any, was withdrawn just before."""
    competences = doc["competences"]
    if competences is not None:
        competences = _marked(competences, "instrument", "school_certificate", "notes")
    return {
        "person": person_doc(ERASED),
        "bamf_file_number": None,
        "competences": competences,
        "steps": [{**s, "description": ERASED} for s in doc["steps"]],
        "measures": [_marked(m, "provider") for m in doc["measures"]],
        "placements": [_marked(p, "employer") for p in doc["placements"]],
        "handovers": [_marked(h, "reason", "decision_reason") for h in doc["handovers"]],
        "switch_due": None,  # nothing can be recorded on it any more, a handover neither
        "erased_on": erased_on,
    }


def _marked(item: Doc, *keys: str) -> Doc:
    """``item`` with the marker in place of each of its ``keys`` that holds a value."""
    return {**item, **{k: ERASED for k in keys if item.get(k) is not None}}


_OUTCOME = {
    ev.HandoverAccepted: "accepted",
    ev.HandoverRejected: "rejected",
    ev.HandoverWithdrawn: "withdrawn",
}


def _update_last(handovers: list[Doc], changes: Doc) -> list[Doc]:
    return [*handovers[:-1], {**handovers[-1], **changes}]


def current_handover(doc: Doc) -> Doc | None:
    handovers: list[Doc] = doc["handovers"]
    return handovers[-1] if handovers else None


def handover_state(doc: Doc) -> str:
    """``offered``; ``due`` (a switch is due, nothing offered); else the last offer's outcome."""
    handover = current_handover(doc)
    if handover and handover["state"] == "offered":
        return "offered"
    if doc.get("switch_due"):
        return "due"
    return handover["state"] if handover else "none"
