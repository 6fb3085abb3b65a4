"""The subject access report (Art. 15 GDPR) as the API answers it."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pydantic import BaseModel

from api.schemas.cases import Entry


class OrgRef(BaseModel):
    org: str
    org_name: str | None


class Mentoring(OrgRef):
    volunteer_id: str
    volunteer_name: str | None
    assigned_on: str
    released_on: str | None


class Read(OrgRef):
    at: str
    actor: str
    endpoint: str


class Handover(BaseModel):
    from_org: str
    from_name: str | None
    to_org: str
    to_name: str | None
    legal_basis: str
    reason: str
    state: str
    offered_at: str
    decided_at: str | None
    effective_on: str | None


class Bundle(BaseModel):
    kind: str  # bundle (the case's events), receipt (an answer to a peer's offer) or answer
    version: int  # (the events up to our decision on a peer's receipt, each time it was sent)
    as_of: str | None
    peer: str
    peer_name: str | None
    state: str
    attempts: int
    sent_at: str | None = None  # an answer: when it was sent
    channel: str | None = None  # outbox, http (a peer's receipt) or file


class Consent(BaseModel):
    consent_id: str
    purpose: str
    recipient: str
    recipient_name: str | None
    scope: list[str]
    given_on: str
    valid_until: str | None = None
    withdrawn_on: str | None


class Correction(BaseModel):
    version: int
    recorded_at: str
    org: str
    org_name: str | None
    corrects_version: int
    field: str
    field_label: str
    value: str
    reason: str


class Placement(BaseModel):
    placement_id: str
    employer: str
    kind: str
    offer_id: str | None
    starts_on: str
    ended_on: str | None


class Shares(BaseModel):
    handovers: list[Handover]
    bundles: list[Bundle]
    consents: list[Consent]
    mentors: list[Mentoring]
    employers: list[Placement]


class Actor(BaseModel):
    actor: str
    org: str


class SubjectAccessReport(BaseModel):
    case_id: UUID
    generated_at: str
    generated_by: Actor
    controller: OrgRef
    erased: bool
    erased_on: str | None
    person: dict[str, Any]
    purposes: list[str]
    summary: dict[str, Any]
    history: list[Entry]
    sources: list[OrgRef]
    corrections: list[Correction] = []
    shared_with: Shares
    reads: list[Read]
