"""The Übergabebogen in a real browser (issue 18): the Jobcenter caseworker opens it from an
incoming handover in the demo (Omar Khalil, offered by the Agentur Aachen-Düren), reads it,
downloads the PDF and checks its text, sees that the print stylesheet leaves the page's links
off paper, and then accepts the handover acknowledging the version and digest the sheet names."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import expect
from pypdf import PdfReader

from tests.support.browser import Browser

JOBCENTER_CASEWORKER = "j.hoffmann"


def test_the_sheet_of_an_incoming_handover_as_page_and_pdf_then_accept(browser: Browser) -> None:
    page = browser.page
    browser.sign_in(JOBCENTER_CASEWORKER)
    page.get_by_role("link", name="Übergaben: Eingang").click()
    row = page.locator("main table tbody tr", has_text="Khalil, Omar")
    expect(row).to_contain_text("Agentur für Arbeit Aachen-Düren")
    browser.shot("eingang")
    row.get_by_role("link", name="Übergabebogen").click()

    # -- the page: the case file at a glance, in German, with version and digest ----------------
    expect(page.get_by_role("heading", level=1)).to_have_text("Übergabebogen")
    main = page.locator("main")
    for text in ("Khalil, Omar", "Syrien (SY)", "Arabisch (ar)", "Kurdisch (ku)",
                 "Integrationskurs", "Agentur für Arbeit Aachen-Düren", "Jobcenter Kreis Heinsberg",
                 "Anna Schmitz", "Integrationskurs beginnen"):  # fmt: skip
        expect(main).to_contain_text(text)
    expect(main).to_contain_text(re.compile(r"Deutsch (A1|A2|B1), festgestellt am 20\.01\.2026"))
    version = page.locator("#sb-chain + dl dd").first.inner_text()
    digest = page.locator("#sb-chain + dl dd.mono").first.inner_text()
    assert re.fullmatch(r"[0-9a-f]{64}", digest), digest
    browser.shot("uebergabebogen")

    # -- on paper: the page's own links are left off ----------------------------------------
    tools = page.get_by_role("navigation", name="Übergabebogen")
    expect(tools).to_be_visible()
    page.emulate_media(media="print")
    expect(tools).to_be_hidden()
    browser.shot("uebergabebogen-druck")
    page.emulate_media(media="screen")

    # -- the PDF, downloaded: the same content ------------------------------------------------
    with page.expect_download() as download:
        page.get_by_role("link", name="Als PDF herunterladen").click()
    path = Path(download.value.path())
    assert path.read_bytes().startswith(b"%PDF-")
    text = "\n".join(p.extract_text() or "" for p in PdfReader(path).pages)
    for fact in (
        "Khalil, Omar",
        "Syrien (SY)",
        "Integrationskurs",
        f"Erstellt aus Version {version}",
    ):
        assert fact in text, fact
    assert digest in re.sub(r"\s+", "", text)

    # -- the decision: the version and digest the sheet names are the ones acknowledged -------
    page.get_by_role("link", name="Zur Entscheidung über die Übergabe").click()
    decision = page.locator("#entscheidung")
    expect(decision.locator("code[data-digest]")).to_have_text(digest)
    decision.get_by_role("button", name=f"Übergabe annehmen (Stand {version})").click()
    expect(page.get_by_role("status")).to_contain_text("Sie haben die Übergabe angenommen")
    browser.shot("angenommen")
