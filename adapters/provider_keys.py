"""Bearer tokens of an OpenID provider, verified against the keys it publishes (ADR 0015).

The provider's discovery document (``STAFFEL_OIDC_ISSUER`` + ``/.well-known/openid-configuration``)
names its ``jwks_uri``; the keys found there are cached for ``cache_seconds``. A token signed
with a key id (``kid``) the cache does not hold triggers one refetch, at most once per
``refetch_seconds``: a key the provider has just rotated in is accepted without a restart, and a
flood of made-up key ids costs the provider one request per interval. A refetch replaces the
whole set, so a key the provider no longer publishes is gone with it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
from joserfc import errors, jws, jwt
from joserfc.jwk import KeySet

from adapters.auth import TokenError, principal_of
from adapters.claims import ClaimsMapping
from domain.principal import Principal

ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"]
ALGORITHMS += ["EdDSA"]  # never HS*, never none: the provider's keys are public


class ProviderUnavailableError(TokenError):
    """The provider's keys cannot be read: 503 with ``Retry-After``, not the caller's fault."""

    slug, title = "identity-provider-unavailable", "The identity provider is unavailable"


def discover(issuer: str, timeout: float = 5.0) -> dict[str, Any]:
    """The provider's discovery document; its ``issuer`` must be the one configured."""
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    try:
        response = httpx.get(url, timeout=timeout)
        response.raise_for_status()
        document: dict[str, Any] = response.json()
    except (httpx.HTTPError, ValueError) as e:
        raise ProviderUnavailableError(f"the identity provider's discovery failed: {e}") from e
    if document.get("issuer") != issuer:
        raise ProviderUnavailableError(
            f"the discovery document names issuer {document.get('issuer')!r}, not {issuer!r}"
        )
    return document


class ProviderKeys:
    """The provider's public signing keys, fetched from its ``jwks_uri`` and cached."""

    def __init__(
        self,
        issuer: str,
        *,
        cache_seconds: float = 300,
        refetch_seconds: float = 30,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.issuer, self.cache_seconds, self.refetch_seconds = (
            issuer,
            cache_seconds,
            refetch_seconds,
        )
        self.clock = clock
        self.fetches = 0  # how often the keys were fetched (observed by the tests)
        self._keys: KeySet | None = None
        self._fetched_at = self._attempted_at = -float("inf")
        self._jwks_uri: str | None = None
        self._lock = threading.Lock()

    def key_for(self, kid: str | None) -> Any:
        """The published key with this id (or the only key, for a token without ``kid``);
        None when the provider does not publish it, even after a refetch. Raises
        ``ProviderUnavailableError`` while no key could ever be read."""
        with self._lock:
            now = self.clock()
            if self._keys is None or now - self._fetched_at > self.cache_seconds:
                self._fetch(now)
            key = self._find(kid)
            if key is None and now - self._attempted_at >= self.refetch_seconds:
                self._fetch(now)  # an unknown kid: perhaps a key rotated in since
                key = self._find(kid)
            return key

    def _find(self, kid: str | None) -> Any:
        keys = self._keys.keys if self._keys is not None else []
        if kid is None:
            return keys[0] if len(keys) == 1 else None
        return next((k for k in keys if k.kid == kid), None)

    def _fetch(self, now: float) -> None:
        """Read the keys again; a failure keeps the keys read before (for another cache
        period), and without any it is refused, at most one attempt per refetch interval."""
        if self._keys is None and now - self._attempted_at < self.refetch_seconds:
            raise ProviderUnavailableError("the identity provider's keys could not be read yet")
        self._attempted_at = now
        self.fetches += 1
        try:
            if self._jwks_uri is None:
                self._jwks_uri = str(discover(self.issuer)["jwks_uri"])
            response = httpx.get(self._jwks_uri, timeout=5.0)
            response.raise_for_status()
            published = response.json()
            signing = [k for k in published.get("keys", []) if k.get("use", "sig") == "sig"]
            self._keys = KeySet.import_key_set({"keys": signing})
        except (httpx.HTTPError, ValueError, KeyError, AttributeError, errors.JoseError) as e:
            if self._keys is None:
                if isinstance(e, ProviderUnavailableError):
                    raise
                raise ProviderUnavailableError(f"the provider's keys could not be read: {e}") from e
        self._fetched_at = now


class ProviderTokenVerifier:
    """Verifies the provider's access tokens: signature by a published key, then issuer,
    audience and lifetime as for every token (``adapters/auth.py``), then the claims mapping."""

    def __init__(
        self,
        keys: ProviderKeys,
        *,
        audience: str,
        max_lifetime: int,
        mapping: ClaimsMapping,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.keys, self.issuer, self.audience = keys, keys.issuer, audience
        self.max_lifetime, self.mapping, self.clock = max_lifetime, mapping, clock

    def key_epoch(self) -> int:
        return self.keys.fetches  # each reading of the published keys

    def verify(self, token: str) -> Principal:
        try:
            header = jws.extract_compact(token.encode()).protected
        except (errors.JoseError, ValueError, TypeError, UnicodeError) as e:
            raise TokenError("the token is not valid: malformed") from e
        alg, kid = header.get("alg"), header.get("kid")
        if alg not in ALGORITHMS:
            raise TokenError(f"the token is not valid: algorithm {alg!r} is not accepted")
        if kid is not None and not isinstance(kid, str):
            raise TokenError("the token is not valid: malformed key id")
        key = self.keys.key_for(kid)
        if key is None:
            raise TokenError(
                f"the token is signed with a key the identity provider does not publish"
                f" (kid {kid!r})"
            )
        try:
            claims = jwt.decode(token, key, algorithms=[alg]).claims
            self._registry().validate(claims)
        except errors.ExpiredTokenError as e:
            raise TokenError("the token has expired") from e
        except (errors.InvalidClaimError, errors.MissingClaimError) as e:
            raise TokenError(self._claim_refusal(e)) from e
        except (errors.JoseError, ValueError, TypeError) as e:
            raise TokenError(f"the token is not valid: {e}") from e
        return principal_of(claims, self.mapping, self.max_lifetime)

    def _registry(self) -> jwt.JWTClaimsRegistry:
        return jwt.JWTClaimsRegistry(
            now=int(self.clock()),
            iss={"essential": True, "value": self.issuer},
            aud={"essential": True, "value": self.audience},
            sub={"essential": True},
            exp={"essential": True},
            iat={"essential": True},
        )

    def _claim_refusal(self, error: errors.JoseError) -> str:
        claim = getattr(error, "claim", "")
        if claim == "iss":
            return f"the token's issuer (iss) is not {self.issuer!r}"
        if claim == "aud":
            return f"the token's audience (aud) does not name {self.audience!r}"
        return f"the token is not valid: {error.description}"
