"""The HTTP contract of volunteer mentors (Paten) and their mentees."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, Field, model_validator

from api.schemas.common import Contract, Name, Ref
from api.schemas.matching import Shared
from service_layer.partners import NewVolunteer

Language = Annotated[str, Field(min_length=2, max_length=3, pattern=r"^[a-z]{2,3}$")]


class RegisterVolunteer(Contract):
    login: Annotated[Ref, Field(description="the volunteer's user id in your organisation")]
    name: Name
    languages: Annotated[list[Language], Field(max_length=20)] = []
    municipality: Name
    capacity: Annotated[int, Field(ge=1, le=50)] = 1

    def to_value(self) -> NewVolunteer:
        return NewVolunteer(
            login=self.login,
            name=self.name,
            languages=tuple(self.languages),
            municipality=self.municipality,
            capacity=self.capacity,
        )


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

    def changes(self) -> dict[str, Any]:
        """The fields given, as the domain takes them (tuples)."""
        changes = self.model_dump(exclude_unset=True)
        if changes.get("languages") is not None:
            changes["languages"] = tuple(changes["languages"])
        return changes


class AssignMentee(Contract):
    case_id: UUID
    assigned_on: date | None = None


class ReleaseMentee(Contract):
    released_on: date | None = None


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


class MenteeOut(BaseModel):
    case_id: UUID
    assigned_on: str | None
    fields: list[str]
    person: Shared


class MenteesOut(BaseModel):
    volunteer_id: UUID
    items: list[MenteeOut]


class VolunteerPage(BaseModel):
    items: list[VolunteerOut]
    next_cursor: str | None
