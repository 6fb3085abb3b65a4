"""Enumerations and value objects of a refugee case, and of the employers, offers and volunteers
around it.

Values are immutable: enums are ``StrEnum`` (stored as their value), collections are tuples.
Integers only, never floats, so the canonical form of an event is exact (ADR 0003).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from uuid import UUID


class LegalStatus(StrEnum):
    ASYLUM_SEEKER = "asylum_seeker"
    TOLERATED = "tolerated"
    TRAINING_TOLERATION = "training_toleration"
    EMPLOYMENT_TOLERATION = "employment_toleration"
    ASYLUM_ENTITLED = "asylum_entitled"
    REFUGEE = "refugee"
    SUBSIDIARY_PROTECTION = "subsidiary_protection"
    DEPORTATION_BAN = "deportation_ban"
    TEMPORARY_PROTECTION = "temporary_protection"
    OTHER_RESIDENCE_PERMIT = "other_residence_permit"


class Protection(StrEnum):
    ASYLUM_ENTITLED = "asylum_entitled"
    REFUGEE = "refugee"
    SUBSIDIARY_PROTECTION = "subsidiary_protection"
    DEPORTATION_BAN = "deportation_ban"


class RejectionKind(StrEnum):
    UNFOUNDED = "unfounded"
    MANIFESTLY_UNFOUNDED = "manifestly_unfounded"
    INADMISSIBLE = "inadmissible"


class LegalBasis(StrEnum):
    SGB_III = "sgb_iii"
    SGB_II = "sgb_ii"
    ASYLBLG = "asylblg"


class Cefr(StrEnum):
    A1 = "A1"
    A2 = "A2"
    B1 = "B1"
    B2 = "B2"
    C1 = "C1"
    C2 = "C2"


class QualificationRecognition(StrEnum):
    NONE = "none"
    APPLIED = "applied"
    PARTIAL = "partial"
    FULL = "full"
    NOT_APPLICABLE = "not_applicable"


class Plan(StrEnum):
    EINGLIEDERUNGSVEREINBARUNG = "eingliederungsvereinbarung"
    KOOPERATIONSPLAN = "kooperationsplan"


class MeasureKind(StrEnum):
    INTEGRATION_COURSE = "integration_course"
    JOB_LANGUAGE_COURSE = "job_language_course"
    QUALIFICATION = "qualification"
    EINSTIEGSQUALIFIZIERUNG = "einstiegsqualifizierung"
    EMPLOYER_MEASURE = "employer_measure"
    PERF = "perf"
    ASSISTED_TRAINING = "assisted_training"


class MeasureOutcome(StrEnum):
    COMPLETED = "completed"
    ABORTED = "aborted"


class PlacementKind(StrEnum):
    """The kind of post: of a placement on a case, and of an employer's offer."""

    INTERNSHIP = "internship"
    APPRENTICESHIP = "apprenticeship"
    JOB = "job"
    EINSTIEGSQUALIFIZIERUNG = "einstiegsqualifizierung"  # § 54a SGB III, 6 to 12 months


class ConsentPurpose(StrEnum):
    SHARE_WITH_EMPLOYER = "share_with_employer"
    SHARE_WITH_MENTOR = "share_with_mentor"


class OfferState(StrEnum):
    OPEN = "open"
    PAUSED = "paused"
    FILLED = "filled"
    WITHDRAWN = "withdrawn"


class VolunteerState(StrEnum):
    AVAILABLE = "available"
    PAUSED = "paused"
    LEFT = "left"


class NoteCategory(StrEnum):
    GENERAL = "general"
    COUNSELLING = "counselling"
    LANGUAGE = "language"
    WORK = "work"
    FAMILY = "family"
    HEALTH = "health"


@dataclass(frozen=True)
class Person:
    """Personal data of the case's subject: the separable part of ``CaseRegistered``."""

    given_name: str
    family_name: str
    birth_date: date
    nationality: str
    languages: tuple[str, ...] = ()


@dataclass(frozen=True)
class LanguageSkill:
    language: str
    level: Cefr


@dataclass(frozen=True)
class WorkExperience:
    occupation: str
    years: int


@dataclass(frozen=True)
class VocationalTraining:
    occupation: str
    completed: bool
    country: str | None = None


@dataclass(frozen=True)
class WageSubsidy:
    """Eingliederungszuschuss: share of the wage in percent, for a number of months."""

    percent: int
    months: int


@dataclass(frozen=True)
class ContactPerson:
    """An employer's contact for placements."""

    name: str
    phone: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class OpenHandover:
    """The case's one open handover offer, as the aggregate needs it to decide."""

    to_org: str
    legal_basis: LegalBasis
    offered_by: str
    offered_version: int


@dataclass(frozen=True)
class Sealed:
    """A personal value as stored: encrypted with its case's own data key (ADR 0008).

    ``box`` is base64 of a 12-byte nonce and the AES-256-GCM ciphertext of the value's stored
    (transcoded) form; the associated data binds it to its case, event type and field, so a box
    cannot be moved elsewhere. The hash chain covers the box, never the plaintext: deleting the
    key erases the value and the chain still verifies."""

    box: str


class Redacted(StrEnum):
    """What a reader sees in place of a personal value it cannot or may not read."""

    ERASED = "[gelöscht]"  # the case's key is deleted (PersonalDataErased)
    WITHHELD = "[nicht freigegeben]"  # the reader's role or purpose does not cover the field


class ErasureGround(StrEnum):
    """The legal ground an erasure rests on."""

    RETENTION_EXPIRED = "retention_expired"  # Art. 17(1)(a) GDPR: no longer needed
    SUBJECT_REQUEST = "subject_request"  # Art. 17 DSGVO with § 84 SGB X
    UNLAWFULLY_PROCESSED = "unlawfully_processed"  # Art. 17 Abs. 1 lit. d DSGVO
    CONSENT_WITHDRAWN = "consent_withdrawn"  # Art. 17 Abs. 1 lit. b DSGVO


VALUE_OBJECTS: tuple[type, ...] = (
    Sealed,
    Person,
    LanguageSkill,
    WorkExperience,
    VocationalTraining,
    WageSubsidy,
    OpenHandover,
    ContactPerson,
)
ENUMS: tuple[type[StrEnum], ...] = (
    LegalStatus,
    Protection,
    RejectionKind,
    LegalBasis,
    Cefr,
    QualificationRecognition,
    Plan,
    MeasureKind,
    MeasureOutcome,
    PlacementKind,
    ConsentPurpose,
    NoteCategory,
    ErasureGround,
    OfferState,
    VolunteerState,
)


def as_uuid(value: object) -> UUID | None:
    """A reference that names a record of this store (a UUID), or None (an outside reference)."""
    try:
        return UUID(str(value)) if value is not None else None
    except ValueError:
        return None
