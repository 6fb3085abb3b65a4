"""The demo shows people, not login ids: its users are in the staff directory from the start,
so a seeded case's timeline names who recorded each entry (ADR 0015)."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.support.browser import Browser


def test_the_demo_timeline_names_the_counsellor(browser: Browser) -> None:
    browser.sign_in("m.yilmaz")  # not the counsellor: her name comes from the seeded directory
    page = browser.go("/ui/cases")
    page.get_by_role("link", name="Tesfaye, Rahel").first.click()
    timeline = page.locator("table").filter(has_text="Fall registriert")
    expect(timeline).to_contain_text("Anna Schmitz (Agentur für Arbeit Aachen-Düren)")
    browser.shot("timeline-with-names")
