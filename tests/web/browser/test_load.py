"""Scenario 3 (Integration Point Siegen at full load) and scenario 1 (St. Wendel) within one
deployment, on the demo data set: a counsellor registers a person and the team lead's figures
follow; the working group's figures for the Saarland; the municipal Jobcenter takes a case."""

from __future__ import annotations

import secrets

from playwright.sync_api import Locator, Page, expect

from demo.seed import DEMO_USERS
from demo.siegen import COUNSELLORS, NAMES, OFFICE_OLPE, OFFICE_SIEGEN, WEEKLY_INTAKE
from tests.support.browser import Browser

COUNSELLOR, TEAM_LEAD = "d.schneider", "c.kraemer"
AGENTUR_SAARLAND, ST_WENDEL = "s.klein", "t.weber"


def shown(sub: str) -> str:
    """A Siegen counsellor as the pages name them (the demo's staff directory)."""
    name = NAMES.get(sub) or next(u[1] for u in DEMO_USERS if u[0] == sub)
    return f"{name} (Integration Point Siegen (Agentur für Arbeit Siegen))"


def figure(page: Page, name: str) -> str:
    return page.locator(f"dd[data-figure={name}]").inner_text()


def table(page: Page, key: str) -> dict[str, int]:
    """A chart's numbers, from the table beside it (opened like a keyboard user would)."""
    holder: Locator = page.locator("details", has=page.locator(f"table[data-table={key}]"))
    holder.locator("summary").click()
    rows = holder.locator("tbody tr").all()
    return {
        r.locator("td").first.inner_text(): int(r.locator("td").last.inner_text()) for r in rows
    }


def test_scenario_3_the_team_lead_sees_the_load(browser: Browser) -> None:
    page = browser.page
    seeded = sum(WEEKLY_INTAKE)
    assert seeded == sum(held for _, held in COUNSELLORS.values())

    # -- a counsellor registers this week's newcomer ---------------------------------------------
    browser.sign_in(COUNSELLOR)
    expect(page.get_by_role("heading", name="Meine Fälle")).to_be_visible()
    family = f"Darwish-{secrets.token_hex(3)}"
    page.get_by_role("link", name="Person registrieren").click()
    page.get_by_label("Vorname").fill("Nour")
    page.get_by_label("Familienname").fill(family)
    page.get_by_label("Geburtsdatum").fill("14.02.1996")
    page.get_by_label("Staatsangehörigkeit").fill("SY")
    page.get_by_label("Wohnort (Gemeinde)").fill("Siegen")
    page.get_by_label("Dienststelle").select_option(OFFICE_SIEGEN)
    page.get_by_role("button", name="Registrieren").click()
    expect(page.get_by_role("status")).to_contain_text("Die Person ist registriert")
    browser.sign_out()

    # -- the team lead's figures -----------------------------------------------------------------
    browser.sign_in(TEAM_LEAD)
    page.get_by_role("link", name="Statistik").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Statistik: Integration Point Siegen (Agentur für Arbeit Siegen)"
    )
    expect(page.locator("dd[data-figure=active]")).to_have_text(str(seeded + 1))
    expect(page.locator("dd[data-figure=this_week]")).to_have_text("1")
    expect(page.locator("dd[data-figure=weekly]")).to_have_text(
        f"{seeded / len(WEEKLY_INTAKE):.1f}".replace(".", ",")
    )
    support = int(figure(page, "support").removesuffix(" %"))
    assert 85 <= support <= 95, support  # about 90 % need particular support
    measures = int(figure(page, "measures"))
    assert seeded // 2 <= measures < seeded, measures  # language courses for most
    browser.shot("teamleitung-kennzahlen")

    counsellors = table(page, "counsellors")
    expected = {shown(sub): held for sub, (_, held) in COUNSELLORS.items()}
    expected[shown(COUNSELLOR)] += 1  # the newcomer
    assert counsellors == expected, counsellors  # by name, from the staff directory
    first = page.locator("table[data-table=counsellors] tbody tr").first
    expect(first).to_contain_text(shown(COUNSELLOR))  # the largest caseload first
    offices = table(page, "offices")
    assert offices == {
        OFFICE_SIEGEN: sum(n for o, n in COUNSELLORS.values() if o == OFFICE_SIEGEN) + 1,
        OFFICE_OLPE: sum(n for o, n in COUNSELLORS.values() if o == OFFICE_OLPE),
    }, offices
    weeks = table(page, "weeks")
    assert list(weeks.values()) == [*WEEKLY_INTAKE, 1], weeks  # eight weeks, and this one
    chart = page.locator("svg[aria-labelledby='c-counsellors-t c-counsellors-d'] desc")
    expect(chart).to_contain_text(f"{shown(COUNSELLOR)}: {expected[shown(COUNSELLOR)]}")
    browser.shot("teamleitung-statistik")

    # -- the caseload of one office ----------------------------------------------------------------
    page.get_by_role("link", name="Meine Fälle").click()
    page.get_by_label("Dienststelle").select_option(OFFICE_OLPE)
    page.get_by_role("button", name="Suchen").click()
    expect(page.locator("main table caption")).to_have_text(
        f"{offices[OFFICE_OLPE]} Fälle, nach Namen sortiert"
    )
    expect(page.locator("main table tbody tr").first).to_contain_text(OFFICE_OLPE)
    browser.shot("teamleitung-faelle-olpe")


def test_scenario_1_st_wendel_in_one_deployment(browser: Browser) -> None:
    page = browser.page

    # -- the Agentur Saarland: its cases, the offer waiting at the Jobcenter ---------------------
    browser.sign_in(AGENTUR_SAARLAND)
    cases = page.locator("main table").last
    expect(cases).to_contain_text("Gebremedhin, Tesfay")
    expect(cases.locator("tr", has_text="Al-Sayed, Huda")).to_contain_text("angeboten")
    page.get_by_role("link", name="Übergaben: Ausgang").click()
    expect(page.locator("main table")).to_contain_text("Kommunale Arbeitsförderung")
    browser.shot("agentur-saarland-ausgang")
    page.get_by_role("link", name="Statistik").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Agentur für Arbeit Saarland")
    browser.shot("agentur-saarland-statistik")
    browser.sign_out()

    # -- the municipal Jobcenter accepts the case: the working group's figures move -----------
    browser.sign_in(ST_WENDEL)
    page.get_by_role("link", name="Statistik").click()
    before = int(figure(page, "active"))
    page.get_by_role("link", name="Übergaben: Eingang").click()
    row = page.locator("main table tbody tr", has_text="Al-Sayed")
    row.get_by_role("link", name="Al-Sayed, Huda").click()
    expect(page.locator("table.timeline")).to_contain_text("Kompetenzfeststellung")
    page.locator("#entscheidung").get_by_role("button", name="Übergabe annehmen").click()
    expect(page.get_by_role("status")).to_contain_text("Sie haben die Übergabe angenommen")
    page.get_by_role("link", name="Statistik").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Kommunale Arbeitsförderung")
    expect(page.locator("dd[data-figure=active]")).to_have_text(str(before + 1))
    expect(page.locator("dd[data-figure=median_days]")).to_be_visible()
    expect(page.locator("svg[aria-labelledby='c-days-t c-days-d'] desc")).to_contain_text(
        "2 Übergaben"
    )
    browser.shot("st-wendel-statistik")
