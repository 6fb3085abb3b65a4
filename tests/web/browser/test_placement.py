"""Scenario 2 (Kreis Heinsberg) in a real browser, on the demo data set: the Agentur caseworker
opens Elektro Dahmen's job offer, sees the ranked candidates with their German explanations and
places the best one; gives him a mentor (chosen, none preselected) and records his consent
through the pickers (a recipient that exists, data categories by their German names); the mentor
signs in and sees
only her mentees, each with only the consented fields, also after the placement. An employer
sees only people who consented to share with it."""

from __future__ import annotations

import re
import secrets
from datetime import date

from playwright.sync_api import expect

from demo.partners import DAHMEN_JOB, MENTOR
from domain.policy import today_in_germany
from tests.support.browser import Browser

AGENTUR_CASEWORKER, EMPLOYER, VOLUNTEER = "a.schmitz", "h.dahmen", "p.lang"


def german(day: date) -> str:
    return f"{day:%d.%m.%Y}"


def test_scenario_2_placement_and_continued_mentoring(browser: Browser) -> None:
    page = browser.page
    today = german(today_in_germany())

    # -- the Agentur caseworker finds the offer and its ranked candidates ----------------------
    browser.sign_in(AGENTUR_CASEWORKER)
    page.get_by_role("link", name="Angebote", exact=True).click()
    page.get_by_label("Ort", exact=True).fill("Wassenberg")
    page.get_by_label("Art", exact=True).select_option(label="Arbeitsstelle")
    page.get_by_label("Beruf", exact=True).fill("Elektriker")
    page.get_by_role("button", name="Filtern").click()
    row = page.locator("main table tbody tr", has_text="Elektro Dahmen GmbH")
    expect(row).to_contain_text("1 von 2")
    browser.shot("angebote-gefiltert")
    row.get_by_role("link", name="Elektriker").click()
    assert page.url.endswith(f"/ui/offers/{DAHMEN_JOB}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Elektriker (m/w/d): Arbeitsstelle")
    candidates = page.locator("li.candidate")
    first = candidates.first
    expect(first.get_by_role("heading")).to_contain_text("Haile, Yonas")
    expect(first.get_by_role("heading")).to_contain_text("Eignung 80 von 100")
    expect(first.locator(".why")).to_have_text(
        "Warum: Deutsch B1 erfüllt A2; 6 Jahre als Elektriker; Nachbargemeinde;"
        " Zustimmung der Ausländerbehörde nötig"
    )
    ranked = len(candidates.all())
    assert ranked >= 5  # staff see every person their organisation holds, ranked
    browser.shot("angebot-kandidaten")

    # -- places him: the offer's last position is taken -----------------------------------------
    first.get_by_text("Yonas Haile vermitteln").click()
    first.get_by_label("Beginn").fill("01.07.2026")
    browser.shot("vermitteln-formular")
    first.get_by_role("button", name="Vermittlung speichern").click()
    expect(page.get_by_role("status")).to_contain_text("Die Vermittlung ist gespeichert")
    expect(page.locator("dd[data-free]")).to_have_text("0 von 2")
    expect(page.locator("dd[data-state]")).to_have_text("besetzt")
    expect(page.locator("main")).not_to_contain_text("Haile, Yonas")  # placed: no candidate
    expect(page.locator("main")).to_contain_text("Vermittlungen sind nur in offene Angebote")
    expect(page.locator("details", has_text="vermitteln")).to_have_count(0)
    browser.shot("angebot-besetzt")

    # -- his case records the placement; he gets Petra Lang as mentor and consents ------------
    browser.go("/ui/cases?q=Haile")
    page.get_by_role("link", name="Haile, Yonas").click()
    case_id = browser.case_id()
    placements = page.locator("table", has_text="Vermittlungen")
    expect(placements).to_contain_text("Elektro Dahmen GmbH")
    expect(placements).to_contain_text("01.07.2026")
    expect(page.locator("table.timeline")).to_contain_text("Elektro Dahmen GmbH")
    page.locator("#form-mentor summary").click()
    form = page.locator("#form-mentor")
    expect(form.get_by_label("Pate oder Patin")).to_have_value("")  # nobody preselected
    form.get_by_label("Pate oder Patin").select_option(MENTOR)
    expect(form.get_by_label("Pate oder Patin")).to_contain_text("Petra Lang")
    form.get_by_label("Ab").fill(today)
    browser.shot("pate-zuordnen")
    form.get_by_role("button", name="Paten zuordnen").click()
    expect(page.get_by_role("status")).to_contain_text("Die Patin oder der Pate ist zugeordnet")
    heading = page.get_by_role("heading", name="Vermittlung und Patenschaft")
    work = page.locator("section", has=heading)
    expect(work.get_by_role("link", name="Petra Lang")).to_be_visible()
    expect(work).to_contain_text(f"Patenschaft seit {today}")
    page.locator("#form-ConsentGiven summary").click()
    form = page.locator("#form-ConsentGiven")
    form.get_by_label("Zweck").select_option(label="Weitergabe an Paten")
    recipient = form.get_by_label("Empfänger")
    expect(recipient).to_have_value("")  # chosen deliberately, from those that exist
    recipient.select_option(label="DRK-Kreisverband Heinsberg (Organisation)")
    scope = form.get_by_role("group", name="Was darf gezeigt werden?")
    scope.get_by_label("Vor- und Nachname").check()
    scope.get_by_label("Praktika, Ausbildung, Arbeit").check()
    form.get_by_label("Erteilt am").fill(today)
    form.get_by_role("button", name="Speichern").click()
    expect(page.get_by_role("status")).to_contain_text("Einwilligung erteilt: gespeichert")
    browser.shot("fall-pate-einwilligung")
    browser.sign_out()

    # -- the mentor sees her two mentees, each with only what they consented to share ---------
    browser.sign_in(VOLUNTEER)
    expect(page.get_by_role("heading", level=1)).to_have_text("Meine Patenschaften")
    nav = page.get_by_role("navigation", name="Hauptnavigation")
    expect(nav.get_by_role("link")).to_have_text(["Meine Patenschaften", "Angebote"])
    mentees = page.locator("section.mentee")
    expect(mentees).to_have_count(2)
    names = sorted(h.inner_text() for h in mentees.get_by_role("heading").all())
    assert names == ["Oleksandr Kovalenko", "Yonas Haile"], names
    yonas = mentees.filter(has_text="Yonas Haile")
    expect(yonas).to_contain_text(f"Patenschaft seit {today}")
    expect(yonas).to_contain_text("Arbeitsstelle bei Elektro Dahmen GmbH seit 01.07.2026")
    expect(yonas).to_contain_text("Ihre Begleitung geht weiter")
    expect(yonas).to_contain_text("Freigegeben: Vor- und Nachname, Praktika, Ausbildung, Arbeit")
    for hidden in ("Hückelhoven", "Wohnort", "Geburtsdatum", "02.11.1990", "Deutschkenntnisse"):
        expect(yonas).not_to_contain_text(hidden)
    oleksandr = mentees.filter(has_text="Oleksandr Kovalenko")
    expect(oleksandr.locator("dt", has_text="Wohnort")).to_have_count(1)  # he shared it
    expect(oleksandr).to_contain_text("Ihre Begleitung geht weiter")  # placed in June
    expect(page.locator("main")).not_to_contain_text("Haddad")  # not her mentee
    browser.shot("meine-patenschaften")
    refused = page.request.get(f"{browser.base}/ui/cases/{case_id}")
    assert refused.status == 403, refused.status
    directory = page.request.get(f"{browser.base}/ui/volunteers").text()  # as the API: herself
    assert "1 Person" in directory
    assert "Petra Lang" in directory
    assert "Hans Jansen" not in directory


def test_an_employer_sees_only_people_who_consented(browser: Browser) -> None:
    page = browser.page
    occupation = f"Elektriker {secrets.token_hex(2)}"  # an offer of this test's own

    # -- the employer publishes an offer and sees its candidates: only the consenting one ------
    browser.sign_in(EMPLOYER)
    expect(page.get_by_role("heading", level=1)).to_have_text("Unsere Angebote")
    nav = page.get_by_role("navigation", name="Hauptnavigation")
    expect(nav.get_by_role("link")).to_have_text(["Unsere Angebote", "Unser Betrieb"])
    nav.get_by_role("link", name="Unser Betrieb").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Elektro Dahmen GmbH")
    form = page.locator("form", has=page.get_by_role("button", name="Angebot veröffentlichen"))
    form.get_by_label("Art des Angebots").select_option(label="Ausbildung")
    form.get_by_label("Beruf").fill(occupation)
    expect(form.get_by_label("Ort")).to_have_value("Wassenberg")
    form.get_by_label("Deutschkenntnisse mindestens").select_option("A2")
    form.get_by_label("Beginn").fill("01.08.2027")
    browser.shot("angebot-veroeffentlichen")
    form.get_by_role("button", name="Angebot veröffentlichen").click()
    expect(page.get_by_role("status")).to_contain_text("Das Angebot ist veröffentlicht")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{occupation}: Ausbildung")
    offer_url = page.url.split("?")[0]
    shown = page.locator("li.candidate")
    expect(shown).to_have_count(1)
    expect(shown.get_by_role("heading")).to_contain_text("Haile, Yonas")
    expect(shown).to_contain_text("Freigegeben:")
    expect(shown).not_to_contain_text("Geburtsdatum")  # not consented
    expect(shown.get_by_role("link")).to_have_count(0)  # no way into the case
    employer_view = page.locator("main").inner_text()
    browser.shot("arbeitgeber-kandidaten")
    assert page.request.get(f"{browser.base}/ui/cases").status == 403
    assert page.request.get(f"{browser.base}/ui/volunteers").status == 403
    other = page.request.get(f"{browser.base}/ui/offers?municipality=Metzingen")
    assert "Textilwerk" not in other.text()  # another employer's offers stay hidden
    browser.sign_out()

    # -- the Agentur sees more people for the same offer: they did not consent ------------------
    browser.sign_in(AGENTUR_CASEWORKER)
    page.goto(offer_url)
    staff = [h.inner_text() for h in page.locator("li.candidate h3").all()]
    others = [re.sub(r"\s*Eignung.*", "", h).strip() for h in staff if "Haile" not in h]
    assert len(others) >= 5, staff
    for name in others:
        assert name not in employer_view, name
    browser.shot("agentur-kandidaten")
    browser.sign_out()

    # -- the employer withdraws the offer -----------------------------------------------------
    browser.sign_in(EMPLOYER)
    page.goto(offer_url)
    page.locator("#form-withdraw summary").click()
    page.get_by_label("Grund für das Zurückziehen").fill("Stelle intern besetzt")
    page.get_by_role("button", name="Angebot zurückziehen").click()
    expect(page.get_by_role("status")).to_contain_text("Das Angebot ist zurückgezogen")
    expect(page.locator("dd[data-state]")).to_have_text("zurückgezogen")
    expect(page.get_by_role("heading", name="Angebot verwalten")).to_have_count(0)
    browser.shot("angebot-zurueckgezogen")
