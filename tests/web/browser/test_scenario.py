"""Scenario 2 (Kreis Heinsberg) in a real browser, within one deployment: the Agentur registers a
person, records an assessment and the recognition; the handover policy offers the case to the
Jobcenter, whose caseworker reads the history in the inbox and accepts it; the Agentur can no
longer edit; an auditor verifies the case. A screenshot of every page is kept."""

from __future__ import annotations

import re
import secrets
from datetime import date, timedelta

from playwright.sync_api import expect

from domain.policy import today_in_germany
from tests.support.browser import Browser

AGENTUR_CASEWORKER = "a.schmitz"
JOBCENTER_CASEWORKER = "j.hoffmann"
AUDITOR = "r.prueferin"


def german(day: date) -> str:
    return f"{day:%d.%m.%Y}"


def test_scenario_2_handover_from_agentur_to_jobcenter(browser: Browser) -> None:
    page = browser.page
    family = f"Tesfaye-{secrets.token_hex(3)}"
    bamf = f"{secrets.randbelow(9 * 10**6) + 10**6}-224"
    assessed_on, decided_on = (
        today_in_germany() - timedelta(days=40),
        today_in_germany() - timedelta(days=3),
    )

    # -- the Agentur caseworker registers the person ------------------------------------------
    browser.go("/ui/sign-in")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    browser.shot("anmelden")
    browser.sign_in(AGENTUR_CASEWORKER)
    expect(page.get_by_role("heading", name="Meine Fälle")).to_be_visible()
    browser.shot("agentur-meine-faelle")
    page.get_by_role("link", name="Person registrieren").click()
    page.get_by_label("Vorname").fill("Rahel")
    page.get_by_label("Familienname").fill(family)
    page.get_by_label("Geburtsdatum").fill("07.03.1994")
    page.get_by_label("Staatsangehörigkeit").fill("Eritrea")  # by name, from the picker
    page.get_by_label("Sprache 1").fill("Tigrinya")
    page.get_by_label("Sprache 2").fill("Arabisch")
    page.get_by_label("BAMF-Aktenzeichen").fill(bamf)
    page.get_by_label("Wohnort (Gemeinde)").fill("Erkelenz")
    page.get_by_label("Dienststelle").select_option("Integration Point Heinsberg")
    browser.shot("registrieren")
    page.get_by_role("button", name="Registrieren").click()
    expect(page.get_by_role("status")).to_contain_text("Die Person ist registriert")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{family}, Rahel")
    case_id = browser.case_id()
    browser.shot("fall-registriert")

    # -- the assessment ----------------------------------------------------------------------------
    page.locator("#form-CompetenceAssessed summary").click()
    form = page.locator("#form-CompetenceAssessed")
    form.get_by_label("Verfahren").fill("MYSKILLS")
    form.get_by_label("Durchgeführt am").fill(german(assessed_on))
    form.get_by_label("Deutschkenntnisse").select_option("A2")
    form.get_by_label("Beruf 1", exact=True).fill("Schneiderin")
    form.get_by_label("Jahre im Beruf 1").fill("4")
    form.get_by_label("Besonderer Förderbedarf").check()
    browser.shot("kompetenzfeststellung-formular")
    form.get_by_role("button", name="Speichern").click()
    expect(page.get_by_role("status")).to_contain_text("Kompetenzfeststellung: gespeichert")
    timeline = page.locator("table.timeline")
    expect(timeline).to_contain_text("Kompetenzfeststellung (MYSKILLS): Deutsch A2")
    expect(timeline).to_contain_text(german(assessed_on))

    # -- the recognition; the handover policy offers the case to the Jobcenter ------------------
    page.locator("#form-AsylumRecognized summary").click()
    form = page.locator("#form-AsylumRecognized")
    form.get_by_label("Schutzstatus").select_option(label="Flüchtlingseigenschaft")
    form.get_by_label("Bescheid vom").fill(german(decided_on))
    form.get_by_role("button", name="Speichern").click()
    expect(page.get_by_role("status")).to_contain_text("Asyl anerkannt: gespeichert")
    for _ in range(50):  # the policy runs in the background: read again until its offer shows
        # in the timeline and in the handover section (two read models, caught up one by one)
        offered = "Übergabe an Jobcenter Kreis Heinsberg angeboten" in timeline.inner_text()
        if offered and page.locator("#uebergabe").count():
            break
        page.wait_for_timeout(200)
        page.reload()
    expect(timeline).to_contain_text("Übergabe an Jobcenter Kreis Heinsberg angeboten")
    expect(page.locator("#uebergabe")).to_contain_text("Jobcenter Kreis Heinsberg")
    browser.shot("agentur-fall-angeboten")
    browser.go("/ui/handovers?direction=outgoing")
    expect(page.locator("main table")).to_contain_text(family)
    browser.shot("agentur-ausgang")
    browser.sign_out()

    # -- the Jobcenter caseworker finds the offer in the inbox, reads the history, accepts ------
    browser.sign_in(JOBCENTER_CASEWORKER)
    expect(page.get_by_role("heading", name="Übergaben, die auf Sie warten")).to_be_visible()
    browser.shot("jobcenter-meine-faelle")
    page.get_by_role("link", name="Übergaben: Eingang").click()
    row = page.locator("main table tbody tr", has_text=family)
    expect(row).to_contain_text("Agentur für Arbeit Aachen-Düren")
    expect(row).to_contain_text("angeboten")
    browser.shot("jobcenter-eingang")
    row.get_by_role("link", name=re.compile(family)).click()
    for text in (
        "Fall registriert: Rahel",
        "Kompetenzfeststellung (MYSKILLS)",
        "Asyl anerkannt: Flüchtlingseigenschaft",
        "Übergabe an Jobcenter Kreis Heinsberg angeboten",
    ):
        expect(timeline).to_contain_text(text)
    decision = page.locator("#entscheidung")
    version = len(timeline.locator("tbody tr").all())
    expect(decision).to_contain_text(f"Stand {version}")
    digest = decision.locator("code[data-digest]").inner_text()
    assert re.fullmatch(r"[0-9a-f]{64}", digest), digest
    browser.shot("jobcenter-uebergabe-pruefen")
    decision.get_by_role("button", name=f"Übergabe annehmen (Stand {version})").click()
    expect(page.get_by_role("status")).to_contain_text("Sie haben die Übergabe angenommen")
    expect(page.locator("#summary-h + .columns")).to_contain_text("Jobcenter Kreis Heinsberg")
    expect(timeline).to_contain_text(f"Übergabe angenommen: Stand {version} bestätigt")
    expect(timeline).to_contain_text(
        "Rechtskreiswechsel: Agentur für Arbeit Aachen-Düren (SGB III)"
    )
    expect(page.get_by_role("heading", name="Eintrag erfassen")).to_be_visible()
    browser.shot("jobcenter-fall-uebernommen")
    browser.go("/ui/statistics")
    expect(page.locator("svg[role=img]").first).to_be_visible()
    browser.shot("jobcenter-statistik")
    browser.sign_out()

    # -- the Agentur can no longer edit --------------------------------------------------------
    browser.sign_in(AGENTUR_CASEWORKER)
    browser.go(f"/ui/cases/{case_id}")
    expect(page.get_by_role("note")).to_contain_text("Dieser Fall ist übergeben")
    expect(page.get_by_role("heading", name="Eintrag erfassen")).to_have_count(0)
    expect(page.locator("main form")).to_have_count(0)
    expect(timeline).not_to_contain_text("Übergabe angenommen")  # the Jobcenter's own entries
    browser.shot("agentur-fall-uebergeben")
    csrf = page.locator("header input[name=csrf]").get_attribute("value")
    refused = page.request.post(
        f"{browser.base}/ui/cases/{case_id}/forms/NoteRecorded",
        form={"csrf": csrf or "", "text": "noch ein Vermerk", "category": "general"},
    )
    assert refused.status == 403, refused.status
    assert "Nur die zuständige Stelle" in refused.text()
    browser.sign_out()

    # -- an auditor opens and verifies the case -------------------------------------------------
    browser.sign_in(AUDITOR)
    browser.go(f"/ui/cases/{case_id}")
    expect(timeline).to_contain_text("Übergabe angenommen")
    browser.shot("pruefung-fall")
    page.get_by_role("link", name="Hash-Kette dieses Falls prüfen").click()
    expect(page.get_by_role("status")).to_contain_text("Keine Auffälligkeiten")
    expect(page.locator("dl.facts")).to_contain_text(str(version + 2))  # accepted + switch
    browser.shot("pruefung-bericht")
    browser.go(f"/ui/audit/cases/{case_id}")
    page.get_by_role("button", name="Stand bei Annahme anzeigen").click()
    expect(page.locator("main")).to_contain_text(f"Stand {version} mit der Prüfsumme")
    expect(page.locator("main")).to_contain_text(digest)
    browser.shot("pruefung-stand-bei-annahme")
    browser.go(f"/ui/audit/access-log?case_id={case_id}")
    log = page.locator("main table")
    for reader in ("Anna Schmitz", "Julia Hoffmann", "Renate Prüfer"):  # names, not login ids
        expect(log).to_contain_text(reader)
    expect(log).to_contain_text("Fallakte angesehen")  # what was read, not its endpoint
    browser.shot("pruefung-zugriffe")
    browser.go(f"/ui/audit?case_id={case_id}")
    expect(page.locator("main table")).to_contain_text("Rechtskreiswechsel")
    browser.shot("pruefung-ereignisprotokoll")
