"""The auditor's pages over the audit services (issue 6): the global log with filters, a case as
it was at any version or moment, verification with its report, and who read which case."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from adapters.audit import timetravel as tt
from api.web.core import ServicesDep, WebPrincipal, WebRoute, render
from api.web.forms import iso_day
from api.web.subject_access import LABELS
from api.web.text import BERLIN, EVENT_NAMES
from projections.history import entry_for
from service_layer import audit

READ_LABELS = LABELS["reads"]
router = APIRouter(prefix="/ui/audit", route_class=WebRoute, include_in_schema=False)
Text = Annotated[str | None, Query(max_length=100)]
PAGE = 100


def moment_of(text: str | None, end_of_day: bool = False) -> datetime | None:
    """``DD.MM.YYYY`` or ``DD.MM.YYYY HH:MM`` in German local time; None if empty or unreadable."""
    if not text:
        return None
    day, _, clock = text.strip().partition(" ")
    try:
        at = datetime.fromisoformat(
            f"{iso_day(day)}T{clock or ('23:59:59' if end_of_day else '00:00')}"
        )
    except ValueError:
        return None
    return at.replace(tzinfo=BERLIN).astimezone(UTC)


def as_uuid(text: str | None) -> UUID | None:
    try:
        return UUID(text) if text else None
    except ValueError:
        return None


@router.get("")
def event_log(
    request: Request,
    services: ServicesDep,
    principal: WebPrincipal,
    case_id: Text = None,
    type: Text = None,  # the query parameter's name
    org: Text = None,
    since: Text = None,
    until: Text = None,
    after: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    wanted = audit.EventFilter(
        as_uuid(case_id), type or None, org or None, moment_of(since), moment_of(until, True)
    )
    events, next_after = audit.events(services, principal, wanted, after, PAGE, "GET /ui/audit")
    kept = {
        k: v
        for k, v in {
            "case_id": case_id,
            "type": type,
            "org": org,
            "since": since,
            "until": until,
        }.items()
        if v
    }
    return render(
        request, "audit_log.html", title="Prüfung: Ereignisprotokoll", nav="audit",
        events=events, filters=kept, types=EVENT_NAMES,
        orgs=list(services.orgs),
        next_url=f"/ui/audit?{urlencode({**kept, 'after': next_after})}" if next_after else None,
        bad_case_id=bool(case_id) and as_uuid(case_id) is None,
    )  # fmt: skip


@router.get("/cases/{case_id}")
def case_as_of(
    case_id: UUID,
    request: Request,
    services: ServicesDep,
    principal: WebPrincipal,
    version: Annotated[int | None, Query(ge=1)] = None,
    at: Text = None,
    as_accepted: bool = False,
) -> Response:
    moment = moment_of(at)
    error = "Bitte einen Zeitpunkt als TT.MM.JJJJ HH:MM angeben." if at and moment is None else None
    shown = audit.case_as_of(
        services, principal, case_id, "GET /ui/audit/cases/{id}",
        version=None if moment or as_accepted else version,
        at=moment, as_accepted=as_accepted and not moment, or_latest=True,
    )  # fmt: skip
    if shown.refused is not None:
        error = {
            "at": "Zu diesem Zeitpunkt war der Fall noch nicht registriert.",
            "as_accepted": "Eine Übergabe dieses Falls wurde nie angenommen.",
        }.get(shown.refused, "Diesen Stand gibt es nicht.")
    found, head = shown.found, shown.head
    entries = [entry_for(e, p) for p, e in found.log]
    state: dict[str, Any] = tt.decision_state(found.case)
    return render(
        request, "audit_case.html", title="Prüfung: Fall zu einem Stand", nav="audit",
        case_id=str(case_id), case=found.case, state=state, entries=entries,
        accepted=found.accepted, head=head, error=error, at=at or "",
        person=entries[0].data.get("person") if entries else None,
    )  # fmt: skip


@router.get("/verify")
def verify(
    request: Request,
    services: ServicesDep,
    principal: WebPrincipal,
    case_id: Text = None,
) -> Response:
    one = as_uuid(case_id)
    result = audit.verify(services, principal, one, known=False)
    return render(
        request, "audit_verify.html", title="Prüfung: Integrität", nav="audit",
        result=result, case_id=str(one) if one else None,
        checked_at=datetime.now(UTC),
    )  # fmt: skip


@router.get("/access-log")
def access_log(
    request: Request,
    services: ServicesDep,
    principal: WebPrincipal,
    case_id: Text = None,
    actor: Text = None,
    since: Text = None,
    after: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    entries, next_after = audit.access_entries(
        services, principal, case_id=as_uuid(case_id), actor=actor or None,
        since=moment_of(since), after=after, limit=PAGE,
    )  # fmt: skip
    kept = {k: v for k, v in {"case_id": case_id, "actor": actor, "since": since}.items() if v}
    return render(
        request, "audit_access.html", title="Prüfung: Zugriffsprotokoll", nav="audit",
        entries=entries, filters=kept, reads=READ_LABELS,
        next_url=f"/ui/audit/access-log?{urlencode({**kept, 'after': next_after})}"
        if next_after is not None else None,
    )  # fmt: skip
