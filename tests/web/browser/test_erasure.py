"""Erasing a person's personal data in a real browser (issue 9): the team lead of the holding
organisation opens a demo case with a handover offer still open, reads the subject access report,
erases the case with a legal ground and a reason, and then sees it marked as erased, with the
markers explained under the timeline and no forms left; the organisation's caseworker sees no
erase form at all.

The case is Farida Rahimi's (Kreis Heinsberg, offered to the Jobcenter and waiting), which no
other browser test uses: the tests share one demo server."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.support.browser import Browser

CASEWORKER, TEAM_LEAD = "a.schmitz", "m.yilmaz"  # both Agentur für Arbeit Aachen-Düren
PERSON = "Rahimi, Farida"
REASON = "Antrag der Person vom 02.06.2026, Az. DS-2026-17"


def test_a_team_lead_erases_a_case_and_the_page_shows_it_erased(browser: Browser) -> None:
    page = browser.page

    # the caseworker: the case and its forms, but neither the erasure nor the report
    browser.sign_in(CASEWORKER)
    browser.go("/ui/cases?q=Rahimi")
    page.get_by_role("link", name=PERSON).click()
    case_id = browser.case_id()
    expect(page.get_by_role("heading", name="Eintrag erfassen")).to_be_visible()
    expect(page.get_by_role("heading", name="Personenbezogene Daten löschen")).to_have_count(0)
    expect(page.get_by_role("link", name="Auskunft (Art. 15 DSGVO)")).to_have_count(0)
    browser.shot("sachbearbeitung-ohne-loeschung")

    # the team lead: the subject access report first, printable
    browser.sign_in(TEAM_LEAD)
    browser.go(f"/ui/cases/{case_id}")
    expect(page.get_by_role("heading", level=1)).to_have_text(PERSON)
    page.get_by_role("link", name="Auskunft (Art. 15 DSGVO)").first.click()
    expect(page).to_have_url(re.compile(f"/ui/cases/{case_id}/subject-access-report$"))
    report = page.get_by_role("heading", name="Auskunft über Ihre gespeicherten Daten")
    expect(report).to_be_visible()
    expect(page.locator("body")).to_contain_text("Rahimi")
    browser.shot("auskunft")
    page.go_back()

    # the erasure, clearly separated; the open handover will be withdrawn
    section = page.locator("#loeschen")
    expect(section.get_by_role("heading", name="Personenbezogene Daten löschen")).to_be_visible()
    expect(section).to_contain_text("Die offene Übergabe an Jobcenter")
    expect(section).to_contain_text("wird dabei zurückgezogen")
    section.locator("summary").click()
    section.get_by_label("Rechtsgrund").select_option("subject_request")
    section.get_by_label("Begründung").fill(REASON)
    section.get_by_role("button", name="Personenbezogene Daten endgültig löschen").click()

    # not confirmed: refused, the message next to the checkbox, what was typed kept
    confirmation = page.get_by_label("Ich habe geprüft, dass die Löschung zulässig ist")
    field = page.locator(".field", has=confirmation)
    expect(field.locator(".error")).to_contain_text("Bitte bestätigen Sie")
    expect(confirmation).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#loeschen").get_by_label("Begründung")).to_have_value(REASON)
    browser.shot("loeschung-nicht-bestaetigt")

    confirmation.check()
    page.get_by_role("button", name="Personenbezogene Daten endgültig löschen").click()

    # erased: the notice, the markers in the timeline explained, no forms
    expect(page.get_by_role("status")).to_contain_text("Die personenbezogenen Daten sind gelöscht")
    erased_on = re.compile(r"Personenbezogene Daten gelöscht am \d\d\.\d\d\.\d{4}")
    expect(page.locator("main")).to_contain_text(erased_on)
    expect(page.get_by_role("heading", level=1)).to_contain_text("[gelöscht]")
    expect(page.locator("main")).not_to_contain_text("Rahimi")
    timeline = page.locator("table.timeline")
    expect(timeline).to_contain_text("Personenbezogene Daten gelöscht (Antrag der betroffenen")
    expect(timeline).to_contain_text("Übergabeangebot zurückgezogen")
    expect(timeline.locator(".redacted").first).to_have_attribute("title", re.compile("^Gelöscht"))
    expect(page.locator("dl.legend")).to_contain_text("[gelöscht]")
    expect(page.get_by_role("heading", name="Eintrag erfassen")).to_have_count(0)
    expect(page.get_by_role("heading", name="Offene Übergabe")).to_have_count(0)
    expect(page.locator("main form")).to_have_count(0)
    browser.shot("geloescht")

    # the caseload: a marker for the name and a badge; the case is still there
    browser.go("/ui/cases")
    row = page.locator("tr", has=page.locator(f'a[href="/ui/cases/{case_id}"]'))
    expect(row).to_contain_text("[gelöscht]")
    expect(row.locator(".badge.erased")).to_have_text("gelöscht")
    browser.shot("fallliste")

    # the caseworker now: the erased case, nothing to record, still no erasure
    browser.sign_in(CASEWORKER)
    browser.go(f"/ui/cases/{case_id}")
    expect(page.locator("main")).to_contain_text(erased_on)
    expect(page.locator("main form")).to_have_count(0)
    browser.shot("sachbearbeitung-nach-loeschung")
