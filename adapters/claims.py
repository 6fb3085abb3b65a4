"""Claims mapping: where a verified token (or ID token) carries the organisation, the roles, the
display name and the work e-mail address (ADR 0015, ADR 0018). Paths are dotted
(``realm_access.roles``) and configured in the settings (``STAFFEL_OIDC_ORG_CLAIM``,
``STAFFEL_OIDC_ROLES_CLAIM``, ``STAFFEL_OIDC_NAME_CLAIM``, ``STAFFEL_OIDC_EMAIL_CLAIM``), so
Keycloak's and Entra ID's tokens need no translation in front of Staffel."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from domain.principal import Principal, Role

MAX_CLAIM = 256  # characters of sub, org and name
# one address of the usual form (local@domain.tld), at most 254 characters (RFC 5321)
EMAIL = re.compile(r"[^@\s<>,;\"]{1,64}@[A-Za-z0-9.-]{1,189}\.[A-Za-z]{2,63}")


class ClaimError(ValueError):
    """A token that does not say who, for whom or in which role: refused with this message."""


@dataclass(frozen=True)
class ClaimsMapping:
    org: str = "org"
    roles: str = "roles"
    name: str = "name"
    email: str = "email"

    def principal(self, claims: dict[str, Any], expires_at: int | None) -> Principal:
        sub = text(claims.get("sub"), "sub")
        org = self._org(claim_at(claims, self.org))
        roles = self._roles(claim_at(claims, self.roles))
        name_value = claim_at(claims, self.name)
        name = text(name_value, self.name) if name_value is not None else sub
        email = email_of(claim_at(claims, self.email), claims.get("email_verified"))
        return Principal(sub, name, org, roles, expires_at, email)

    def _org(self, value: Any) -> str:
        if value is None:
            raise ClaimError(f"the token carries no organisation (claim {self.org})")
        if isinstance(value, list) and len(value) == 1:  # a Keycloak group: ["/agentur-x"]
            value = value[0].lstrip("/") if isinstance(value[0], str) else value[0]
        return text(value, self.org)

    def _roles(self, value: Any) -> frozenset[Role]:
        if value is None:
            raise ClaimError(f"the token carries no roles (claim {self.roles})")
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(r, str) for r in value):
            raise ClaimError(f"claim {self.roles} must be a list of role names")
        known = {r.value for r in Role}
        # a provider's own roles (offline_access, default-roles-...) are not Staffel's business
        roles = frozenset(Role(r) for r in value if r in known)
        if value and not roles:  # none at all: signed in, refused by each page (403, "no role")
            raise ClaimError(
                f"the token carries no Staffel role in claim {self.roles}"
                f" (one of {', '.join(sorted(known))})"
            )
        return roles


def claim_at(claims: dict[str, Any], path: str) -> Any:
    """The value at a dotted path (``realm_access.roles``), None where any step is missing.
    A claim whose own name contains dots (Entra ID's ``extn.org``) is found by its full name."""
    if path in claims:
        return claims[path]
    value: Any = claims
    for step in path.split("."):
        if not isinstance(value, dict) or step not in value:
            return None
        value = value[step]
    return value


def text(value: Any, name: str) -> str:
    """Printable text (no NUL or other control or separator characters but the space) of 1 to
    ``MAX_CLAIM`` characters: it is stored as the actor of events and shown on pages."""
    if not isinstance(value, str) or not 0 < len(value) <= MAX_CLAIM or not value.isprintable():
        raise ClaimError(f"claim {name} must be printable text of 1 to {MAX_CLAIM} characters")
    return value


def email_of(value: Any, verified: Any = None) -> str | None:
    """The work address, or None where the claim is missing, no single plain address, or marked
    unverified by the provider (``email_verified: false``: an address the user typed in, where
    the digest must not go): a bad address costs the user the digest, never the sign-in."""
    if verified is False:
        return None
    if isinstance(value, str) and EMAIL.fullmatch(value.strip()):
        return value.strip()
    return None
