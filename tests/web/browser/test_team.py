"""Assigning a case from the *Team* page in a real browser (issue 19, ADR 0017): the Jobcenter's
team lead sees Mariam Jalali, accepted without a caseworker, under *Fälle ohne Fachkraft*,
assigns her to Julia Hoffmann with one click, and Julia Hoffmann then finds her as the caseworker
on the case page and her follow-ups (the agreed step, the measure's end) in *Meine
Wiedervorlagen*.

Mariam Jalali's case is used by no other browser test: the tests share one demo server."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.support.browser import Browser

TEAM_LEAD, CASEWORKER = "k.becker", "j.hoffmann"  # both Jobcenter Heinsberg
NAME = "Julia Hoffmann"  # the caseworker as the pages show her (the staff directory)
PERSON = "Jalali, Mariam"


def test_a_team_lead_assigns_a_case_from_the_team_page(browser: Browser) -> None:
    page = browser.page
    browser.sign_in(TEAM_LEAD)
    expect(page.locator("#wiedervorlagen-anzahl")).to_contain_text("offen")  # the start page
    page.get_by_role("link", name="Team", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Team")
    without = page.locator("section", has=page.get_by_role("heading", name="Fälle ohne Fachkraft"))
    row = without.get_by_role("row").filter(has_text=PERSON)
    expect(row).to_have_count(1)
    browser.shot("team-vorher")

    row.get_by_label("Fachkraft").select_option(CASEWORKER)  # shown as "Julia Hoffmann"
    row.get_by_role("button", name="Zuweisen").click()

    expect(page.get_by_role("status")).to_have_text("Der Fall ist zugewiesen.")
    expect(without.get_by_role("row").filter(has_text=PERSON)).to_have_count(0)
    load = page.locator("section", has=page.get_by_role("heading", name="Fallbelastung"))
    expect(load.get_by_role("row").filter(has_text=NAME)).to_have_count(1)
    browser.shot("team-nachher")

    browser.sign_in(CASEWORKER)
    browser.go("/ui/follow-ups")
    expect(page.get_by_role("heading", level=1)).to_have_text("Meine Wiedervorlagen")
    mine = page.get_by_role("row").filter(has_text=PERSON)
    expect(mine.first).to_contain_text("mich")
    browser.shot("meine-wiedervorlagen")
    mine.first.get_by_role("link", name=PERSON).click()
    responsible = page.locator("dt:text-is('Fachkraft') + dd")
    expect(responsible).to_have_text(f"{NAME} (Jobcenter Kreis Heinsberg)")
    browser.shot("fall")
