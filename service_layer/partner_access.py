"""Who may see and change employers, offers and volunteers. Every denial is a ``ForbiddenError``
that says why.

Staff (caseworkers, team leads, admins) and auditors read the directories; the domain decides who
changes a record (the employer or the organisation looking after it; a volunteer's welfare
organisation). An employer (role ``employer``, ``org`` = its account or its id) sees only itself
and its own offers; a volunteer (role ``volunteer``) only itself and the people it mentors.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from domain.aggregates.employer import Employer
from domain.aggregates.volunteer import Volunteer
from domain.principal import STAFF_ROLES, Principal, Role
from service_layer.errors import ForbiddenError

READERS = (*STAFF_ROLES, Role.AUDITOR)


def is_staff(principal: Principal) -> bool:
    return principal.has(*STAFF_ROLES)


def employer_of(principal: Principal) -> UUID | None:
    """The employer a principal with the role ``employer`` acts for, else None."""
    if not principal.has(Role.EMPLOYER):
        return None
    try:
        return UUID(principal.org)
    except ValueError:
        return Employer.create_id(principal.org)


def volunteer_of(principal: Principal) -> UUID | None:
    """The volunteer a principal with the role ``volunteer`` is, else None."""
    if not principal.has(Role.VOLUNTEER):
        return None
    return Volunteer.create_id(principal.org, principal.sub)


def employer_recipients(employer: dict[str, Any]) -> list[str]:
    """The names a consent may give this employer as its recipient."""
    return [employer["account"], employer["employer_id"]]


def require(principal: Principal, *roles: Role, doing: str) -> None:
    if not principal.has(*roles):
        raise ForbiddenError(
            f"role(s) {sorted(principal.roles)} may not {doing}"
            f" ({' or '.join(sorted(r.value for r in roles))} needed)"
        )


def require_reader_or_self(principal: Principal, own: UUID | None, record_id: str) -> None:
    """Staff and auditors read any record; an employer or volunteer only its own."""
    if principal.has(*READERS):
        return
    if own is None or str(own) != record_id:
        raise ForbiddenError(f"'{principal.sub}' ({principal.org}) may see only its own record")


def offer_scope(principal: Principal) -> str | None:
    """The employer whose offers an employer may list and read; None: any (staff, auditors,
    volunteers, who help their mentees find a post)."""
    own = employer_of(principal)
    if own is not None and not principal.has(*READERS):
        return str(own)
    return None


def require_offer_reader(principal: Principal, offer: dict[str, Any]) -> None:
    scope = offer_scope(principal)
    if scope is not None and offer["employer_id"] != scope:
        raise ForbiddenError(f"'{principal.org}' may see only its own offers")
