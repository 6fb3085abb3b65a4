"""What the audit endpoints answer: stored events, a case as of a version, checks, reads."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pydantic import BaseModel

from api.schemas.cases import HistoryEntryOut


class AuditEvent(BaseModel):
    position: int
    case_id: UUID
    version: int
    type: str
    recorded_at: str | None
    actor: str | None
    org: str | None
    hash: str | None
    prev_hash: str | None
    # as stored, but each personal value as an auditor may see it: opened, "[nicht freigegeben]"
    # (withheld, e.g. a health note) or "[gelöscht]" (the case's key is erased); None: the stored
    # event cannot be read (see /audit/verify)
    data: dict[str, Any] | None
    withheld: list[str] = []  # the personal fields of ``data`` an auditor may not see
    # the personal fields stored sealed: in the store (and the export) they are ciphertext
    sealed: list[str] = []


class AuditEventsOut(BaseModel):
    events: list[AuditEvent]
    next_after: int | None


class AcceptedOut(BaseModel):
    version: int  # the HandoverAccepted event's own version
    acknowledged_version: int
    digest: str
    org: str
    recorded_at: str


class CaseStateOut(BaseModel):
    case_id: UUID
    version: int
    digest: str
    recorded_at: str
    state: dict[str, Any]
    events: list[HistoryEntryOut]
    accepted: AcceptedOut | None = None


class ProblemOut(BaseModel):
    case_id: str | None
    version: int | None
    kind: str
    detail: str
    row: int | None = None


class VerifyOut(BaseModel):
    ok: bool
    cases_checked: int
    events_checked: int
    position: int
    problems: list[ProblemOut]


class AccessEntry(BaseModel):
    id: int
    at: str
    actor: str
    org: str
    case_id: str
    endpoint: str
    prev_hash: str | None
    hash: str | None


class AccessLogOut(BaseModel):
    entries: list[AccessEntry]
    next_after: int | None
