"""Who may make whom responsible for a case (ADR 0017): a team lead or an admin of the holder
assigns any office and caseworker; a caseworker accepting a handover may take the case for
themselves. The case itself refuses anyone but its holder (``NotHolderError``)."""

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
    services: Services, principal: Principal, fields: dict[str, Any], *, accepting: bool = False
) -> None:
    """Refuse an assignment the caller may not make, or to an office not of its organisation."""
    require_assigner(principal, fields.get("caseworker"), accepting=accepting)
    office = fields.get("office")
    org = services.orgs.get(principal.org)
    if office is not None and (org is None or office not in org.offices):
        raise InvalidInputError(
            "office",
            "not an office of your organisation",
            f"'{office}' is not an office of '{principal.org}'",
        )
