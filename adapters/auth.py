"""Bearer tokens (JWT): verifying those of an agency's identity provider or minting demo ones.

HS256 with a shared secret (``STAFFEL_JWT_SECRET``; in demo mode a secret kept in the data
directory), or a public key file whose type decides the one algorithm accepted (RSA: RS256, EC:
ES256/384/512 by curve, Ed25519/Ed448: EdDSA). Every token names the expected issuer and
audience, carries ``iat`` and ``exp`` no further apart than the maximum lifetime, and its claims
are printable text of sensible length. Anything else is a ``TokenError`` (401), never a crash.
"""

from __future__ import annotations

import secrets
import time
import uuid
from pathlib import Path
from typing import Any, Protocol

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from adapters.claims import ClaimError, ClaimsMapping
from adapters.federation.signing import create_secret_file
from adapters.settings import DEFAULT_JWT_AUDIENCE, DEFAULT_JWT_ISSUER
from domain.principal import Principal


class TokenError(Exception):
    slug, title = "unauthenticated", "Authentication required"


class UnknownOrganisationError(TokenError):
    """A correctly signed token whose ``org`` this deployment does not know."""

    slug, title = "unknown-organisation", "Unknown organisation"

    def __init__(self, org: str, detail: str) -> None:
        super().__init__(detail)
        self.org = org


REQUIRED = ["sub", "iss", "aud", "iat", "exp"]  # org, roles, name: by the claims mapping
CURVES = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}


def public_key_algorithm(pem: str) -> tuple[Any, str]:
    """The key in ``pem`` and the one algorithm its tokens may use: a token signed for another
    key type is then refused by the allow-list, before any key is prepared."""
    key = load_pem_public_key(pem.encode())
    if isinstance(key, rsa.RSAPublicKey):
        return key, "RS256"
    if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name in CURVES:
        return key, CURVES[key.curve.name]
    if isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
        return key, "EdDSA"
    raise ValueError(f"unsupported public key type for tokens: {type(key).__name__}")


class TokenVerifier:
    def __init__(
        self,
        *,
        secret: str | None = None,
        public_key: str | None = None,
        issuer: str = DEFAULT_JWT_ISSUER,
        audience: str = DEFAULT_JWT_AUDIENCE,
        max_lifetime: int = 12 * 3600,
        mapping: ClaimsMapping | None = None,
    ) -> None:
        if not (secret or public_key):
            raise ValueError("a JWT secret or a public key is needed")
        self.key: Any = secret
        self.algorithms = ["HS256"]
        if public_key:
            self.key, algorithm = public_key_algorithm(public_key)
            self.algorithms = [algorithm]
        self.issuer, self.audience, self.max_lifetime = issuer, audience, max_lifetime
        self.mapping = mapping or ClaimsMapping()

    def key_epoch(self) -> int:
        return 0  # a fixed secret or key file: read once at the start

    def verify(self, token: str) -> Principal:
        try:
            claims = jwt.decode(
                token,
                self.key,
                algorithms=self.algorithms,
                issuer=self.issuer,
                audience=self.audience,
                options={"require": REQUIRED},
            )
        except jwt.ExpiredSignatureError as e:
            raise TokenError("the token has expired") from e
        except jwt.InvalidIssuerError as e:
            raise TokenError(f"the token's issuer (iss) is not {self.issuer!r}") from e
        except jwt.InvalidAudienceError as e:
            raise TokenError(f"the token's audience (aud) does not name {self.audience!r}") from e
        except jwt.PyJWTError as e:  # includes a key that does not fit the token's algorithm
            raise TokenError(f"the token is not valid: {e}") from e
        except (ValueError, TypeError, OverflowError, RecursionError) as e:
            raise TokenError("the token is not valid: malformed") from e
        return principal_of(claims, self.mapping, self.max_lifetime)


def principal_of(claims: dict[str, Any], mapping: ClaimsMapping, max_lifetime: int) -> Principal:
    """The principal of verified ``claims``: its lifetime within the maximum, then who, for
    which organisation and in which roles, as the claims mapping finds them."""
    lifetime = int(claims["exp"]) - int(claims["iat"])  # both checked as numbers before
    if lifetime > max_lifetime:
        raise TokenError(
            f"the token's lifetime (exp - iat = {lifetime} s) exceeds the maximum of"
            f" {max_lifetime} s"
        )
    try:
        return mapping.principal(claims, int(claims["exp"]))
    except ClaimError as e:
        raise TokenError(str(e)) from e


class Verifier(Protocol):
    def verify(self, token: str) -> Principal: ...

    def key_epoch(self) -> int:
        """Changes whenever the keys tokens are checked against may have changed: a token
        verified under another epoch is verified again (``api.identity.VerifiedTokens``)."""
        ...


class ByIssuer:
    """The provider's tokens go to its verifier; a token that names the local issuer
    (development, demo: the shared secret or the public-key file) to the local one. The
    unverified ``iss`` only picks the verifier: each checks the issuer again, with the
    signature, and every other token is the provider's to refuse."""

    def __init__(self, provider: Verifier, local: TokenVerifier | None) -> None:
        self.provider, self.local = provider, local

    def verify(self, token: str) -> Principal:
        if self.local is not None and unverified_issuer(token) == self.local.issuer:
            return self.local.verify(token)
        return self.provider.verify(token)

    def key_epoch(self) -> int:
        return self.provider.key_epoch()


def unverified_issuer(token: str) -> Any:
    try:
        return jwt.decode(token, options={"verify_signature": False}).get("iss")
    except (jwt.PyJWTError, ValueError, TypeError, AttributeError, RecursionError):
        return None


def mint(
    secret: str,
    *,
    sub: str,
    org: str,
    roles: list[str],
    name: str | None = None,
    email: str | None = None,
    ttl: int = 8 * 3600,
    issuer: str = DEFAULT_JWT_ISSUER,
    audience: str = DEFAULT_JWT_AUDIENCE,
) -> str:
    """An HS256 token as this deployment checks it (the defaults are the settings' defaults)."""
    now = int(time.time())
    claims = {
        "sub": sub,
        "name": name or sub,
        "org": org,
        "roles": roles,
        "iss": issuer,
        "aud": audience,
        "iat": now,
        "exp": now + ttl,
        "jti": uuid.uuid4().hex,
    }
    if email is not None:
        claims["email"] = email
    return jwt.encode(claims, secret, algorithm="HS256")


def demo_secret(data_dir: Path) -> str:
    """The demo deployment's secret: created once, kept in the data directory (mode 600)."""
    path = data_dir / "jwt-secret"
    if not path.exists():
        create_secret_file(path, secrets.token_urlsafe(48).encode())
    return path.read_text("utf-8").strip()
