"""The events of a case, in the past tense. ``apply`` only assigns: it runs again on every replay.

Every event carries who recorded it (``actor``, ``org``), when (``timestamp``) and the hash of its
predecessor (``prev_hash``); its own ``hash`` is computed once, when it is first recorded, over
its canonical form (``domain.chain``) and stored with it. ``TOPIC`` is the stable stored name
(ADR 0002): moving or renaming a class never breaks a stored log.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar

from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic, register_topic

from domain import follow_ups
from domain.chain import event_hash
from domain.values import (
    Cefr,
    ConsentPurpose,
    ErasureGround,
    LanguageSkill,
    LegalBasis,
    LegalStatus,
    MeasureKind,
    MeasureOutcome,
    NoteCategory,
    OpenHandover,
    Person,
    PlacementKind,
    Plan,
    Protection,
    QualificationRecognition,
    RejectionKind,
    Sealed,
    VocationalTraining,
    WageSubsidy,
    WorkExperience,
)

if TYPE_CHECKING:
    from domain.aggregates.case import Case


class CaseEvent(Aggregate.Event):
    TOPIC: ClassVar[str] = ""
    # Fields that hold personal data: sealed with the case's own key before the event is built
    # (``domain.sealing``, ADR 0008); erasing the key erases them. Every free-text field is one
    # (staff write personal data wherever there is room for it); text that stays readable is
    # structured: ids, organisations, municipalities, hashes, and the erasure's own reason.
    PERSONAL_FIELDS: ClassVar[tuple[str, ...]] = ()

    actor: str
    org: str
    prev_hash: str

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("TOPIC"):
            register_topic(cls.TOPIC, cls)

    def __post_init__(self) -> None:
        super().__post_init__()
        state = dict(vars(self))
        state.pop("originator_id")
        state.pop("originator_version")
        self.__dict__["hash"] = event_hash(
            self.originator_id,
            self.originator_version,
            get_topic(type(self)),
            getattr(type(self), "class_version", 1),
            state,
        )

    @property
    def hash(self) -> str:
        return str(self.__dict__["hash"])

    def mutate(self, aggregate: Any) -> Any:
        case = super().mutate(aggregate)
        assert case is not None
        case.digest = self.hash
        return case


class CaseRegistered(CaseEvent, Aggregate.Created):
    TOPIC = "staffel:Case.CaseRegistered"
    PERSONAL_FIELDS = ("person", "bamf_file_number")
    person: Person | Sealed
    bamf_file_number: str | Sealed | None
    residence_municipality: str
    legal_status: LegalStatus
    holder: str
    office: str | None
    legal_basis: LegalBasis
    registered_on: date

    def apply(self, case: Case) -> None:
        case.holder = self.holder
        case.office = self.office
        case.legal_status = self.legal_status
        case.legal_basis = self.legal_basis
        case.residence_municipality = self.residence_municipality
        case.closed = False
        case.switch_due = None
        case.switch_decided_on = None
        case.handover = None
        case.former_holders = ()
        case.steps = {}
        case.measures = {}
        case.placements = {}
        case.mentors = ()
        case.consents = {}
        case.erased = False


class LegalStatusChanged(CaseEvent):
    TOPIC = "staffel:Case.LegalStatusChanged"
    PERSONAL_FIELDS = ("document",)
    status: LegalStatus
    document: str | Sealed | None
    valid_until: date | None
    effective_on: date
    switch_to: LegalBasis | None

    def apply(self, case: Case) -> None:
        case.legal_status = self.status
        case.note_switch(self.switch_to, self.effective_on)
        case.residence_follow_up = (
            None if self.valid_until is None else follow_ups.residence(self.originator_version)
        )


class AsylumRecognized(CaseEvent):
    TOPIC = "staffel:Case.AsylumRecognized"
    protection: Protection
    decided_on: date
    switch_to: LegalBasis | None

    def apply(self, case: Case) -> None:
        case.legal_status = LegalStatus(self.protection.value)
        case.note_switch(self.switch_to, self.decided_on)


class AsylumRejected(CaseEvent):
    TOPIC = "staffel:Case.AsylumRejected"
    kind: RejectionKind
    decided_on: date


class CompetenceAssessed(CaseEvent):
    TOPIC = "staffel:Case.CompetenceAssessed"
    PERSONAL_FIELDS = ("instrument", "school_certificate", "notes")
    instrument: str | Sealed
    assessed_on: date
    german_level: Cefr | None
    languages: tuple[LanguageSkill, ...]
    school_years: int | None
    school_certificate: str | Sealed | None
    vocational_training: tuple[VocationalTraining, ...]
    work_experience: tuple[WorkExperience, ...]
    qualification_recognition: QualificationRecognition
    support_need: bool
    notes: str | Sealed | None


class StepAgreed(CaseEvent):
    TOPIC = "staffel:Case.StepAgreed"
    PERSONAL_FIELDS = ("description",)
    step_id: str
    description: str | Sealed
    due_on: date | None
    plan: Plan

    def apply(self, case: Case) -> None:
        case.steps = {**case.steps, self.step_id: False}
        if self.due_on is not None:
            case.dated_follow_ups = (*case.dated_follow_ups, follow_ups.step(self.step_id))


class StepCompleted(CaseEvent):
    TOPIC = "staffel:Case.StepCompleted"
    step_id: str
    completed_on: date

    def apply(self, case: Case) -> None:
        case.steps = {**case.steps, self.step_id: True}


class MeasureStarted(CaseEvent):
    TOPIC = "staffel:Case.MeasureStarted"
    PERSONAL_FIELDS = ("provider",)
    measure_id: str
    kind: MeasureKind
    provider: str | Sealed
    starts_on: date
    ends_on: date | None

    def apply(self, case: Case) -> None:
        case.measures = {**case.measures, self.measure_id: False}
        if self.ends_on is not None:
            case.dated_follow_ups = (*case.dated_follow_ups, follow_ups.measure(self.measure_id))


class MeasureEnded(CaseEvent):
    TOPIC = "staffel:Case.MeasureEnded"
    PERSONAL_FIELDS = ("certificate",)
    measure_id: str
    ended_on: date
    outcome: MeasureOutcome
    certificate: str | Sealed | None

    def apply(self, case: Case) -> None:
        case.measures = {**case.measures, self.measure_id: True}


class PlacementMade(CaseEvent):
    TOPIC = "staffel:Case.PlacementMade"
    PERSONAL_FIELDS = ("employer",)
    placement_id: str
    kind: PlacementKind
    employer: str | Sealed
    starts_on: date
    wage_subsidy: WageSubsidy | None
    offer_id: str | None

    def apply(self, case: Case) -> None:
        case.placements = {**case.placements, self.placement_id: False}


class PlacementEnded(CaseEvent):
    TOPIC = "staffel:Case.PlacementEnded"
    PERSONAL_FIELDS = ("reason",)
    placement_id: str
    ended_on: date
    reason: str | Sealed

    def apply(self, case: Case) -> None:
        case.placements = {**case.placements, self.placement_id: True}


class MentorAssigned(CaseEvent):
    TOPIC = "staffel:Case.MentorAssigned"
    volunteer_id: str
    organisation: str
    assigned_on: date

    def apply(self, case: Case) -> None:
        case.mentors = (*case.mentors, self.volunteer_id)


class MentorReleased(CaseEvent):
    TOPIC = "staffel:Case.MentorReleased"
    volunteer_id: str
    released_on: date

    def apply(self, case: Case) -> None:
        case.mentors = tuple(m for m in case.mentors if m != self.volunteer_id)


class ConsentGiven(CaseEvent):
    TOPIC = "staffel:Case.ConsentGiven"
    class_version = 2
    consent_id: str
    purpose: ConsentPurpose
    recipient: str
    scope: tuple[str, ...]
    given_on: date
    valid_until: date | None = None  # the last day it holds; None: until withdrawn

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """Version 1 had no ``valid_until``: such consents hold until withdrawn."""
        state["valid_until"] = None

    def apply(self, case: Case) -> None:
        case.consents = {**case.consents, self.consent_id: True}
        if self.valid_until is not None:
            case.dated_follow_ups = (*case.dated_follow_ups, follow_ups.consent(self.consent_id))


class ConsentWithdrawn(CaseEvent):
    TOPIC = "staffel:Case.ConsentWithdrawn"
    consent_id: str
    withdrawn_on: date

    def apply(self, case: Case) -> None:
        case.consents = {**case.consents, self.consent_id: False}


class NoteRecorded(CaseEvent):
    TOPIC = "staffel:Case.NoteRecorded"
    PERSONAL_FIELDS = ("text",)
    class_version = 2
    text: str | Sealed
    category: NoteCategory

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """Version 1 had no category: such notes were general counselling notes."""
        state["category"] = NoteCategory.GENERAL


class ResidenceChanged(CaseEvent):
    TOPIC = "staffel:Case.ResidenceChanged"
    municipality: str
    moved_on: date

    def apply(self, case: Case) -> None:
        case.residence_municipality = self.municipality


class CaseClosed(CaseEvent):
    TOPIC = "staffel:Case.CaseClosed"
    PERSONAL_FIELDS = ("reason",)
    reason: str | Sealed
    closed_on: date

    def apply(self, case: Case) -> None:
        case.closed = True
        # its follow-ups close with it; reopening derives fresh ones (ADR 0017)
        case.follow_ups = dict.fromkeys(case.follow_ups, False)
        case.settled_follow_ups = ()
        case.first_meeting_follow_up = None


class CaseReopened(CaseEvent):
    TOPIC = "staffel:Case.CaseReopened"
    PERSONAL_FIELDS = ("reason",)
    reason: str | Sealed

    def apply(self, case: Case) -> None:
        case.closed = False


class HandoverOffered(CaseEvent):
    TOPIC = "staffel:Case.HandoverOffered"
    PERSONAL_FIELDS = ("reason",)
    to_org: str
    reason: str | Sealed
    legal_basis: LegalBasis
    offered_version: int
    offered_digest: str
    due_on: date
    triggered_by_version: int | None

    def apply(self, case: Case) -> None:
        case.handover = OpenHandover(
            to_org=self.to_org,
            legal_basis=self.legal_basis,
            offered_by=self.org,
            offered_version=self.offered_version,
        )


class HandoverAccepted(CaseEvent):
    TOPIC = "staffel:Case.HandoverAccepted"
    version: int
    digest: str

    def apply(self, case: Case) -> None:
        case.handover = None


class HandoverRejected(CaseEvent):
    TOPIC = "staffel:Case.HandoverRejected"
    PERSONAL_FIELDS = ("reason",)
    reason: str | Sealed

    def apply(self, case: Case) -> None:
        case.handover = None


class HandoverWithdrawn(CaseEvent):
    TOPIC = "staffel:Case.HandoverWithdrawn"
    PERSONAL_FIELDS = ("reason",)
    reason: str | Sealed

    def apply(self, case: Case) -> None:
        case.handover = None


class JurisdictionChanged(CaseEvent):
    TOPIC = "staffel:Case.JurisdictionChanged"
    from_org: str
    to_org: str
    legal_basis_before: LegalBasis
    legal_basis_after: LegalBasis
    effective_on: date

    def apply(self, case: Case) -> None:
        case.former_holders = (*case.former_holders, self.from_org)
        case.holder = self.to_org
        case.legal_basis = self.legal_basis_after
        case.switch_due = None
        case.switch_decided_on = None
        case.office = None
        case.caseworker = None
        case.follow_ups = {}
        case.settled_follow_ups = ()
        case.first_meeting_follow_up = None


class PersonalDataErased(CaseEvent):
    """The case's personal fields are erased: its data key is deleted right after this event is
    stored. Types, dates, organisations and legal statuses stay; no event follows."""

    TOPIC = "staffel:Case.PersonalDataErased"
    ground: ErasureGround
    reason: str  # the legal reason as the deciding member of staff gave it (no personal data)
    erased_on: date

    def apply(self, case: Case) -> None:
        case.erased = True
        case.handover = None


class FactCorrected(CaseEvent):
    """A recorded fact corrected (Art. 16 GDPR, ADR 0019): the event at ``corrects_version``
    stays as recorded; this one names its type, the field and the new value (in ``value``, or
    sealed in ``personal_value`` for a field of the person), and why."""

    TOPIC = "staffel:Case.FactCorrected"
    PERSONAL_FIELDS = ("personal_value", "reason")
    corrects_version: int
    corrects_event: str
    field: str
    value: str | None
    personal_value: str | Sealed | None
    reason: str | Sealed


class CaseAssigned(CaseEvent):
    """A team lead of the holder (or a caseworker accepting the case for themselves) makes an
    office and a caseworker responsible; None leaves the case without one."""

    TOPIC = "staffel:Case.CaseAssigned"
    office: str | None
    caseworker: str | None

    def apply(self, case: Case) -> None:
        if self.caseworker != case.caseworker:  # a new caseworker: a first meeting (ADR 0017)
            case.first_meeting_follow_up = (
                None
                if self.caseworker is None
                else follow_ups.first_meeting(self.originator_version)
            )
        case.office = self.office
        case.caseworker = self.caseworker


class FollowUpCreated(CaseEvent):
    """A Wiedervorlage by hand: due on a day, for a caseworker (``assignee``) or the team."""

    TOPIC = "staffel:Case.FollowUpCreated"
    PERSONAL_FIELDS = ("text",)
    follow_up_id: str
    due_on: date
    text: str | Sealed
    assignee: str | None

    def apply(self, case: Case) -> None:
        case.follow_ups = {**case.follow_ups, self.follow_up_id: True}


class FollowUpCompleted(CaseEvent):
    TOPIC = "staffel:Case.FollowUpCompleted"
    follow_up_id: str
    completed_on: date

    def apply(self, case: Case) -> None:
        case.settle_follow_up(self.follow_up_id)


class FollowUpPostponed(CaseEvent):
    TOPIC = "staffel:Case.FollowUpPostponed"
    follow_up_id: str
    due_on: date


class FollowUpCancelled(CaseEvent):
    TOPIC = "staffel:Case.FollowUpCancelled"
    follow_up_id: str

    def apply(self, case: Case) -> None:
        case.settle_follow_up(self.follow_up_id)


CASE_EVENTS: tuple[type[CaseEvent], ...] = tuple(
    cls
    for cls in list(globals().values())
    if isinstance(cls, type) and issubclass(cls, CaseEvent) and cls is not CaseEvent
)
