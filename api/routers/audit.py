"""Audit (issue 6): the global log, cases as they were, verification, the access log. Auditors
only; every case whose data an answer shows is logged as read (docs/audit.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import BaseModel

from adapters.audit import timetravel as tt
from api.deps import PrincipalDep, ServicesDep
from api.problems import PROBLEMS
from api.schemas.cases import HistoryEntryOut
from projections.history import entry_for
from service_layer import audit

router = APIRouter(prefix="/audit", tags=["audit"], responses=PROBLEMS)


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


@router.get("/events", response_model=AuditEventsOut)
def audit_events(
    services: ServicesDep,
    principal: PrincipalDep,
    after: Annotated[int, Query(ge=0, description="the position to continue after")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    case_id: UUID | None = None,
    event_type: Annotated[str | None, Query(alias="type", max_length=100)] = None,
    org: Annotated[str | None, Query(max_length=100)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> AuditEventsOut:
    wanted = audit.EventFilter(case_id, event_type, org, since, until)
    events, next_after = audit.events(
        services, principal, wanted, after, limit, "GET /audit/events"
    )
    return AuditEventsOut.model_validate({"events": events, "next_after": next_after})


@router.get("/cases/{case_id}/state", response_model=CaseStateOut)
def case_state(
    case_id: UUID,
    services: ServicesDep,
    principal: PrincipalDep,
    version: Annotated[int | None, Query(ge=1)] = None,
    at: Annotated[datetime | None, Query(description="ISO 8601; naive times are UTC")] = None,
    as_accepted: Annotated[
        bool, Query(description="as the receiver acknowledged it in the last acceptance")
    ] = False,
) -> CaseStateOut:
    found = audit.case_as_of(
        services, principal, case_id, "GET /audit/cases/{id}/state",
        version=version, at=at, as_accepted=as_accepted,
    ).found  # fmt: skip
    return CaseStateOut.model_validate(state_body(found))


def state_body(found: tt.CaseAsOf) -> dict[str, Any]:
    case, last = found.case, found.log[-1][1]
    body: dict[str, Any] = {
        "case_id": case.id,
        "version": case.version,
        "digest": case.digest,
        "recorded_at": last.timestamp.isoformat(),
        "state": tt.decision_state(case),
        "events": [
            {**entry_out(entry_for(e, p)), "withheld": found.withheld.get(e.originator_version, [])}
            for p, e in found.log
        ],
    }
    if found.accepted is not None:
        a = found.accepted
        body["accepted"] = {
            "version": a.originator_version,
            "acknowledged_version": a.version,
            "digest": a.digest,
            "org": a.org,
            "recorded_at": a.timestamp.isoformat(),
        }
    return body


def entry_out(e: Any) -> dict[str, Any]:
    return {
        **{k: getattr(e, k) for k in ("version", "type", "actor", "org", "summary", "data")},
        **{k: getattr(e, k) for k in ("hash", "prev_hash", "position")},
        "recorded_at": e.recorded_at.isoformat(),
        "occurred_on": e.occurred_on.isoformat() if e.occurred_on else None,
    }


@router.get("/verify", response_model=VerifyOut)
def verify(
    services: ServicesDep,
    principal: PrincipalDep,
    case_id: Annotated[
        UUID | None, Query(description="only this case (default: everything)")
    ] = None,
) -> VerifyOut:
    """Recompute every case's hash chain from the stored events, and the access log's chain
    (the whole store can take a while: ``staffel audit verify`` shows progress)."""
    return VerifyOut.model_validate(audit.verify(services, principal, case_id))


@router.get("/access-log", response_model=AccessLogOut)
def access_log(
    services: ServicesDep,
    principal: PrincipalDep,
    case_id: UUID | None = None,
    actor: Annotated[str | None, Query(max_length=200)] = None,
    since: datetime | None = None,
    after: Annotated[int, Query(ge=0, description="the row id to continue after")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> AccessLogOut:
    """Who read which case when, oldest first."""
    entries, next_after = audit.access_entries(
        services, principal, case_id=case_id, actor=actor, since=since, after=after, limit=limit
    )
    return AccessLogOut.model_validate({"entries": entries, "next_after": next_after})
