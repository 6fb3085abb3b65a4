"""The HTTP contract of cases: registering, events, the summary and the history, erasure."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

from api.schemas.common import Contract, Name, PastDate, Ref, Text, WageSubsidyIn
from domain.bamf_number import InvalidBamfFileNumberError, normalise
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
    Person,
    PlacementKind,
    Plan,
    Protection,
    QualificationRecognition,
    RejectionKind,
    VocationalTraining,
    WorkExperience,
)
from service_layer.cases import NewCase


def _bamf_file_number(value: str) -> str:
    """The canonical form (ADR 0010); refused as a format error naming the field otherwise."""
    try:
        return normalise(value)
    except InvalidBamfFileNumberError as e:
        raise PydanticCustomError(
            "string_pattern_mismatch", "not a BAMF file number: {reason}", {"reason": str(e)}
        ) from None


class PersonIn(Contract):
    given_name: Name
    family_name: Name
    birth_date: Annotated[PastDate, Field(gt=date(1900, 1, 1))]
    nationality: Annotated[str, Field(pattern=r"^[A-Z]{2,3}$", description="ISO 3166 code")]
    languages: list[Annotated[str, Field(min_length=2, max_length=3)]] = []

    def to_value(self) -> Person:
        return Person(
            self.given_name,
            self.family_name,
            self.birth_date,
            self.nationality,
            tuple(self.languages),
        )


class RegisterCase(Contract):
    person: PersonIn
    bamf_file_number: Annotated[
        str | None,
        Field(
            max_length=64,
            description="BAMF Aktenzeichen, e.g. 7654321-423: stored in canonical form (ASCII"
            " digits, running number padded to 7 digits, hyphen, 3-digit country code)",
        ),
        AfterValidator(lambda v: v if v is None else _bamf_file_number(v)),
    ] = None
    residence_municipality: Name
    legal_status: LegalStatus
    office: Name | None = None
    legal_basis: LegalBasis | None = None

    def to_new_case(self) -> NewCase:
        """The plain value the service layer registers."""
        return NewCase(
            person=self.person.to_value(),
            residence_municipality=self.residence_municipality,
            legal_status=self.legal_status,
            bamf_file_number=self.bamf_file_number,
            office=self.office,
            legal_basis=self.legal_basis,
        )


class LanguageSkillIn(Contract):
    language: Annotated[str, Field(min_length=2, max_length=3)]
    level: Cefr

    def to_value(self) -> LanguageSkill:
        return LanguageSkill(self.language, self.level)


class WorkExperienceIn(Contract):
    occupation: Name
    years: Annotated[int, Field(ge=0, le=60)]

    def to_value(self) -> WorkExperience:
        return WorkExperience(self.occupation, self.years)


class VocationalTrainingIn(Contract):
    occupation: Name
    completed: bool
    country: Annotated[str, Field(pattern=r"^[A-Z]{2,3}$")] | None = None

    def to_value(self) -> VocationalTraining:
        return VocationalTraining(self.occupation, self.completed, self.country)


class EventIn(Contract):
    """Fields of the event, as the domain command takes them (lists become tuples)."""

    def to_fields(self) -> dict[str, Any]:
        return {
            name: _value(getattr(self, name)) for name in type(self).model_fields if name != "type"
        }


def _value(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_value(v) for v in value)
    if hasattr(value, "to_value"):
        return value.to_value()
    return value


class LegalStatusChangedIn(EventIn):
    type: Literal["LegalStatusChanged"]
    status: LegalStatus
    effective_on: date
    document: Text | None = None
    valid_until: date | None = None


class AsylumRecognizedIn(EventIn):
    type: Literal["AsylumRecognized"]
    protection: Protection
    decided_on: PastDate


class AsylumRejectedIn(EventIn):
    type: Literal["AsylumRejected"]
    kind: RejectionKind
    decided_on: PastDate


class CompetenceAssessedIn(EventIn):
    type: Literal["CompetenceAssessed"]
    instrument: Name
    assessed_on: PastDate
    german_level: Cefr | None = None
    languages: list[LanguageSkillIn] = []
    school_years: Annotated[int, Field(ge=0, le=25)] | None = None
    school_certificate: Text | None = None
    vocational_training: list[VocationalTrainingIn] = []
    work_experience: list[WorkExperienceIn] = []
    qualification_recognition: QualificationRecognition = QualificationRecognition.NOT_APPLICABLE
    support_need: bool = False
    notes: Annotated[str, Field(max_length=4000)] | None = None


class StepAgreedIn(EventIn):
    type: Literal["StepAgreed"]
    step_id: Ref
    description: Text
    plan: Plan
    due_on: date | None = None


class StepCompletedIn(EventIn):
    type: Literal["StepCompleted"]
    step_id: Ref
    completed_on: PastDate


class MeasureStartedIn(EventIn):
    type: Literal["MeasureStarted"]
    measure_id: Ref
    kind: MeasureKind
    provider: Name
    starts_on: date
    ends_on: date | None = None


class MeasureEndedIn(EventIn):
    type: Literal["MeasureEnded"]
    measure_id: Ref
    ended_on: PastDate
    outcome: MeasureOutcome
    certificate: Text | None = None


class PlacementMadeIn(EventIn):
    type: Literal["PlacementMade"]
    placement_id: Ref
    kind: PlacementKind
    employer: Name
    starts_on: date
    wage_subsidy: WageSubsidyIn | None = None
    offer_id: Ref | None = None


class PlacementEndedIn(EventIn):
    type: Literal["PlacementEnded"]
    placement_id: Ref
    ended_on: PastDate
    reason: Text


class MentorAssignedIn(EventIn):
    type: Literal["MentorAssigned"]
    volunteer_id: Ref
    organisation: Name
    assigned_on: date


class MentorReleasedIn(EventIn):
    type: Literal["MentorReleased"]
    volunteer_id: Ref
    released_on: date


class ConsentGivenIn(EventIn):
    type: Literal["ConsentGiven"]
    consent_id: Ref
    purpose: ConsentPurpose
    recipient: Name
    scope: Annotated[list[Annotated[str, Field(min_length=1, max_length=64)]], Field(min_length=1)]
    given_on: PastDate
    valid_until: date | None = Field(
        default=None, description="the last day the consent holds; not before given_on"
    )


class ConsentWithdrawnIn(EventIn):
    type: Literal["ConsentWithdrawn"]
    consent_id: Ref
    withdrawn_on: PastDate


class NoteRecordedIn(EventIn):
    type: Literal["NoteRecorded"]
    text: Annotated[str, Field(min_length=1, max_length=4000)]
    category: NoteCategory = NoteCategory.GENERAL


class ResidenceChangedIn(EventIn):
    type: Literal["ResidenceChanged"]
    municipality: Name
    moved_on: date


class CaseClosedIn(EventIn):
    type: Literal["CaseClosed"]
    reason: Text
    closed_on: PastDate


class CaseReopenedIn(EventIn):
    type: Literal["CaseReopened"]
    reason: Text


class CaseAssignedIn(EventIn):
    """Make an office and a caseworker responsible (team lead or admin of the holder)."""

    type: Literal["CaseAssigned"]
    office: Name | None = None
    caseworker: Ref | None = None


class FactCorrectedIn(EventIn):
    """Correct a field of a recorded entry (Art. 16 GDPR): the entry stays, the correction names
    it by ``corrects_version``. Fields: CaseRegistered ``given_name``, ``family_name``,
    ``birth_date`` (YYYY-MM-DD), ``nationality`` (ISO 3166 code or German name),
    ``registered_on``; CompetenceAssessed ``german_level`` (A1 to C2), ``assessed_on``."""

    type: Literal["FactCorrected"]
    corrects_version: Annotated[int, Field(ge=1)]
    field: Annotated[str, Field(min_length=1, max_length=64)]
    value: Annotated[str, Field(min_length=1, max_length=100)]
    reason: Text


StaffEvent = Annotated[
    LegalStatusChangedIn
    | AsylumRecognizedIn
    | AsylumRejectedIn
    | CompetenceAssessedIn
    | StepAgreedIn
    | StepCompletedIn
    | MeasureStartedIn
    | MeasureEndedIn
    | PlacementMadeIn
    | PlacementEndedIn
    | MentorAssignedIn
    | MentorReleasedIn
    | ConsentGivenIn
    | ConsentWithdrawnIn
    | NoteRecordedIn
    | ResidenceChangedIn
    | CaseClosedIn
    | CaseReopenedIn
    | CaseAssignedIn
    | FactCorrectedIn,
    Field(discriminator="type"),
]


class EraseCase(Contract):
    """``POST /cases/{case_id}/erasure``: the legal ground and the reason as the deciding member
    of staff states it (a reference to the request or decision, never personal data)."""

    ground: ErasureGround
    reason: Text


class Entry(BaseModel):
    # a history entry as the subject access report lists it; HistoryEntryOut adds the chain
    version: int
    type: str
    recorded_at: str
    occurred_on: str | None
    actor: str
    org: str
    summary: str
    data: dict[str, Any]


class HistoryEntryOut(Entry):
    hash: str
    prev_hash: str
    position: int
    withheld: list[str] = Field(
        default_factory=list,
        description="personal fields of this entry the caller's role may not see: their values"
        " read '[nicht freigegeben]' (docs/data-protection.md)",
    )


class HistoryOut(BaseModel):
    case_id: UUID
    version: int
    digest: str
    entries: list[HistoryEntryOut]
    filtered: bool = Field(
        default=False, description="true when the caller may only see part of the history"
    )


class CaseOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    case_id: UUID
    version: int
    digest: str
    holder: str
    legal_status: LegalStatus
    person: dict[str, Any]
    handover: dict[str, Any] | None
    withheld: list[str] = Field(
        default_factory=list,
        description="fields (dotted for nested ones) the caller's role may not see: their"
        " values read '[nicht freigegeben]'",
    )
