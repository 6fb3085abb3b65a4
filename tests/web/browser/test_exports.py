"""The working group's export in a real browser (issue 19): the Siegen team lead chooses this
quarter on the statistics page, downloads the XLSX and finds in it, sheet by sheet, the figures
the page shows (openpyxl opens the file as Excel would)."""

from __future__ import annotations

import io
from pathlib import Path

from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from domain.policy import today_in_germany
from tests.support.browser import Browser

TEAM_LEAD = "c.kraemer"


def page_table(page: Page, key: str) -> list[tuple[str, int]]:
    table = page.locator(f"table[data-table={key}]")
    rows = []
    for row in table.locator("tbody tr").all():
        cells = row.locator("td").all_text_contents()
        rows.append((cells[0], int(cells[1])))
    return rows


def test_the_team_lead_downloads_the_quarter_as_xlsx(browser: Browser) -> None:
    page = browser.page
    today = today_in_germany()
    quarter = f"{(today.month - 1) // 3 + 1}. Quartal {today.year}"
    browser.sign_in(TEAM_LEAD)
    page.get_by_role("link", name="Statistik").click()
    page.get_by_label("oder Quartal").select_option(label=quarter)
    page.get_by_role("button", name="Anzeigen").click()
    expect(page.locator("[data-period]")).to_have_text(quarter)
    browser.shot("statistik-quartal")
    keys = page.locator("table[data-table]").evaluate_all("ts => ts.map(t => t.dataset.table)")
    shown = {key: page_table(page, key) for key in keys}
    assert sum(n for _, n in shown["weeks"]) > 0  # the demo's intake falls in this quarter
    assert len(shown["counsellors"]) > 1

    with page.expect_download() as download:
        page.get_by_role("link", name="Excel (XLSX)").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    book = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))
    assert book.sheetnames[0] == "Übersicht"
    assert dict(book["Übersicht"].iter_rows(values_only=True))["Zeitraum"] == quarter
    exported = {}
    for sheet in book.sheetnames[1:]:
        rows = list(book[sheet].iter_rows(values_only=True))
        exported[sheet] = [(str(label), n) for label, n in rows[1:]]
    captions = page.locator("table[data-table] caption").all_text_contents()
    by_title = dict(zip(captions, keys, strict=True))
    titles = {  # each sheet's figure, as the page titles it
        "Registrierungen je Woche": "weeks", "Fälle je Dienststelle": "offices",
        "Fälle je Fallbearbeitung": "counsellors", "Förderbedarf": "support",
        "Maßnahmen": "measures", "Vermittlungen": "placements", "Tage bis zur Übergabe": "days",
    }  # fmt: skip
    assert set(titles.values()) == set(by_title.values())
    for sheet, key in titles.items():
        assert exported[sheet] == shown[key], sheet
