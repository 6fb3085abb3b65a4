"""Sign-in failures get a German page that says what went wrong, with no session and no stack
trace: a callback without a sign-in under way (expired, replayed, or never begun), the
provider's refusal, and a provider that cannot be reached."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from tests.support.api import Api
from tests.support.oidc import AUDIENCE, WEB_CLIENT, WEB_SECRET, OidcProvider
from tests.support.processes import free_port
from tests.support.served import served


@pytest.fixture
def web(provider: OidcProvider, tmp_path: Path) -> Iterator[Api]:
    with served(
        f"sqlite:///{tmp_path}/staffel.db",
        tmp_path,
        oidc_issuer=provider.issuer,
        oidc_client_id=WEB_CLIENT,
        oidc_client_secret=SecretStr(WEB_SECRET),
        oidc_scopes="openid profile staffel",
        jwt_audience=AUDIENCE,
    ) as api:
        yield api


def german_failure(response: Any, status: int) -> str:
    assert response.status_code == status, response.text[:300]
    assert "Anmeldung fehlgeschlagen" in response.text
    assert "Traceback" not in response.text
    assert "staffel_session" not in response.headers.get("set-cookie", "")
    return str(response.text)


def test_the_sign_in_page_offers_the_provider(web: Api) -> None:
    page = web.client.get("/ui/sign-in")
    assert 'href="/ui/auth/sign-in?next=' in page.text
    assert 'name="token"' not in page.text  # no token form beside the real sign-in


def test_the_sign_in_starts_with_pkce_at_the_provider(web: Api, provider: OidcProvider) -> None:
    r = web.client.get("/ui/auth/sign-in", follow_redirects=False)
    assert r.status_code == 302
    location = r.headers["location"]
    assert location.startswith(provider.issuer)
    assert "code_challenge_method=S256" in location
    assert "code_challenge=" in location
    assert "redirect_uri=http%3A%2F%2Ftestserver%2Fui%2Fauth%2Fcallback" in location
    assert "staffel_sign_in=" in r.headers["set-cookie"]


def test_a_callback_without_a_sign_in_under_way(web: Api) -> None:
    r = web.client.get("/ui/auth/callback?code=abc&state=xyz")
    assert "abgelaufen oder wurde schon abgeschlossen" in german_failure(r, 400)


def test_a_replayed_callback(web: Api) -> None:
    start = web.client.get("/ui/auth/sign-in", follow_redirects=False)
    state = start.headers["location"].split("state=")[1].split("&")[0]
    cookie = start.cookies.get("staffel_sign_in") or web.client.cookies.get("staffel_sign_in")
    assert cookie
    r = web.client.get(f"/ui/auth/callback?error=access_denied&state={state}")
    assert "Sie haben sie abgebrochen" in german_failure(r, 401)
    web.client.cookies.set("staffel_sign_in", cookie, path="/ui")
    again = web.client.get(f"/ui/auth/callback?error=access_denied&state={state}")
    assert "schon abgeschlossen" in german_failure(again, 400)


def test_an_unreachable_provider(tmp_path: Path) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    with served(
        f"sqlite:///{tmp_path}/staffel.db",
        tmp_path,
        oidc_issuer=nowhere,
        oidc_client_id=WEB_CLIENT,
        oidc_client_secret=SecretStr(WEB_SECRET),
    ) as api:
        r = api.client.get("/ui/auth/sign-in", follow_redirects=False)
        assert "nicht erreichbar" in german_failure(r, 502)


@pytest.mark.parametrize("only_in_userinfo", [False, True])
def test_the_code_flow_without_a_browser(tmp_path: Path, only_in_userinfo: bool) -> None:
    """Org, roles and name from the ID token, or (where the provider sends them only there)
    from the userinfo endpoint; the session names the user."""
    provider = OidcProvider(
        tmp_path,
        redirect_uris=["http://testserver/ui/auth/callback"],
        claims_only_in_userinfo=only_in_userinfo,
    ).start()
    try:
        with served(
            f"sqlite:///{tmp_path}/staffel.db",
            tmp_path,
            oidc_issuer=provider.issuer,
            oidc_client_id=WEB_CLIENT,
            oidc_client_secret=SecretStr(WEB_SECRET),
            oidc_scopes="openid profile staffel",
            jwt_audience=AUDIENCE,
        ) as api:
            back = provider.sign_in(api.client, "s.klein")
            assert back.status_code == 303, back.text
            assert back.headers["location"] == "/ui"
            page = api.client.get("/ui/cases")
            assert page.status_code == 200
            assert "Sabine Klein" in page.text
    finally:
        provider.stop()
