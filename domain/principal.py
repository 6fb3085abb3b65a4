"""Who a request acts for, as the identity provider's token says: a plain value (the token's
verification is an adapter, ``adapters/auth.py``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    CASEWORKER = "caseworker"
    TEAM_LEAD = "team_lead"
    AUDITOR = "auditor"
    VOLUNTEER = "volunteer"
    EMPLOYER = "employer"
    ADMIN = "admin"


STAFF_ROLES = frozenset({Role.CASEWORKER, Role.TEAM_LEAD, Role.ADMIN})


@dataclass(frozen=True)
class Principal:
    sub: str
    name: str
    org: str
    roles: frozenset[Role]
    expires_at: int | None = field(default=None, compare=False)  # the token's exp
    # the work address the provider vouches for (its ``email`` claim), for the daily digest
    email: str | None = field(default=None, compare=False)

    def has(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))
