"""The HTTP contract of employers."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, Field, model_validator

from api.schemas.common import Contract, Name, Ref
from domain.values import ContactPerson, PlacementKind
from service_layer.partners import NewEmployer

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

    def to_value(self) -> NewEmployer:
        return NewEmployer(
            account=self.account,
            name=self.name,
            sector=self.sector,
            locations=tuple(self.locations),
            contact=self.contact.to_value(),
            caring_org=self.caring_org,
            interest=tuple(self.interest),
        )


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

    def changes(self) -> dict[str, Any]:
        """The fields given, as the domain takes them (tuples, a ``ContactPerson``)."""
        changes = self.model_dump(exclude_unset=True)
        if self.contact is not None:
            changes["contact"] = self.contact.to_value()
        for name in ("locations", "interest"):
            if changes.get(name) is not None:
                changes[name] = tuple(changes[name])
        return changes


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


class EmployerPage(BaseModel):
    items: list[EmployerOut]
    next_cursor: str | None
