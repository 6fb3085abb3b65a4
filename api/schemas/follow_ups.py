"""The HTTP contract of follow-ups (Wiedervorlagen): written on a case, listed per caller."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.cases import EventIn
from api.schemas.common import Contract, Ref


class NewFollowUp(Contract):
    due_on: date
    text: Annotated[str, Field(min_length=1, max_length=200, description="short, German")]
    assignee: Annotated[Ref | None, Field(description="a caseworker's id; none: for the team")] = (
        None
    )


class FollowUpCreatedIn(EventIn):
    """The case page's form: the event ``POST /cases/{id}/follow-ups`` records."""

    type: Literal["FollowUpCreated"] = "FollowUpCreated"
    due_on: date
    text: Annotated[str, Field(min_length=1, max_length=200)]
    assignee: Ref | None = None


class Postpone(Contract):
    due_on: date


class FollowUpOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    case_id: str
    follow_up_id: str
    org: str
    assignee: str | None
    due_on: str
    text: str
    source: str = Field(description="manual, handover, step, measure or residence")
    state: str = Field(description="open, done, cancelled or closed")
    person: dict[str, Any] | None = None


class FollowUpPage(BaseModel):
    items: list[FollowUpOut]
    next_cursor: str | None
