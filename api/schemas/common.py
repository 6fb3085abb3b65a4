"""What every resource's contract shares: the strict input base, text limits, write answers,
pages."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any
from uuid import UUID

from pydantic import AfterValidator, AliasChoices, BaseModel, ConfigDict, Field, field_validator

from domain.policy import today_in_germany
from domain.values import WageSubsidy


def _not_in_future(value: date) -> date:
    if value > today_in_germany():
        raise ValueError("must not lie in the future")
    return value


Text = Annotated[str, Field(min_length=1, max_length=500)]
Name = Annotated[str, Field(min_length=1, max_length=100)]
Ref = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]
PastDate = Annotated[date, AfterValidator(_not_in_future)]


UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class Contract(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*")
    @classmethod
    def _storable_text(cls, value: Any) -> Any:
        """No NUL (PostgreSQL's text cannot hold it) and no lone surrogate (UTF-8 cannot) in any
        text of any input: stored text is the same on either backend (ADR 0005)."""
        for text in value if isinstance(value, list) else (value,):
            if isinstance(text, str) and UNSTORABLE.search(text):
                raise ValueError("must not contain NUL (U+0000) or a lone surrogate")
        return value


class WageSubsidyIn(Contract):
    percent: Annotated[int, Field(ge=1, le=100)]
    months: Annotated[int, Field(ge=1, le=60)]

    def to_value(self) -> WageSubsidy:
        return WageSubsidy(self.percent, self.months)


class Reason(Contract):
    reason: Text


class OptionalReason(Contract):
    reason: Text | None = None


class Recorded(BaseModel):
    # the write result names its aggregate ``id``; the case's answer calls it ``case_id``
    case_id: UUID = Field(validation_alias=AliasChoices("case_id", "id"))
    version: int
    position: int
    digest: str


class SavedOut(BaseModel):
    id: UUID
    version: int
    position: int


class Page(BaseModel):
    items: list[dict[str, Any]]
    next_cursor: str | None
