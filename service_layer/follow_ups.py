"""Follow-ups (Wiedervorlagen, ADR 0017): written on a case as its events (create, done,
postponed, cancelled), listed for the caller and its team from the follow-up view; the Team page
of a team lead (incoming handovers, cases without a caseworker, caseload per caseworker)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from adapters.views.queries import Page
from domain import follow_ups as fu
from domain.principal import Principal, Role
from domain.values import Redacted
from domain.writes import IdempotencyKey, Recorded
from service_layer import access, cases
from service_layer.ports import Services

ASSIGNEES = ("me", "team", "all")
STATES = ("open", "done", "cancelled", "closed", "all")


def create(
    services: Services,
    principal: Principal,
    case_id: UUID,
    *,
    due_on: date,
    text: str,
    assignee: str | None,
    expected: int | None = None,
    idem: IdempotencyKey | None = None,
) -> Recorded:
    """A follow-up by hand; its id is ``w-<version>`` (the version of the returned write)."""
    fields = {"due_on": due_on, "text": text, "assignee": assignee}
    return cases.record(services, principal, case_id, "FollowUpCreated", fields, expected, idem)


def settle(
    services: Services,
    principal: Principal,
    case_id: UUID,
    follow_up_id: str,
    how: str,
    *,
    due_on: date | None = None,
    expected: int | None = None,
    idem: IdempotencyKey | None = None,
) -> Recorded:
    """``done``, ``postponed`` (to ``due_on``) or ``cancelled``."""
    fields: dict[str, Any] = {"follow_up_id": follow_up_id}
    if how == "done":
        event_type = "FollowUpCompleted"
        fields["completed_on"] = services.cases.today()
    elif how == "postponed":
        event_type = "FollowUpPostponed"
        fields["due_on"] = due_on
    else:
        event_type = "FollowUpCancelled"
    return cases.record(services, principal, case_id, event_type, fields, expected, idem)


def listing(
    services: Services,
    principal: Principal,
    endpoint: str,
    *,
    assignee: str = "all",
    state: str = "open",
    limit: int = 50,
    cursor: str | None = None,
) -> Page:
    """The caller's (``me``), its team's (``team``) or both (``all``) follow-ups, due first, each
    with the person where the caller may read the case (a logged read)."""
    access.require_staff(principal)
    page = services.queries.follow_ups(
        org=principal.org,
        assignee=principal.sub if assignee in ("me", "all") else None,
        team=assignee in ("team", "all"),
        state=None if state == "all" else state,
        limit=limit,
        cursor=cursor,
    )
    shown = cases.with_people(services, principal, page.items, endpoint, also=step_agreed)
    return Page(shown, page.next_cursor)


def step_agreed(item: dict[str, Any], summary: dict[str, Any]) -> dict[str, Any]:
    """A step's follow-up with the step as agreed (``step``: its description), where the reader
    may see it: the follow-ups view keeps no personal data, so its text names only the step's
    id ("Vereinbarter Schritt s1 fällig"), which tells a caseworker nothing."""
    if item.get("source") != "step":
        return {}
    for step in summary.get("steps", []):
        if fu.step(step["step_id"]) == item["follow_up_id"]:
            described = step.get("description")
            if isinstance(described, str) and described not in {r.value for r in Redacted}:
                return {"step": described}
    return {}


def open_count(services: Services, principal: Principal) -> int:
    """How many open follow-ups the caller and its team have (the start page's figure)."""
    if not access.is_staff(principal):
        return 0
    count, cursor = 0, None
    while True:
        page = services.queries.follow_ups(
            org=principal.org, assignee=principal.sub, team=True, limit=200, cursor=cursor
        )
        count += len(page.items)
        if page.next_cursor is None:
            return count
        cursor = page.next_cursor


def of_case(services: Services, principal: Principal, case_id: UUID) -> list[dict[str, Any]]:
    """The caller's organisation's follow-ups on a case it may read in full."""
    return services.queries.case_follow_ups(str(case_id), principal.org)


@dataclass(frozen=True)
class Team:
    """What a team lead sees on the Team page."""

    incoming: list[dict[str, Any]]
    unassigned: list[dict[str, Any]]
    caseload: dict[str, int]
    colleagues: tuple[str, ...] = ()  # the organisation's staff the directory knows (ADR 0015)

    @property
    def caseworkers(self) -> list[str]:
        """Whom a case can be assigned to: the organisation's staff in the directory (an
        assignment to anyone else is refused, ``assignment.check_assignment``)."""
        return list(self.colleagues)


def require_team_lead(principal: Principal) -> None:
    access.require(principal, Role.TEAM_LEAD, Role.ADMIN, doing="see the team's work")


def team(services: Services, principal: Principal, endpoint: str) -> Team:
    require_team_lead(principal)
    incoming = services.queries.handovers(
        org=principal.org, direction="incoming", state="offered", limit=200
    ).items
    unassigned = services.queries.unassigned(holder=principal.org)
    cases.log_reads(services, principal, [d["case_id"] for d in unassigned], endpoint)
    caseload = services.queries.statistics(org=principal.org)["by_caseworker"]
    return Team(
        incoming=cases.with_people(services, principal, incoming, endpoint),
        unassigned=[cases.disclosed(principal, d) for d in unassigned],
        caseload=caseload,
        colleagues=tuple(e.actor for e in services.directory.members(principal.org)),
    )
