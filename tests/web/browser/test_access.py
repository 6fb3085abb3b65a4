"""Who may open the pages for employers, offers, matching and mentors, in a real browser session:
each role gets the page (200) or a German refusal (403), exactly as the JSON API decides."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from demo.partners import DAHMEN, DAHMEN_JOB, MENTOR
from domain.aggregates.employer import Employer
from tests.support.browser import Browser

DAHMEN_ID = Employer.create_id(DAHMEN)
STAFF, JOBCENTER, EMPLOYER, OTHER_EMPLOYER = "a.schmitz", "j.hoffmann", "h.dahmen", "b.kaechele"
VOLUNTEER, AUDITOR = "p.lang", "r.prueferin"
PAGES = {
    "offers": "/ui/offers",
    "offer": f"/ui/offers/{DAHMEN_JOB}",
    "employers": "/ui/employers",
    "employer": f"/ui/employers/{DAHMEN_ID}",
    "volunteers": "/ui/volunteers",
    "volunteer": f"/ui/volunteers/{MENTOR}",
    "mentoring": "/ui/mentoring",
    "matches": "/ui/cases/{yonas}/offers",
}
# user -> the pages refused (403); every other page answers 200
REFUSED = {
    STAFF: {"mentoring"},
    JOBCENTER: {"mentoring"},
    AUDITOR: {"mentoring"},
    EMPLOYER: {"volunteers", "volunteer", "mentoring", "matches"},
    OTHER_EMPLOYER: {"offer", "employer", "volunteers", "volunteer", "mentoring", "matches"},
    VOLUNTEER: {"employers", "employer", "matches"},
}
# user -> the pages answered as for no case (404): another organisation's case (issue 13)
UNKNOWN = {JOBCENTER: {"matches"}}  # Yonas Haile is the Agentur's case


def test_each_role_opens_only_its_pages(browser: Browser) -> None:
    page = browser.page
    browser.sign_in(STAFF)
    browser.go("/ui/cases?q=Haile")
    page.get_by_role("link", name="Haile, Yonas").click()
    yonas = browser.case_id()
    answers: dict[tuple[str, str], int] = {}
    for user in REFUSED:
        browser.sign_in(user)
        for name, path in PAGES.items():
            response = page.request.get(browser.base + path.format(yonas=yonas))
            answers[user, name] = response.status
            if response.status == 403:
                assert "Sie haben keinen Zugriff" in response.text(), (user, name)
    expected = {
        (u, n): 404 if n in UNKNOWN.get(u, ()) else 403 if n in REFUSED[u] else 200
        for u in REFUSED
        for n in PAGES
    }
    assert answers == expected

    # what an auditor and a volunteer see of an offer: no candidates, no forms
    browser.sign_in(AUDITOR)
    browser.go(f"/ui/offers/{DAHMEN_JOB}")
    expect(page.get_by_role("heading", name="Passende Personen")).to_have_count(0)
    expect(page.locator("main form")).to_have_count(0)
    browser.sign_in(VOLUNTEER)
    browser.go(f"/ui/offers/{DAHMEN_JOB}")
    expect(page.get_by_role("heading", name="Passende Personen")).to_have_count(0)
    expect(page.locator("main")).not_to_contain_text(re.compile("Haile|Kovalenko"))
    browser.shot("paten-sicht-angebot")
