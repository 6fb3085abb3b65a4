"""Signing in through a real OpenID provider (``tests/support/oidc.py``): Chromium goes to the
provider's login page and back, lands on *Meine Fälle* with the user's name shown, records an
event (the timeline names her), signs out at Staffel and at the provider, and the old session
cookie no longer opens anything."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import BrowserContext, expect

from adapters.settings import DEFAULT_JWT_ISSUER
from tests.support.api import registration
from tests.support.oidc import AUDIENCE, WEB_CLIENT, WEB_SECRET, OidcProvider
from tests.support.processes import ServeProcess, free_port, production_env

NAME = "Sabine Klein (Agentur für Arbeit Saarland)"


@pytest.fixture(scope="module")
def signed_in_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """``staffel serve`` (production settings, OpenID Connect) and its provider; a case the
    Agentur für Arbeit Saarland holds, registered by its batch job through the API."""
    folder = tmp_path_factory.mktemp("oidc-browser")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    provider = OidcProvider(folder, redirect_uris=[base + "/ui/auth/callback"]).start()
    env = production_env(
        f"sqlite:///{folder}/staffel.db",
        folder / "data",
        STAFFEL_OIDC_ISSUER=provider.issuer,
        STAFFEL_OIDC_CLIENT_ID=WEB_CLIENT,
        STAFFEL_OIDC_CLIENT_SECRET=WEB_SECRET,
        STAFFEL_OIDC_SCOPES="openid profile staffel",
        STAFFEL_JWT_AUDIENCE=AUDIENCE,
        STAFFEL_JWT_ISSUER=DEFAULT_JWT_ISSUER,
    )
    server = ServeProcess(env, folder / "serve.log", port=port)
    try:
        server.wait_ready()
        token = provider.machine_token("batch-job")
        body = registration(residence_municipality="St. Wendel")
        r = httpx.post(base + "/cases", json=body, headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 201, r.text
        yield base, str(r.json()["case_id"])
    finally:
        server.stop()
        provider.stop()


def test_sign_in_at_the_provider_record_and_sign_out(
    signed_in_world: tuple[str, str], context: BrowserContext, tmp_path: Path
) -> None:
    base, case_id = signed_in_world
    context.clear_cookies()
    page = context.new_page()
    try:
        page.goto(base + "/ui/cases")  # no session: the sign-in page, with the provider's button
        page.locator('a[data-sign-in="provider"]').click()
        page.locator('input[name="login"]').fill("s.klein")  # the provider's own login page
        page.locator('input[name="password"]').fill("any")
        page.locator('button[type="submit"]').click()
        expect(page.get_by_role("heading", name="Meine Fälle")).to_be_visible()
        expect(page.locator("header .who")).to_contain_text("Sabine Klein")

        page.goto(f"{base}/ui/cases/{case_id}")
        page.locator("#form-NoteRecorded summary").click()
        form = page.locator("#form-NoteRecorded")
        form.get_by_label("Vermerk").fill("Termin zur Beratung vereinbart")
        form.get_by_role("button", name="Speichern").click()
        expect(page.get_by_role("status")).to_contain_text("gespeichert")
        expect(page.locator("table").filter(has_text="Termin zur Beratung")).to_contain_text(NAME)

        old = next(c["value"] for c in context.cookies() if c["name"] == "staffel_session")
        page.get_by_role("button", name="Abmelden").click()
        page.get_by_role("button", name="Yes, sign me out").click()  # the provider's logout
        expect(page.get_by_role("status")).to_contain_text("Sie sind abgemeldet")

        r = httpx.get(base + "/ui/cases", cookies={"staffel_session": old})
        assert r.status_code == 303
        assert r.headers["location"].startswith("/ui/sign-in")
        page.locator('a[data-sign-in="provider"]').click()  # the provider's session ended too
        expect(page.locator('input[name="login"]')).to_be_visible()
    finally:
        page.screenshot(path=str(tmp_path / "last.png"))
        page.close()


def test_a_provider_account_without_organisation_gets_a_german_page(
    signed_in_world: tuple[str, str], context: BrowserContext
) -> None:
    base, _ = signed_in_world
    context.clear_cookies()
    page = context.new_page()
    try:
        page.goto(base + "/ui/auth/sign-in")
        page.locator('input[name="login"]').fill("nobody")
        page.locator('input[name="password"]').fill("any")
        page.locator('button[type="submit"]').click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Anmeldung fehlgeschlagen")
        expect(page.locator("main")).to_contain_text("keine Organisation (Angabe „org“)")
        assert "Traceback" not in page.content()
        assert not any(c["name"] == "staffel_session" for c in context.cookies())
    finally:
        page.close()
