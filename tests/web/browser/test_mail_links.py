"""E-mails followed into the browser (issue 19's acceptance): an offered handover whose answer
deadline has passed puts the "überfällig" mail into a real SMTP server (aiosmtpd on a free
loopback port), and its link, followed in the browser, opens the Jobcenter's handover inbox
(after the sign-in) and from there the case; a caseworker orders the daily digest of her due
follow-ups on the Einstellungen page, and the digest's link opens *Meine Wiedervorlagen*.

Deadlines pass as ``tests/notifications`` pass them: the mail outbox reads an injectable clock,
which these tests move. So this server runs in the test's process (uvicorn in a thread, the
demo's sign-in and users, no demo cases) instead of the shared ``staffel serve --demo``."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import uvicorn
from playwright.sync_api import BrowserContext, expect

from adapters.auth import mint
from adapters.clock import SettableClock
from adapters.settings import Settings
from api.app import create_app
from bootstrap import Services, build_services, jwt_secret
from demo.seed import seed_directory
from tests.notifications.test_handover_mail import at
from tests.support.api import AGENTUR, JOBCENTER, RECOGNIZED, person, registration
from tests.support.browser import Browser
from tests.support.processes import free_port, wait_until
from tests.support.smtp import Handler, Received, smtp_server
from tests.web.browser.conftest import ARTIFACTS

TEAM = "team@jobcenter-heinsberg.example"  # demo/orgs.toml's team address of the Jobcenter
ADDRESS = "julia.hoffmann@demo.staffel.example"  # the demo sign-in's email claim


@dataclass
class Served:
    base: str
    services: Services
    clock: SettableClock
    smtp: Handler

    def token(self, sub: str, org: str, name: str) -> dict[str, str]:
        secret = jwt_secret(self.services.settings)
        assert secret is not None
        token = mint(secret, sub=sub, org=org, roles=["caseworker"], name=name)
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    with smtp_server() as (smtp, smtp_port):
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        settings = Settings(
            database_url=f"sqlite:///{tmp_path}/staffel.db", data_dir=tmp_path / "data",
            demo=True, seed=False, log_format="json", smtp_host="127.0.0.1",
            smtp_port=smtp_port, smtp_starttls=False, public_url=base,
            mail_from="staffel@kreis-heinsberg.example",
        )  # fmt: skip
        clock = SettableClock(datetime.now(UTC))
        services = build_services(settings, clock=clock)
        seed_directory(services)  # the demo users' names and sign-in buttons
        server = uvicorn.Server(
            uvicorn.Config(
                create_app(settings, services), host="127.0.0.1", port=port, log_level="warning"
            )
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        try:
            assert wait_until(lambda: server.started, 20), "the server did not start"
            yield Served(base, services, clock, smtp)
        finally:
            server.should_exit = True
            thread.join(20)
            services.close()


def offered_case(served: Served, given: str, family: str) -> tuple[str, date]:
    """A case of the Agentur, recognised, offered to the Jobcenter by the policy: its id and
    the answer deadline."""
    api = httpx.Client(base_url=served.base, timeout=20)
    agentur = served.token("a.schmitz", AGENTUR, "Anna Schmitz")
    jobcenter = served.token("j.hoffmann", JOBCENTER, "Julia Hoffmann")
    body = registration(person=person(given_name=given, family_name=family))
    r = api.post("/cases", json=body, headers=agentur)
    assert r.status_code == 201, r.text
    case_id = str(r.json()["case_id"])
    r = api.post(f"/cases/{case_id}/events", json=RECOGNIZED, headers=agentur)
    assert r.status_code == 201, r.text

    def offered() -> list[dict[str, str]]:
        r = api.get("/handovers", params={"direction": "incoming", "state": "offered"},
                    headers=jobcenter)  # fmt: skip
        return [i for i in r.json()["items"] if i["case_id"] == case_id]

    assert wait_until(lambda: bool(offered()), 20), "the policy made no offer"
    return case_id, date.fromisoformat(offered()[0]["due_on"])


def page_of(context: BrowserContext, served: Served, test: str) -> Browser:
    folder = ARTIFACTS / test
    folder.mkdir(parents=True, exist_ok=True)
    context.clear_cookies()
    return Browser(context.new_page(), served.base, folder)


def test_the_overdue_mail_links_to_the_inbox_that_opens_the_case(
    served: Served, context: BrowserContext
) -> None:
    case_id, due_on = offered_case(served, "Selam", "Berhane")
    served.smtp.wait_for(1)  # the offer's own mail
    assert [m.kind for m in served.smtp.received] == ["handover_offered"]

    served.clock.set(at(due_on + timedelta(days=1), 0, 5))
    [*_, mail] = served.smtp.wait_for(2)
    assert mail.kind == "handover_overdue"
    assert mail.recipients == [TEAM]
    assert "überfällig" in mail.message["Subject"]
    assert "Selam" not in mail.text
    assert "Berhane" not in mail.text
    [link] = re.findall(r"https?://\S+", mail.text)
    assert link == f"{served.base}/ui/handovers?direction=incoming"

    browser = page_of(context, served, "test_the_overdue_mail_links_to_the_inbox")
    page = browser.page
    try:
        page.goto(link)  # from the mail: first the sign-in, then the inbox the link names
        expect(page.get_by_role("heading", name="Anmelden", exact=True)).to_be_visible()
        browser.check()
        page.locator('button[data-user="j.hoffmann"]').click()
        expect(page).to_have_url(link)
        row = page.locator("tbody tr").filter(has_text="Berhane")
        expect(row).to_contain_text("Agentur für Arbeit Aachen-Düren")
        expect(row).to_contain_text(due_on.strftime("%d.%m.%Y"))
        browser.shot("eingang-aus-der-mail")
        row.get_by_role("link", name=re.compile("Berhane")).click()
        expect(page).to_have_url(re.compile(rf"/ui/cases/{case_id}"))
        expect(page.get_by_role("heading", level=1)).to_contain_text("Berhane")
        browser.shot("fall")
    finally:
        page.close()
    failed = list(dict.fromkeys(browser.problems))
    assert not failed, "pages that fail the page checks:\n" + "\n".join(failed)


def test_a_caseworker_orders_the_digest_and_its_link_opens_her_follow_ups(
    served: Served, context: BrowserContext
) -> None:
    """Julia Hoffmann ticks the daily digest under Einstellungen; the morning after her team's
    handover follow-up fell due the digest arrives at her work address (the demo provider's
    ``email`` claim), counts only, and its link opens *Meine Wiedervorlagen*."""
    browser = page_of(context, served, "test_a_caseworker_orders_the_digest")
    page = browser.page
    try:
        browser.sign_in("j.hoffmann")
        page.get_by_role("link", name="Einstellungen").click()
        expect(page.get_by_role("heading", name="Benachrichtigungen")).to_be_visible()
        expect(page.locator("[data-email]")).to_contain_text(ADDRESS)
        box = page.get_by_label("Tägliche Übersicht meiner fälligen Wiedervorlagen per E-Mail")
        expect(box).not_to_be_checked()
        box.check()
        page.get_by_role("button", name="Speichern").click()
        expect(page.get_by_role("status")).to_have_text("Ihre Einstellungen sind gespeichert.")
        expect(box).to_be_checked()
        browser.shot("einstellungen")

        _, due_on = offered_case(served, "Hagos", "Weldemariam")
        served.clock.set(at(due_on + timedelta(days=1), 8))
        assert wait_until(lambda: bool(digests(served)), 20), "no digest"
        [digest] = digests(served)
        assert digest.recipients == [ADDRESS]
        assert "für Ihr Team: 1 überfällig, 0 heute fällig" in digest.text
        assert "Hagos" not in digest.text
        assert "Weldemariam" not in digest.text
        link = f"{served.base}/ui/follow-ups"
        assert link in re.findall(r"https?://\S+", digest.text)

        page.goto(link)
        expect(page.get_by_role("heading", name="Meine Wiedervorlagen")).to_be_visible()
        expect(page.locator("tbody tr").filter(has_text="Weldemariam")).to_be_visible()
        browser.shot("wiedervorlagen-aus-der-mail")
    finally:
        browser.check()
        page.close()
    failed = list(dict.fromkeys(browser.problems))
    assert not failed, "pages that fail the page checks:\n" + "\n".join(failed)


def digests(served: Served) -> list[Received]:
    return [m for m in served.smtp.received if m.kind == "follow_up_digest"]
