"""Bearer tokens from a real OpenID provider (client credentials), verified against the keys it
publishes: valid, wrong audience, wrong issuer, expired, missing organisation, and key rotation
at the provider without a restart of Staffel."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.auth import ByIssuer
from adapters.provider_keys import ProviderKeys, ProviderTokenVerifier
from tests.support.api import Api
from tests.support.oidc import AUDIENCE, OidcProvider
from tests.support.served import served


@pytest.fixture
def make_served(tmp_path: Path) -> Iterator[Any]:
    opened: list[Any] = []

    def make(provider: OidcProvider, **overrides: Any) -> Api:
        context = served(
            f"sqlite:///{tmp_path}/staffel.db",
            tmp_path,
            oidc_issuer=provider.issuer,
            jwt_audience=AUDIENCE,
            **overrides,
        )
        opened.append(context)
        return context.__enter__()

    yield make
    for context in reversed(opened):
        context.__exit__(None, None, None)


def provider_keys(api: Api) -> ProviderKeys:
    verifier = api.services.verifier
    assert isinstance(verifier, ByIssuer)
    assert isinstance(verifier.provider, ProviderTokenVerifier)
    return verifier.provider.keys


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def refused(api: Api, token: str) -> str:
    r = api.client.get("/cases", headers=bearer(token))
    assert r.status_code == 401, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    return str(r.json()["detail"])


def test_a_machine_clients_token_is_accepted(provider: OidcProvider, make_served: Any) -> None:
    api = make_served(provider)
    r = api.client.get("/cases", headers=bearer(provider.machine_token("batch-job")))
    assert r.status_code == 200, r.text


def test_a_token_for_another_audience_is_refused(provider: OidcProvider, make_served: Any) -> None:
    api = make_served(provider)
    token = provider.machine_token("batch-job", resource="urn:another:service")
    assert "audience" in refused(api, token)


def test_a_token_of_another_issuer_is_refused(
    provider: OidcProvider, make_served: Any, tmp_path: Path
) -> None:
    """Another provider with the very same keys: the signature checks out, the issuer not."""
    other = OidcProvider(tmp_path, jwks=provider.jwks).start()
    try:
        token = other.machine_token("batch-job")
    finally:
        other.stop()
    api = make_served(provider)
    assert "issuer" in refused(api, token)


def test_an_expired_token_is_refused(provider: OidcProvider, make_served: Any) -> None:
    api = make_served(provider)
    token = provider.machine_token("short-job")  # one second of life
    time.sleep(2.1)
    assert "expired" in refused(api, token)


def test_a_token_without_organisation_is_refused(provider: OidcProvider, make_served: Any) -> None:
    api = make_served(provider)
    detail = refused(api, provider.machine_token("no-org-job"))
    assert "no organisation (claim org)" in detail


def test_the_organisation_claim_path_is_configurable(
    provider: OidcProvider, make_served: Any
) -> None:
    """The same token, read with a mapping that looks elsewhere for the organisation."""
    api = make_served(provider, oidc_org_claim="tenant.org")
    detail = refused(api, provider.machine_token("batch-job"))
    assert "claim tenant.org" in detail


def test_rotated_keys_need_no_restart(own_provider: OidcProvider, make_served: Any) -> None:
    """After the provider rotates its keys, a token of the new key is accepted by the running
    service (one refetch of the keys), and a token of the key it no longer publishes is not."""
    api = make_served(own_provider, oidc_jwks_refetch_seconds=0)
    old = own_provider.machine_token()
    assert api.client.get("/cases", headers=bearer(old)).status_code == 200
    own_provider.rotate()
    new = own_provider.machine_token()
    r = api.client.get("/cases", headers=bearer(new))
    assert r.status_code == 200, r.text
    assert "does not publish" in refused(api, old)


def test_an_unknown_key_id_refetches_at_most_once_per_interval(
    own_provider: OidcProvider, make_served: Any
) -> None:
    api = make_served(own_provider, oidc_jwks_refetch_seconds=3600)
    assert api.client.get("/cases", headers=bearer(own_provider.machine_token())).status_code == 200
    keys = provider_keys(api)
    fetched = keys.fetches
    own_provider.rotate()
    new = own_provider.machine_token()
    for _ in range(3):
        assert "does not publish" in refused(api, new)
    assert keys.fetches == fetched  # within the interval: no request to the provider at all


def test_the_maximum_lifetime_applies_to_the_providers_tokens(
    provider: OidcProvider, make_served: Any
) -> None:
    api = make_served(provider, jwt_max_lifetime_seconds=300)  # the provider's live 600 s
    assert "exceeds the maximum of 300 s" in refused(api, provider.machine_token("batch-job"))


def test_an_unreachable_provider_is_a_503_not_the_callers_fault(
    provider: OidcProvider, tmp_path: Path
) -> None:
    token = provider.machine_token("batch-job")
    nowhere = OidcProvider(tmp_path)  # never started: nothing listens on its port
    with served(
        f"sqlite:///{tmp_path}/staffel.db", tmp_path, oidc_issuer=nowhere.issuer,
        jwt_audience=AUDIENCE,
    ) as api:  # fmt: skip
        for _ in range(2):  # the second within the refetch interval: no new attempt
            r = api.client.get("/cases", headers=bearer(token))
            assert r.status_code == 503, r.text
            assert r.json()["type"].endswith("identity-provider-unavailable")
            assert r.headers["Retry-After"]
        assert provider_keys(api).fetches == 1
