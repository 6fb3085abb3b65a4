"""Bearer tokens (JWT): verifying those of an agency's identity provider or minting demo ones.

HS256 with a shared secret (``STAFFEL_JWT_SECRET``; in demo mode a secret kept in the data
directory), or RS256/ES256/EdDSA with a public key file. Unsigned (``alg: none``), expired,
wrongly signed and malformed tokens are refused.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import jwt

from adapters.federation.signing import create_secret_file


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

    def has(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))


class TokenError(Exception):
    pass


class TokenVerifier:
    ALGORITHMS_BY_KEY = {"secret": ["HS256"], "public": ["RS256", "ES256", "EdDSA"]}

    def __init__(self, *, secret: str | None = None, public_key: str | None = None) -> None:
        if not (secret or public_key):
            raise ValueError("a JWT secret or a public key is needed")
        self.key = public_key or secret or ""
        self.algorithms = self.ALGORITHMS_BY_KEY["public" if public_key else "secret"]

    def verify(self, token: str) -> Principal:
        try:
            claims = jwt.decode(
                token,
                self.key,
                algorithms=self.algorithms,
                options={"require": ["sub", "org", "roles", "exp"]},
            )
        except jwt.ExpiredSignatureError as e:
            raise TokenError("the token has expired") from e
        except jwt.InvalidTokenError as e:
            raise TokenError(f"the token is not valid: {e}") from e
        roles = claims["roles"]
        if isinstance(roles, str):
            roles = [roles]
        try:
            parsed = frozenset(Role(r) for r in roles)
        except (ValueError, TypeError) as e:
            raise TokenError(f"unknown role in token: {roles}") from e
        if not isinstance(claims["sub"], str) or not isinstance(claims["org"], str):
            raise TokenError("claims sub and org must be strings")
        return Principal(
            claims["sub"], str(claims.get("name", claims["sub"])), claims["org"], parsed
        )


def mint(
    secret: str,
    *,
    sub: str,
    org: str,
    roles: list[str],
    name: str | None = None,
    ttl: int = 8 * 3600,
) -> str:
    now = int(time.time())
    claims = {
        "sub": sub,
        "name": name or sub,
        "org": org,
        "roles": roles,
        "iat": now,
        "exp": now + ttl,
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def demo_secret(data_dir: Path) -> str:
    """The demo deployment's secret: created once, kept in the data directory (mode 600)."""
    path = data_dir / "jwt-secret"
    if not path.exists():
        create_secret_file(path, secrets.token_urlsafe(48).encode())
    return path.read_text("utf-8").strip()
