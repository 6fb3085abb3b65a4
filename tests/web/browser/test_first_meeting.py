"""Issue 19's acceptance walk in a real browser (ADR 0017): the Agentur registers a person and
records the recognition, the handover policy offers the case to the Jobcenter Kreis Heinsberg;
its team lead Klaus Becker accepts it and, on acceptance, makes his colleague Julia Hoffmann the
caseworker (picked by name); Julia Hoffmann signs in, finds the case in *Meine Fälle* with her
name beside it and, in *Meine Wiedervorlagen*, the first meeting due five working days later,
and marks it done.

The person is registered by this test: the tests share one demo server."""

from __future__ import annotations

import re
import secrets
from datetime import date, timedelta

from playwright.sync_api import expect

from domain.policy import today_in_germany, working_days_after
from tests.support.browser import Browser

AGENTUR_CASEWORKER, TEAM_LEAD, COLLEAGUE = "a.schmitz", "k.becker", "j.hoffmann"
NAME = "Julia Hoffmann"  # as the pages show her (the staff directory)
JOBCENTER = "Jobcenter Kreis Heinsberg"


def german(day: date) -> str:
    return f"{day:%d.%m.%Y}"


def register_and_recognise(browser: Browser, family: str) -> None:
    """The Agentur's part, as in scenario 2: the offer to the Jobcenter follows the recognition."""
    page = browser.page
    browser.sign_in(AGENTUR_CASEWORKER)
    page.get_by_role("link", name="Person registrieren").click()
    page.get_by_label("Vorname").fill("Selam")
    page.get_by_label("Familienname").fill(family)
    page.get_by_label("Geburtsdatum").fill("02.11.1990")
    page.get_by_label("Staatsangehörigkeit").fill("Eritrea")
    page.get_by_label("Wohnort (Gemeinde)").fill("Hückelhoven")
    page.get_by_label("Dienststelle").select_option("Heinsberg")
    page.get_by_role("button", name="Registrieren").click()
    expect(page.get_by_role("status")).to_contain_text("Die Person ist registriert")
    page.locator("#form-AsylumRecognized summary").click()
    form = page.locator("#form-AsylumRecognized")
    form.get_by_label("Schutzstatus").select_option(label="Flüchtlingseigenschaft")
    form.get_by_label("Bescheid vom").fill(german(today_in_germany() - timedelta(days=2)))
    form.get_by_role("button", name="Speichern").click()
    expect(page.get_by_role("status")).to_contain_text("Asyl anerkannt: gespeichert")
    for _ in range(50):  # the policy offers in the background: read again until it shows
        if page.locator("#uebergabe").count():
            break
        page.wait_for_timeout(200)
        page.reload()
    expect(page.locator("#uebergabe")).to_contain_text(JOBCENTER)
    browser.sign_out()


def test_a_team_lead_accepts_for_a_colleague_who_finds_the_case_and_the_first_meeting(
    browser: Browser,
) -> None:
    page = browser.page
    family = f"Haile-{secrets.token_hex(3)}"
    person = f"{family}, Selam"
    register_and_recognise(browser, family)

    # -- the team lead accepts and makes Julia Hoffmann the caseworker ---------------------------
    browser.sign_in(TEAM_LEAD)
    page.get_by_role("link", name="Übergaben: Eingang").click()
    row = page.locator("main table tbody tr", has_text=family)
    row.get_by_role("link", name=re.compile(family)).click()
    decision = page.locator("#entscheidung")
    decision.get_by_label("Fachkraft zuweisen").select_option(label=NAME)
    browser.shot("annehmen-und-zuweisen")
    decision.get_by_role("button", name=re.compile("Übergabe annehmen")).click()
    expect(page.get_by_role("status")).to_contain_text("Sie haben die Übergabe angenommen")
    responsible = page.locator("dt:text-is('Fachkraft') + dd")
    expect(responsible).to_have_text(f"{NAME} ({JOBCENTER})")
    browser.shot("angenommen")
    browser.sign_out()

    # -- Julia Hoffmann: the case in Meine Fälle, the first meeting in Meine Wiedervorlagen ------
    browser.sign_in(COLLEAGUE)
    expect(page.get_by_role("heading", level=1)).to_have_text("Meine Fälle")
    browser.go(f"/ui/cases?q={family}")
    mine = page.locator("main table tbody tr", has_text=person)
    expect(mine).to_have_count(1)
    expect(mine).to_contain_text(NAME)
    browser.shot("meine-faelle")

    page.get_by_role("link", name="Meine Wiedervorlagen").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Meine Wiedervorlagen")
    meeting = page.get_by_role("row").filter(has_text=person)
    expect(meeting).to_have_count(1)
    due = working_days_after(today_in_germany(), 5)
    for text in ("Erstgespräch führen", "mich", german(due)):
        expect(meeting).to_contain_text(text)
    browser.shot("meine-wiedervorlagen")
    meeting.get_by_role("button", name="Erledigt").click()
    expect(page.get_by_role("row").filter(has_text=person)).to_have_count(0)
    browser.shot("erstgespraech-erledigt")
