"""A case as it was: rebuilt from its stored events up to a version, up to a moment, or up to the
version a receiver acknowledged when it accepted the handover. Nothing comes from a read model or
a snapshot: the events are read, upcast and applied in order, as when the case was first built."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from adapters.audit.rows import case_rows
from adapters.database import is_unavailable
from adapters.keystore import opened
from domain.aggregates import case_events as ev
from domain.aggregates.case import Case
from domain.application import StaffelApplication
from domain.chain import to_canonical
from domain.disclosure import Audience
from domain.errors import CaseNotFoundError
from projections import withholding

# The case's decision state: what its rules look at (``Case``'s attributes).
STATE_FIELDS = (
    "holder", "office", "legal_status", "legal_basis", "residence_municipality", "closed",
    "switch_due", "switch_decided_on", "handover", "former_holders", "steps", "measures",
    "placements", "mentors", "consents",
)  # fmt: skip

Log = list[tuple[int, ev.CaseEvent]]  # (position, event) in version order


class TimeTravelError(ValueError):
    """The request names no state the log holds (a 422 naming ``field``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


class LogUnreadableError(RuntimeError):
    """The stored events do not replay (a broken chain: ``staffel audit verify`` names why)."""


AUDITOR = frozenset({Audience.AUDITOR})


@dataclass(frozen=True)
class CaseAsOf:
    case: Case
    log: Log  # the events up to the case's version, as the reader may see them
    accepted: ev.HandoverAccepted | None = None  # for ``as_accepted``: the acceptance
    withheld: dict[int, list[str]] = field(default_factory=dict)  # version -> fields withheld


def case_log(app: StaffelApplication, case_id: UUID) -> Log:
    rows = case_rows(app, case_id)
    if not rows:
        raise CaseNotFoundError(case_id)
    to_event = app.mapper.to_domain_event
    try:
        events = opened(
            app,
            [cast(ev.CaseEvent, to_event(StoredEvent(case_id, r.version, r.topic, r.state)))
             for r in rows],
        )  # fmt: skip
        return [(r.position, e) for r, e in zip(rows, events, strict=True)]
    except Exception as e:
        if is_unavailable(e):  # the key store did not answer: a 503, not a damaged log
            raise
        raise LogUnreadableError(f"an event of case {case_id} cannot be read: {e}") from e


def replay(log: Log) -> Case:
    case: Any = None
    try:
        for _, event in log:
            case = event.mutate(case)
    except Exception as e:
        raise LogUnreadableError(f"the events do not replay: {e}") from e
    assert isinstance(case, Case)
    return case


def version_at(log: Log, at: datetime) -> int:
    """The last version recorded at or before ``at`` (naive times are UTC)."""
    moment = at if at.tzinfo else at.replace(tzinfo=UTC)
    recorded = [e.originator_version for _, e in log if e.timestamp <= moment]
    if not recorded:
        first = log[0][1].timestamp.isoformat()
        raise TimeTravelError("at", f"before the case was registered ({first})")
    return recorded[-1]


def last_acceptance(log: Log) -> ev.HandoverAccepted:
    accepted = [e for _, e in log if isinstance(e, ev.HandoverAccepted)]
    if not accepted:
        raise TimeTravelError("as_accepted", "no handover of this case was ever accepted")
    return accepted[-1]


def case_as_of(
    app: StaffelApplication,
    case_id: UUID,
    *,
    version: int | None = None,
    at: datetime | None = None,
    as_accepted: bool = False,
    reader: frozenset[Audience] = AUDITOR,
) -> CaseAsOf:
    """The case at ``version``, at the moment ``at``, as accepted, or (none given) now; its
    events as ``reader`` (the audit: an auditor) may see them (``domain.disclosure``)."""
    if sum((version is not None, at is not None, as_accepted)) > 1:
        raise TimeTravelError("version", "give one of version, at and as_accepted")
    log = case_log(app, case_id)
    accepted = None
    if at is not None:
        version = version_at(log, at)
    elif as_accepted:
        accepted = last_acceptance(log)
        version = accepted.version
    head = log[-1][1].originator_version
    if version is not None and not 1 <= version <= head:
        raise TimeTravelError("version", f"the case has versions 1 to {head}")
    upto = [(p, e) for p, e in log if version is None or e.originator_version <= version]
    case = replay(upto)
    shown: Log = []
    withheld: dict[int, list[str]] = {}
    for position, event in upto:
        visible, names = withholding.case_event(event, reader)
        shown.append((position, visible))
        if names:
            withheld[event.originator_version] = names
    return CaseAsOf(case, shown, accepted, withheld)


def decision_state(case: Case) -> dict[str, Any]:
    return {name: to_canonical(getattr(case, name)) for name in STATE_FIELDS}
