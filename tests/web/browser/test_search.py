"""The caseload search in a real browser (issue 18): a person by "Vorname Nachname" and the other
way round, by the BAMF file number without its separator or a part of it, by the date of birth as
Germans write it; the page says how many cases match."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.support.browser import Browser

# demo data (demo/seed.py): Yonas Haile, born 02.11.1990, BAMF 7000102-224, Agentur Aachen-Düren


def test_a_person_is_found_by_first_and_family_name(browser: Browser) -> None:
    page = browser.page
    browser.sign_in("a.schmitz")
    browser.go("/ui/cases")
    for typed in ("Yonas Haile", "Haile Yonas", "7000102224", "0102-22", "02.11.1990"):
        search = page.get_by_role("search")
        search.get_by_label("Name, BAMF-Aktenzeichen oder Geburtsdatum").fill(typed)
        search.get_by_role("button", name="Suchen").click()
        expect(page.get_by_role("status")).to_have_text("1 Fall gefunden.")
        rows = page.locator("section[aria-labelledby=cases-h] table tbody tr")
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text("Haile, Yonas")
        if typed == "Yonas Haile":
            browser.shot("suche-vorname-nachname")
    page.get_by_role("search").get_by_label("Name, BAMF-Aktenzeichen oder Geburtsdatum").fill("")
    page.get_by_role("search").get_by_role("button", name="Suchen").click()
    expect(page.get_by_role("status")).to_contain_text("Fälle gefunden.")
    browser.shot("suche-alle")
