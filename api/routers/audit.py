"""Audit (issue 6): the global log, cases as they were, verification, the access log. Auditors
only; every case whose data an answer shows is logged as read (docs/audit.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query

from adapters.audit import timetravel as tt
from api.deps import PrincipalDep, ServicesDep
from api.problems import PROBLEMS
from api.schemas.audit import (
    AccessLogOut,
    AuditEventsOut,
    CaseStateOut,
    VerifyOut,
)
from projections.history import entry_for
from service_layer import audit

router = APIRouter(prefix="/audit", tags=["audit"], responses=PROBLEMS)


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
