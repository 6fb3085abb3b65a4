"""Pickers and a correction in a real browser (issue 18): the Agentur caseworker registers a
person by choosing "Syrien" and "Arabisch" by name (a country name that is no country gets a
message about the list, never one about characters), then corrects the wrongly typed birth date
(Berichtigung, Art. 16 GDPR). The correction stands beside the original in the timeline, the
summary shows the corrected date, and so does the downloaded Übergabebogen PDF."""

from __future__ import annotations

import secrets
from pathlib import Path

from playwright.sync_api import expect
from pypdf import PdfReader

from tests.support.browser import Browser


def test_register_by_country_name_then_correct_the_birth_date(browser: Browser) -> None:
    page = browser.page
    family = f"Nasser-{secrets.token_hex(3)}"
    browser.sign_in("a.schmitz")
    browser.go("/ui/cases/new")
    page.get_by_label("Vorname").fill("Samira")
    page.get_by_label("Familienname").fill(family)
    page.get_by_label("Geburtsdatum").fill("03.04.1991")  # wrong: she was born on the 13th
    page.get_by_label("Staatsangehörigkeit").fill("Atlantis")
    page.get_by_label("Sprache 1").fill("Arabisch")
    page.get_by_label("Wohnort (Gemeinde)").fill("Hückelhoven")
    page.get_by_role("button", name="Registrieren").click()
    field = page.locator(".field", has=page.get_by_label("Staatsangehörigkeit"))
    expect(field.locator(".error")).to_have_text("Fehler: Bitte ein Land aus der Liste wählen.")
    expect(page.locator("main")).not_to_contain_text("Zeichen")
    page.get_by_label("Staatsangehörigkeit").fill("Syrien")  # as the picker offers it
    page.get_by_role("button", name="Registrieren").click()
    expect(page.get_by_role("status")).to_contain_text("Die Person ist registriert")
    facts = page.locator("dl", has_text="Geburtsdatum")
    expect(facts).to_contain_text("03.04.1991")
    expect(facts).to_contain_text("Syrien")  # by its German name, the code behind (issue 18)
    browser.shot("registriert")

    # -- the correction -------------------------------------------------------------------------
    page.locator("#form-FactCorrected summary").click()
    form = page.locator("#form-FactCorrected")
    expect(form.get_by_label("Welcher Eintrag?")).to_have_value("")  # nothing preselected
    form.get_by_label("Welcher Eintrag?").select_option("1")
    form.get_by_label("Welche Angabe?").select_option(label="Geburtsdatum")
    form.get_by_label("Richtiger Wert").fill("13.04.1991")
    form.get_by_label("Grund der Berichtigung").fill("Tippfehler bei der Registrierung, laut Pass")
    browser.shot("berichtigen")
    form.get_by_role("button", name="Berichtigen").click()
    expect(page.get_by_role("status")).to_contain_text("Angabe berichtigen")
    expect(facts).to_contain_text("13.04.1991")  # the summary: the corrected date
    expect(facts).not_to_contain_text("03.04.1991")
    timeline = page.locator("table.timeline")
    first = timeline.locator("tbody tr", has_text="Fall registriert")
    expect(first).to_contain_text("03.04.1991")  # the original entry, unchanged
    expect(first).to_contain_text("Berichtigt durch Eintrag 2: Geburtsdatum richtig 13.04.1991")
    expect(timeline).to_contain_text(
        "Berichtigung von Eintrag 1: Geburtsdatum richtig 13.04.1991"
        " (Grund: Tippfehler bei der Registrierung, laut Pass)"
    )
    browser.shot("berichtigt")

    # -- the Übergabebogen and its PDF show the corrected date -----------------------------------
    page.get_by_role("link", name="Übergabebogen").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Übergabebogen")
    expect(page.locator("main")).to_contain_text("13.04.1991")
    expect(page.locator("main")).not_to_contain_text("03.04.1991")
    with page.expect_download() as download:
        page.get_by_role("link", name="Als PDF herunterladen").click()
    path = Path(download.value.path())
    text = "\n".join(p.extract_text() or "" for p in PdfReader(path).pages)
    assert "13.04.1991" in text, text
    assert "03.04.1991" not in text, text
    assert family in text
    assert "Berichtigt (Art. 16 DSGVO): Geburtsdatum in Eintrag 1 durch Eintrag 2." in text
