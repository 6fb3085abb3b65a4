"""The HTTP contract of employers, offers, volunteers and matching: pydantic models of their own."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, Field, model_validator

from api.schemas import Contract, Name, Ref, Text, WageSubsidyIn
from domain import consent
from domain.values import Cefr, ContactPerson, PlacementKind

Language = Annotated[str, Field(min_length=2, max_length=3, pattern=r"^[a-z]{2,3}$")]
Municipalities = Annotated[list[Name], Field(min_length=1, max_length=30)]


class ContactIn(Contract):
    name: Name
    phone: Annotated[str, Field(max_length=40, pattern=r"^[0-9 +()/-]+$")] | None = None
    email: Annotated[str, Field(max_length=200, pattern=r"^[^@\s]+@[^@\s]+$")] | None = None

    def to_value(self) -> ContactPerson:
        return ContactPerson(self.name, self.phone, self.email)


class RegisterEmployer(Contract):
    account: Annotated[Ref, Field(description="the organisation id in the employer's own tokens")]
    name: Name
    sector: Name
    locations: Municipalities
    contact: ContactIn
    caring_org: Annotated[
        Ref | None, Field(description="who looks after the employer (default: your organisation)")
    ] = None
    interest: list[PlacementKind] = []


class ChangeEmployer(Contract):
    """The fields to change; those left out stay as they are."""

    name: Name | None = None
    sector: Name | None = None
    locations: Municipalities | None = None
    contact: ContactIn | None = None
    caring_org: Ref | None = None
    interest: list[PlacementKind] | None = None

    @model_validator(mode="after")
    def _something(self) -> ChangeEmployer:
        if not self.model_fields_set:
            raise ValueError("name at least one field to change")
        return self


class PublishOffer(Contract):
    employer_id: UUID
    kind: PlacementKind
    occupation: Name
    municipality: Name
    german_level: Annotated[Cefr | None, Field(description="German the post needs (CEFR)")] = None
    starts_on: date
    positions: Annotated[int, Field(ge=1, le=500)] = 1
    wage_subsidy_possible: bool = False


class PlaceCase(Contract):
    case_id: UUID
    starts_on: date
    placement_id: Annotated[Ref | None, Field(description="default: offer-<offer id>")] = None
    wage_subsidy: WageSubsidyIn | None = None


class RegisterVolunteer(Contract):
    login: Annotated[Ref, Field(description="the volunteer's user id in your organisation")]
    name: Name
    languages: Annotated[list[Language], Field(max_length=20)] = []
    municipality: Name
    capacity: Annotated[int, Field(ge=1, le=50)] = 1


class ChangeVolunteer(Contract):
    name: Name | None = None
    languages: Annotated[list[Language], Field(max_length=20)] | None = None
    municipality: Name | None = None
    capacity: Annotated[int, Field(ge=1, le=50)] | None = None

    @model_validator(mode="after")
    def _something(self) -> ChangeVolunteer:
        if not self.model_fields_set:
            raise ValueError("name at least one field to change")
        return self


class AssignMentee(Contract):
    case_id: UUID
    assigned_on: date | None = None


class ReleaseMentee(Contract):
    released_on: date | None = None


class OptionalReason(Contract):
    reason: Text | None = None


class SavedOut(BaseModel):
    id: UUID
    version: int
    position: int


class EmployerOut(BaseModel):
    employer_id: UUID
    account: str
    name: str
    sector: str
    locations: list[str]
    contact: dict[str, Any]
    caring_org: str
    interest: list[PlacementKind]
    active: bool
    version: int


class OfferOut(BaseModel):
    offer_id: UUID
    employer_id: UUID
    employer_name: str | None
    kind: PlacementKind
    occupation: str
    municipality: str
    german_level: Cefr | None
    starts_on: date
    positions: int
    free: int
    wage_subsidy_possible: bool
    state: str
    published_at: str
    version: int


class VolunteerOut(BaseModel):
    volunteer_id: UUID
    login: str
    name: str
    organisation: str
    languages: list[str]
    municipality: str
    capacity: int
    mentee_count: int
    state: str
    version: int


Shared = Annotated[
    dict[str, Any],
    Field(description="only the fields the caller may see: " + ", ".join(sorted(consent.FIELDS))),
]


class CandidateOut(BaseModel):
    case_id: UUID
    score: Annotated[int, Field(ge=0, le=100)]
    explanation: str
    reasons: list[str]
    permission: Annotated[str | None, Field(description="free | approval; null: not shared")]
    fields: list[str]
    person: Shared


class CandidatesOut(BaseModel):
    offer_id: UUID
    items: list[CandidateOut]


class OfferMatchOut(BaseModel):
    score: Annotated[int, Field(ge=0, le=100)]
    explanation: str
    reasons: list[str]
    permission: str | None
    offer: OfferOut


class CaseOffersOut(BaseModel):
    case_id: UUID
    items: list[OfferMatchOut]


class MenteeOut(BaseModel):
    case_id: UUID
    assigned_on: str | None
    fields: list[str]
    person: Shared


class MenteesOut(BaseModel):
    volunteer_id: UUID
    items: list[MenteeOut]


class EmployerPage(BaseModel):
    items: list[EmployerOut]
    next_cursor: str | None


class OfferPage(BaseModel):
    items: list[OfferOut]
    next_cursor: str | None


class VolunteerPage(BaseModel):
    items: list[VolunteerOut]
    next_cursor: str | None
