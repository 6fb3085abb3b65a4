"""The HTTP contract of matching: ranked candidates for an offer, ranked offers for a person."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, Field

from api.schemas.offers import OfferOut
from domain import consent

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
