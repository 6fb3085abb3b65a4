"""Follow-ups (Wiedervorlagen) as a pure fold over a case's events (ADR 0017).

``fold(state, event) -> state``: the state of one case holds every follow-up it ever had
(``items``, keyed by organisation and id) and the facts automatic ones are derived from: open steps
with a due date, open measures with an end date, consents in force with ``valid_until``, the
current residence permit's ``valid_until``, the open handover, the caseworker's first meeting. A
follow-up is by hand (``FollowUpCreated``) or derived:

- an incoming handover: the receiver's team, due at the answer deadline, until it is answered;
- an agreed step with a due date, until it is completed;
- a measure with an end date, until it has ended;
- a residence permit with ``valid_until``, until the next status change supersedes it;
- a consent with ``valid_until``: due some days before it, until the consent is withdrawn;
- an assignment to a new caseworker: the first meeting (Erstgespräch), due some working days
  later, until the next assignment to someone else (or none), the handover or the closing.

Derived follow-ups are for the case's caseworker (at first the one who registered it, as in the
summary), or the team while it has none. When the case is handed over, the sender's open
follow-ups close and the receiver's are derived from the case's state; closing the case closes
them, reopening derives them again (not the first meeting: it belongs to the assignment);
erasing the personal data closes them and replaces the texts by the marker.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Any, ClassVar, Protocol

from domain import follow_ups as fu
from domain import policy
from domain.aggregates import case_events as ev
from domain.values import MeasureKind, Redacted
from projections import labels as de
from projections.base import Batch
from projections.history import event_data

State = dict[str, Any]
Row = dict[str, Any]
OPEN = "open"
ERASED = Redacted.ERASED.value


def _key(org: str, follow_up_id: str) -> str:
    return f"{org}|{follow_up_id}"


def new_state(case_id: str) -> State:
    return {
        "case_id": case_id,
        "version": 0,
        "holder": None,
        "caseworker": None,
        "assigned": None,  # the caseworker of the last CaseAssigned (None after a handover)
        "first_meeting": None,  # the id of the open first meeting's follow-up
        "closed": False,
        "steps": {},
        "measures": {},
        "residence": None,
        "consents": {},  # open consents with an end: consent_id -> valid_until
        "handover": None,
        "items": {},
    }


def rows(state: State) -> list[Row]:
    """Every follow-up of the case, open and settled, in the order they were made."""
    return list(state["items"].values())


def fold(state: State | None, event: ev.CaseEvent) -> State:
    """The case's follow-ups after ``event``; an event not newer than the state is ignored."""
    case_id = str(event.originator_id)
    state = new_state(case_id) if state is None else state
    version = int(event.originator_version or 0)
    if version <= state["version"]:
        return state  # applied already: never twice
    s: State = {**state, "items": dict(state["items"]), "version": version}
    _apply(s, event, event_data(event))
    return s


def _add(s: State, event: ev.CaseEvent, org: str, fid: str, source: str, **row: Any) -> None:
    s["items"][_key(org, fid)] = {
        "case_id": s["case_id"],
        "follow_up_id": fid,
        "org": org,
        "source": source,
        "state": OPEN,
        "created_at": event.timestamp.isoformat(),
        "settled_on": None,
        **row,
    }


def _settle(s: State, org: str, fid: str, state: str, on: str) -> None:
    item = s["items"].get(_key(org, fid))
    if item is not None and item["state"] == OPEN:
        s["items"][_key(org, fid)] = {**item, "state": state, "settled_on": on}


def _close_open(s: State, org: str | None, on: str) -> None:
    """Every open follow-up (of ``org``; None: of anyone) closes."""
    for item in list(s["items"].values()):
        if org is None or item["org"] == org:
            _settle(s, item["org"], item["follow_up_id"], "closed", on)


def _derive(s: State, event: ev.CaseEvent) -> None:
    """The holder's follow-ups from the case's state (after a handover or a reopening)."""
    holder, worker = s["holder"], s["caseworker"]
    for step_id, due_on in s["steps"].items():
        _add(s, event, holder, fu.step(step_id), "step", assignee=worker, due_on=due_on,
             text=_step_text(step_id))  # fmt: skip
    for measure_id, m in s["measures"].items():
        _add(s, event, holder, fu.measure(measure_id), "measure", assignee=worker,
             due_on=m["ends_on"], text=_measure_text(m["kind"]))  # fmt: skip
    if s["residence"] is not None:
        r = s["residence"]
        _add(s, event, holder, r["id"], "residence", assignee=worker, due_on=r["valid_until"],
             text=RESIDENCE_TEXT)  # fmt: skip
    for consent_id, valid_until in s["consents"].items():
        _add_consent(s, event, consent_id, valid_until)


def _add_consent(s: State, event: ev.CaseEvent, consent_id: str, valid_until: str) -> None:
    due_on = date.fromisoformat(valid_until) - timedelta(days=fu.CONSENT_NOTICE_DAYS)
    _add(s, event, s["holder"], fu.consent(consent_id), "consent", assignee=s["caseworker"],
         due_on=due_on.isoformat(), text=_consent_text(valid_until))  # fmt: skip


def _consent_text(valid_until: str) -> str:
    return f"Einwilligung läuft ab (gültig bis {date.fromisoformat(valid_until):%d.%m.%Y})"


def _assigned(s: State, event: ev.CaseEvent, caseworker: str | None, active: bool) -> None:
    """A new caseworker: the last one's first meeting closes, the new one's is due
    ``FIRST_MEETING_WORKING_DAYS`` working days after the assignment's day (ADR 0017)."""
    if caseworker == s["assigned"]:
        return  # the same caseworker (another office): the first meeting stays as it is
    s["assigned"] = caseworker
    if s["first_meeting"] is not None:
        _settle(s, s["holder"], s["first_meeting"], "closed", _today(event))
        s["first_meeting"] = None
    if caseworker is None or not active:
        return
    fid = fu.first_meeting(int(event.originator_version or 0))
    due_on = policy.working_days_after(
        policy.day_in_germany(event.timestamp), fu.FIRST_MEETING_WORKING_DAYS
    )
    _add(s, event, s["holder"], fid, "first_meeting", assignee=caseworker,
         due_on=due_on.isoformat(), text=FIRST_MEETING_TEXT)  # fmt: skip
    s["first_meeting"] = fid


def _step_text(step_id: str) -> str:
    return f"Vereinbarter Schritt {step_id} fällig"


def _measure_text(kind: str) -> str:
    return f"{de.MEASURE[MeasureKind(kind)]} endet: Ergebnis erfassen"


RESIDENCE_TEXT = "Aufenthaltstitel läuft ab: Verlängerung prüfen"
FIRST_MEETING_TEXT = "Erstgespräch führen"


def _today(event: ev.CaseEvent) -> str:
    """The German day of ``event``, the day its follow-ups count from."""
    return policy.day_in_germany(event.timestamp).isoformat()


def _apply(s: State, event: ev.CaseEvent, data: dict[str, Any]) -> None:
    today = _today(event)
    holder, worker = s["holder"], s["caseworker"]
    active = not s["closed"]
    match event:
        case ev.CaseRegistered():
            s["holder"], s["caseworker"] = data["holder"], event.actor  # as the summary has it
        case ev.CaseAssigned():
            s["caseworker"] = data["caseworker"]
            _assigned(s, event, data["caseworker"], active)
            for item in list(s["items"].values()):  # derived ones follow the caseworker
                if item["org"] == holder and item["state"] == OPEN and item["source"] != "manual":
                    s["items"][_key(holder, item["follow_up_id"])] = {
                        **item,
                        "assignee": data["caseworker"],
                    }
        case ev.StepAgreed() if data["due_on"] is not None:
            s["steps"] = {**s["steps"], data["step_id"]: data["due_on"]}
            if active:
                _add(s, event, holder, fu.step(data["step_id"]), "step", assignee=worker,
                     due_on=data["due_on"], text=_step_text(data["step_id"]))  # fmt: skip
        case ev.StepCompleted():
            s["steps"] = {k: v for k, v in s["steps"].items() if k != data["step_id"]}
            _settle(s, holder, fu.step(data["step_id"]), "done", data["completed_on"])
        case ev.MeasureStarted() if data["ends_on"] is not None:
            measure = {"ends_on": data["ends_on"], "kind": data["kind"]}
            s["measures"] = {**s["measures"], data["measure_id"]: measure}
            if active:
                _add(s, event, holder, fu.measure(data["measure_id"]), "measure",
                     assignee=worker, due_on=data["ends_on"],
                     text=_measure_text(data["kind"]))  # fmt: skip
        case ev.MeasureEnded():
            s["measures"] = {k: v for k, v in s["measures"].items() if k != data["measure_id"]}
            _settle(s, holder, fu.measure(data["measure_id"]), "done", data["ended_on"])
        case ev.ConsentGiven() if data.get("valid_until") is not None:
            s["consents"] = {**s["consents"], data["consent_id"]: data["valid_until"]}
            if active:
                _add_consent(s, event, data["consent_id"], data["valid_until"])
        case ev.ConsentWithdrawn():
            s["consents"] = {k: v for k, v in s["consents"].items() if k != data["consent_id"]}
            _settle(s, holder, fu.consent(data["consent_id"]), "closed", data["withdrawn_on"])
        case ev.LegalStatusChanged():
            if s["residence"] is not None:
                _settle(s, holder, s["residence"]["id"], "closed", today)
            s["residence"] = None
            if data["valid_until"] is not None:
                fid = fu.residence(int(event.originator_version or 0))
                s["residence"] = {"id": fid, "valid_until": data["valid_until"]}
                if active:
                    _add(s, event, holder, fid, "residence", assignee=worker,
                         due_on=data["valid_until"], text=RESIDENCE_TEXT)  # fmt: skip
        case ev.HandoverOffered():
            fid = fu.handover(int(event.originator_version or 0))
            s["handover"] = {"id": fid, "to_org": data["to_org"]}
            _add(s, event, data["to_org"], fid, "handover", assignee=None, from_org=event.org,
                 due_on=data["due_on"], text=f"Übergabe von {event.org} beantworten")  # fmt: skip
        case ev.HandoverAccepted() | ev.HandoverRejected() | ev.HandoverWithdrawn():
            offer = s.get("handover")
            if offer is not None:
                _settle(s, offer["to_org"], offer["id"], "done", today)
            s["handover"] = None
        case ev.JurisdictionChanged():
            _close_open(s, data["from_org"], today)
            s["holder"], s["caseworker"] = data["to_org"], None
            s["assigned"], s["first_meeting"] = None, None
            if active:
                _derive(s, event)
        case ev.FollowUpCreated():
            _add(s, event, holder, data["follow_up_id"], "manual", assignee=data["assignee"],
                 due_on=data["due_on"], text=data["text"])  # fmt: skip
        case ev.FollowUpCompleted():
            _settle(s, holder, data["follow_up_id"], "done", data["completed_on"])
        case ev.FollowUpCancelled():
            _settle(s, holder, data["follow_up_id"], "cancelled", today)
        case ev.FollowUpPostponed():
            key = _key(holder, data["follow_up_id"])
            if key in s["items"]:
                s["items"][key] = {**s["items"][key], "due_on": data["due_on"]}
        case ev.CaseClosed():
            s["closed"] = True
            s["first_meeting"] = None
            _close_open(s, holder, data["closed_on"])
        case ev.CaseReopened():
            s["closed"] = False
            _derive(s, event)  # fresh follow-ups in place of those the closing closed
        case ev.PersonalDataErased():
            _close_open(s, None, data["erased_on"])
            s["items"] = {
                k: {**item, "text": ERASED} if item["source"] == "manual" else item
                for k, item in s["items"].items()
            }


class FollowUpWriter(Protocol):
    """The follow-up view: the fold's state of each case and its follow-ups as rows."""

    def load_follow_up_states(self, case_ids: Iterable[str]) -> dict[str, State]: ...

    def save_follow_up_states(self, states: Sequence[State]) -> None:
        """Store the states and make the cases' rows exactly ``rows(state)``."""
        ...

    def secure_delete(self) -> None:
        """Rows replaced from now on leave no trace in the database file."""
        ...


# The events ``_apply`` acts on; any other one changes nothing but the state's version, so a
# batch without any of these loads and saves no state (a note, an assessment, a recognition).
# tests/projections/test_follow_up_rules.py folds every other type to check it.
FOLLOWED: tuple[type[ev.CaseEvent], ...] = (
    ev.CaseRegistered, ev.CaseAssigned, ev.StepAgreed, ev.StepCompleted, ev.MeasureStarted,
    ev.MeasureEnded, ev.ConsentGiven, ev.ConsentWithdrawn, ev.LegalStatusChanged,
    ev.HandoverOffered, ev.HandoverAccepted, ev.HandoverRejected, ev.HandoverWithdrawn,
    ev.JurisdictionChanged, ev.FollowUpCreated, ev.FollowUpCompleted, ev.FollowUpCancelled,
    ev.FollowUpPostponed, ev.CaseClosed, ev.CaseReopened, ev.PersonalDataErased,
)  # fmt: skip


class FollowUpProjection:
    name: ClassVar[str] = "follow_ups"
    version: ClassVar[int] = 3  # 2: first meetings and consents' expiry (rebuilt on start);
    # 3: days are German days

    def process(self, batch: Batch, writer: FollowUpWriter) -> None:
        events = [e for e, _ in batch if isinstance(e, FOLLOWED)]
        if not events:
            return
        if any(isinstance(e, ev.PersonalDataErased) for e in events):
            writer.secure_delete()  # the texts by hand are replaced by the marker
        ids = {str(e.originator_id) for e in events}
        states: dict[str, State | None] = {
            **dict.fromkeys(ids),
            **writer.load_follow_up_states(ids),
        }
        for event in events:
            case_id = str(event.originator_id)
            states[case_id] = fold(states[case_id], event)
        writer.save_follow_up_states([s for s in states.values() if s is not None])
