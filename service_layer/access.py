"""Who may read and write what: cases, and the partners around them (employers, offers,
volunteers). Every denial is a ``ForbiddenError`` (or a ``NotFoundError`` where even the existence
of a case is not the reader's to know) that says why.

Cases: the holder reads in full, former holders and offered organisations what the disclosure
table allows (``read_scope``). Partners: staff (caseworkers, team leads, admins) and auditors read
the directories; the domain decides who changes a record (the employer or the organisation
looking after it; a volunteer's welfare organisation). An employer (role ``employer``, ``org`` =
its account or its id) sees only itself and its own offers; a volunteer (role ``volunteer``) only
itself and the people it mentors."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from domain.aggregates.employer import Employer
from domain.aggregates.volunteer import Volunteer
from domain.disclosure import may_request_subject_access
from domain.principal import STAFF_ROLES, Principal, Role
from service_layer.errors import ForbiddenError, NotFoundError


def forbidden(why: str) -> ForbiddenError:
    return ForbiddenError(why)


def case_not_found(case_id: object) -> NotFoundError:
    """The answer for a case that does not exist, and for one the caller may not know of."""
    return NotFoundError("case", case_id)


def require_case_reader(principal: Principal) -> None:
    """Only staff and auditors read cases: refused before the case is looked up, so the answer
    is the same whether it exists or not."""
    if not principal.has(*STAFF_ROLES, Role.AUDITOR):
        raise forbidden("volunteers and employers see people only through their consent")


def knows_case(org: str, holder: str, former_holders: Any, offered_to: Any) -> bool:
    """Whether ``org`` may learn that the case exists: it holds it, held it, or was offered it
    (``offered_to``: the organisations offered it, ever). Any other organisation gets the answer
    for a case that does not exist."""
    return org == holder or org in former_holders or org in offered_to


def require_auditor(principal: Principal) -> None:
    if not principal.has(Role.AUDITOR):
        raise forbidden(f"role(s) {sorted(principal.roles)} may not use the audit endpoints")


def require_staff(principal: Principal) -> None:
    """Only caseworkers, team leads and admins record events. Auditors never write, also with a
    staff role beside the auditor's: the role gate refuses every write first (``api/guard.py``)."""
    if not principal.has(*STAFF_ROLES):
        raise forbidden(
            f"role(s) {sorted(principal.roles)} may not record case events"
            " (caseworker, team_lead or admin needed)"
        )


def require_erasure_right(principal: Principal) -> None:
    """Erasure is decided by a team lead or an admin of the holder (the case checks the holder)."""
    if not principal.has(Role.TEAM_LEAD, Role.ADMIN):
        raise forbidden(
            f"role(s) {sorted(principal.roles)} may not erase personal data"
            " (team_lead or admin of the holding organisation needed)"
        )


def may_write(principal: Principal) -> bool:
    """Whether a page offers the caller forms that write (the role gate decides on the write)."""
    return principal.has(*STAFF_ROLES) and not principal.has(Role.AUDITOR)


def require_subject_access_right(principal: Principal, summary: dict[str, Any]) -> None:
    """The subject access report (Art. 15 GDPR) is prepared by a team lead or an admin of the
    holder, or by an auditor (the data-protection officer): ``domain.disclosure``."""
    if not may_request_subject_access(principal.roles, principal.org, summary["holder"]):
        raise forbidden(
            f"'{principal.sub}' ({principal.org}, role(s) {sorted(principal.roles)}) may not"
            " prepare a subject access report: team_lead or admin of the holding organisation,"
            " or auditor needed"
        )


def read_scope(principal: Principal, summary: dict[str, Any]) -> str:
    """``full``, ``own_events`` (a former holder: what it recorded itself), a 403 for a role that
    reads no case, or for any other organisation the 404 of a case that does not exist."""
    if principal.has(Role.AUDITOR):
        return "full"
    require_case_reader(principal)
    if summary["holder"] == principal.org:
        return "full"
    open_offer = [h for h in summary["handovers"] if h["state"] == "offered"]
    if open_offer and open_offer[-1]["to_org"] == principal.org:
        return "full"
    if principal.org in summary["former_holders"]:
        return "own_events"
    offered = {h["to_org"] for h in summary["handovers"]}
    if knows_case(principal.org, summary["holder"], (), offered):  # offered once, no more
        raise forbidden(f"'{principal.org}' neither holds this case nor is it offered to it")
    raise case_not_found(summary["case_id"])


def list_scope(principal: Principal, holder: str | None) -> str:
    """The holder a caller may list: its own organisation, or any for auditors."""
    if principal.has(Role.AUDITOR):
        return holder or ""
    if not principal.has(*STAFF_ROLES):
        raise forbidden("volunteers and employers cannot list cases")
    if holder not in (None, principal.org):
        raise forbidden(f"'{principal.org}' may only list its own cases")
    return principal.org


# -- partners: employers, offers, volunteers -----------------------------------------------

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
