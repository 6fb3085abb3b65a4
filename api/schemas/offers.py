"""The HTTP contract of offers and placing a person on one."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, Field

from api.schemas.common import Contract, Name, Ref, WageSubsidyIn
from domain.values import Cefr, PlacementKind
from service_layer.matching import Placement
from service_layer.partners import NewOffer


class PublishOffer(Contract):
    employer_id: UUID
    kind: PlacementKind
    occupation: Name
    municipality: Name
    german_level: Annotated[Cefr | None, Field(description="German the post needs (CEFR)")] = None
    starts_on: date
    positions: Annotated[int, Field(ge=1, le=500)] = 1
    wage_subsidy_possible: bool = False

    def to_value(self) -> NewOffer:
        return NewOffer(**dict(self))


class PlaceCase(Contract):
    case_id: UUID
    starts_on: date
    placement_id: Annotated[Ref | None, Field(description="default: offer-<offer id>")] = None
    wage_subsidy: WageSubsidyIn | None = None

    def to_value(self) -> Placement:
        return Placement(
            case_id=self.case_id,
            starts_on=self.starts_on,
            placement_id=self.placement_id,
            wage_subsidy=self.wage_subsidy.to_value() if self.wage_subsidy else None,
        )


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


class OfferPage(BaseModel):
    items: list[OfferOut]
    next_cursor: str | None
