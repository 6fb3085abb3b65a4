"""Givens without I/O: organisations, staff, a person, and cases in a known state."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from domain.actor import Actor, acting_as
from domain.aggregates import case_events as ev
from domain.aggregates.case import STAFF_COMMANDS, Case
from domain.values import (
    ConsentPurpose,
    LegalStatus,
    MeasureKind,
    MeasureOutcome,
    NoteCategory,
    Person,
    PlacementKind,
    Plan,
    Protection,
    QualificationRecognition,
    RejectionKind,
)

AGENCY = "aa-berlin"  # the Agentur für Arbeit that registers the case (SGB III)
JOBCENTER = "jc-berlin"  # the Jobcenter a recognised person moves to (SGB II)
OTHER_AGENCY = "aa-hamburg"

HOLDER = Actor("staff-aa-1", AGENCY)
COLLEAGUE = Actor("staff-aa-2", AGENCY)
RECEIVER = Actor("staff-jc-1", JOBCENTER)
OUTSIDER = Actor("staff-aa-9", OTHER_AGENCY)

REGISTERED_ON = date(2026, 1, 12)
RECOGNISED_ON = date(2026, 4, 20)
TODAY = date(2026, 4, 27)


def a_person(family_name: str = "Haddad") -> Person:
    """The person a test registers unless it names another."""
    return Person("Amina", family_name, date(1994, 3, 2), "SY", ("ar", "en"))


def a_registered_case(
    *, by: Actor = HOLDER, legal_status: LegalStatus = LegalStatus.ASYLUM_SEEKER
) -> Case:
    with acting_as(by):
        return Case.register(
            person=a_person(),
            bamf_file_number="1234567-438",
            residence_municipality="Berlin",
            legal_status=legal_status,
            registered_on=REGISTERED_ON,
        )


def a_recognised_case(decided_on: date = RECOGNISED_ON) -> Case:
    case = a_registered_case()
    with acting_as(HOLDER):
        case.recognize_asylum(protection=Protection.REFUGEE, decided_on=decided_on)
    return case


def a_case_offered_to(org: str = JOBCENTER, case: Case | None = None) -> Case:
    case = case or a_recognised_case()
    with acting_as(HOLDER):
        case.offer_handover(to_org=org, reason="recognised", due_on=date(2026, 5, 4))
    return case


def accept(case: Case, by: Actor = RECEIVER, accepted_on: date = TODAY) -> None:
    """The receiver reads the case as it is now and acknowledges it."""
    with acting_as(by):
        case.accept_handover(version=case.version, digest=case.digest, accepted_on=accepted_on)


def record_note(case: Case, by: Actor = HOLDER, text: str = "called, no answer") -> None:
    with acting_as(by):
        case.record_fact(ev.NoteRecorded, text=text, category=NoteCategory.COUNSELLING)


def case_events(case: Case) -> list[ev.CaseEvent]:
    """The case's recorded (pending) events, typed as case events."""
    events = list(case.pending_events)
    assert all(isinstance(e, ev.CaseEvent) for e in events)
    return [e for e in events if isinstance(e, ev.CaseEvent)]


# -- a case with one open item of every kind, and valid fields for every staff command -------

OPEN_STEP, OPEN_MEASURE, OPEN_PLACEMENT, OPEN_MENTOR, OPEN_CONSENT = "s1", "m1", "p1", "v1", "c1"
D = date(2026, 3, 2)


def a_case_with_open_items(by: Actor = HOLDER) -> Case:
    case = a_registered_case(by=by)
    with acting_as(by):
        case.agree_step(
            step_id=OPEN_STEP, description="B1 course", due_on=D, plan=Plan.KOOPERATIONSPLAN
        )
        case.start_measure(
            measure_id=OPEN_MEASURE,
            kind=MeasureKind.INTEGRATION_COURSE,
            provider="VHS",
            starts_on=D,
            ends_on=None,
        )
        case.make_placement(
            placement_id=OPEN_PLACEMENT,
            kind=PlacementKind.INTERNSHIP,
            employer="Bäckerei Schmidt",
            starts_on=D,
            wage_subsidy=None,
            offer_id=None,
        )
        case.assign_mentor(
            volunteer_id=OPEN_MENTOR, organisation="Patenschaften e.V.", assigned_on=D
        )
        case.give_consent(
            consent_id=OPEN_CONSENT,
            purpose=ConsentPurpose.SHARE_WITH_MENTOR,
            recipient="Patenschaften e.V.",
            scope=("language",),
            given_on=D,
        )
    return case


# Fields that each staff command accepts on ``a_case_with_open_items`` held by ``HOLDER``.
STAFF_FIELDS: dict[str, dict[str, Any]] = {
    "LegalStatusChanged": {"status": LegalStatus.TOLERATED, "effective_on": D},
    "AsylumRecognized": {"protection": Protection.REFUGEE, "decided_on": D},
    "AsylumRejected": {"kind": RejectionKind.UNFOUNDED, "decided_on": D},
    "CompetenceAssessed": {
        "instrument": "MySkills",
        "assessed_on": D,
        "german_level": None,
        "languages": (),
        "school_years": 10,
        "school_certificate": None,
        "vocational_training": (),
        "work_experience": (),
        "qualification_recognition": QualificationRecognition.NONE,
        "support_need": True,
        "notes": None,
    },
    "StepAgreed": {
        "step_id": "s2",
        "description": "CV",
        "due_on": None,
        "plan": Plan.KOOPERATIONSPLAN,
    },
    "StepCompleted": {"step_id": OPEN_STEP, "completed_on": D},
    "MeasureStarted": {
        "measure_id": "m2",
        "kind": MeasureKind.PERF,
        "provider": "BA",
        "starts_on": D,
        "ends_on": None,
    },
    "MeasureEnded": {
        "measure_id": OPEN_MEASURE,
        "ended_on": D,
        "outcome": MeasureOutcome.COMPLETED,
        "certificate": None,
    },
    "PlacementMade": {
        "placement_id": "p2",
        "kind": PlacementKind.JOB,
        "employer": "Kita Sonnenschein",
        "starts_on": D,
        "wage_subsidy": None,
        "offer_id": None,
    },
    "PlacementEnded": {"placement_id": OPEN_PLACEMENT, "ended_on": D, "reason": "finished"},
    "MentorAssigned": {"volunteer_id": "v2", "organisation": "Caritas", "assigned_on": D},
    "MentorReleased": {"volunteer_id": OPEN_MENTOR, "released_on": D},
    "ConsentGiven": {
        "consent_id": "c2",
        "purpose": ConsentPurpose.SHARE_WITH_EMPLOYER,
        "recipient": "Kita Sonnenschein",
        "scope": ("work",),
        "given_on": D,
    },
    "ConsentWithdrawn": {"consent_id": OPEN_CONSENT, "withdrawn_on": D},
    "FactCorrected": {
        "corrects_version": 1,
        "corrects_event": "CaseRegistered",
        "field": "birth_date",
        "value": "1994-03-12",
        "reason": "laut Pass",
    },
    "NoteRecorded": {"text": "first meeting", "category": NoteCategory.GENERAL},
    "ResidenceChanged": {"municipality": "Potsdam", "moved_on": D},
    "CaseClosed": {"reason": "moved abroad", "closed_on": D},
    "CaseReopened": {"reason": "returned"},
    "CaseAssigned": {"office": "Aachen", "caseworker": "cw-2"},
    "FollowUpCreated": {"due_on": D, "text": "Zeugnisse anfordern", "assignee": None},
    # the follow-up derived from the open step (ADR 0017)
    "FollowUpCompleted": {"follow_up_id": f"schritt-{OPEN_STEP}", "completed_on": D},
    "FollowUpPostponed": {"follow_up_id": f"schritt-{OPEN_STEP}", "due_on": D},
    "FollowUpCancelled": {"follow_up_id": f"schritt-{OPEN_STEP}"},
}


def staff_command(event_type: str) -> Callable[[Case], None]:
    """The staff command that records ``event_type``, with valid fields bound."""
    command, fields = STAFF_COMMANDS[event_type], STAFF_FIELDS[event_type]

    def run(case: Case) -> None:
        command(case, **fields)

    return run
