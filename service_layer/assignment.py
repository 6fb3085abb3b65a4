"""Who may make whom responsible for a case (ADR 0017): a team lead or an admin of the holder
assigns any office and caseworker; a caseworker accepting a handover may take the case for
themselves. The caseworker must be a member of the caller's organisation in the staff directory
(ADR 0015: everyone who signed in or called the API within its keeping time). The case itself
refuses anyone but its holder (``NotHolderError``)."""

from __future__ import annotations

from typing import Any

from domain.principal import Principal, Role
from service_layer import access
from service_layer.errors import InvalidInputError
from service_layer.ports import Services


def require_assigner(principal: Principal, caseworker: str | None, *, accepting: bool) -> None:
    if principal.has(Role.TEAM_LEAD, Role.ADMIN):
        return
    if accepting and principal.has(Role.CASEWORKER) and caseworker == principal.sub:
        return
    raise access.forbidden(
        f"role(s) {sorted(principal.roles)} may not assign a case: a team lead or admin of the"
        " holder assigns; a caseworker may take a case only for themselves when accepting it"
    )


def check_assignment(
    services: Services,
    principal: Principal,
    fields: dict[str, Any],
    *,
    accepting: bool = False,
    holds: bool = True,
) -> None:
    """Refuse an assignment the caller may not make, to an office not of its organisation, or to
    a caseworker the staff directory does not know as one of its members. ``holds``: whether the
    caller's organisation holds the case; if not, the case refuses it (403) before anyone asks
    the directory."""
    caseworker = fields.get("caseworker")
    require_assigner(principal, caseworker, accepting=accepting)
    known = caseworker is None or not holds or _is_member(services, principal.org, caseworker)
    if not known:
        raise InvalidInputError(
            "caseworker",
            "not a member of your organisation's staff",
            f"'{caseworker}' is not in the staff directory of '{principal.org}'",
        )
    office = fields.get("office")
    org = services.orgs.get(principal.org)
    if office is not None and (org is None or office not in org.offices):
        raise InvalidInputError(
            "office",
            "not an office of your organisation",
            f"'{office}' is not an office of '{principal.org}'",
        )


def _is_member(services: Services, org: str, actor: str) -> bool:
    """Whether the directory knows ``actor`` in ``org``; read afresh when this process does not
    know it yet (a colleague who signed in at another process a moment ago)."""
    entry = services.directory.get(actor)
    if entry is not None and entry.org == org:
        return True
    return any(e.actor == actor for e in services.directory.members(org))
