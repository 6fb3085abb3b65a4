"""The overdue e-mail, end to end (issue 19's acceptance): an offered handover whose answer
deadline has passed puts the "überfällig" mail into a real SMTP server (aiosmtpd on a free
loopback port), and its link, followed in the browser, opens the Jobcenter's handover inbox
(after the sign-in) and from there the case.

The deadline is passed as ``tests/notifications`` pass it: the mail outbox reads an injectable
clock, which this test moves. So this server runs in the test's process (uvicorn in a thread,
the demo's sign-in and users, no demo cases) instead of the shared ``staffel serve --demo``."""

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
from tests.support.smtp import Handler, smtp_server
from tests.web.browser.conftest import ARTIFACTS

TEAM = "team@jobcenter-heinsberg.example"  # demo/orgs.toml's team address of the Jobcenter


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


def test_the_overdue_mail_links_to_the_inbox_that_opens_the_case(
    served: Served, context: BrowserContext
) -> None:
    api = httpx.Client(base_url=served.base, timeout=20)
    agentur = served.token("a.schmitz", AGENTUR, "Anna Schmitz")
    jobcenter = served.token("j.hoffmann", JOBCENTER, "Julia Hoffmann")
    body = registration(person=person(given_name="Selam", family_name="Berhane"))
    r = api.post("/cases", json=body, headers=agentur)
    assert r.status_code == 201, r.text
    case_id = r.json()["case_id"]
    r = api.post(f"/cases/{case_id}/events", json=RECOGNIZED, headers=agentur)
    assert r.status_code == 201, r.text

    def offered() -> list[dict[str, str]]:
        r = api.get("/handovers", params={"direction": "incoming", "state": "offered"},
                    headers=jobcenter)  # fmt: skip
        return [i for i in r.json()["items"] if i["case_id"] == case_id]

    assert wait_until(lambda: bool(offered()), 20), "the policy made no offer"
    due_on = date.fromisoformat(offered()[0]["due_on"])
    served.smtp.wait_for(1)  # the offer's own mail
    assert [m.kind for m in served.smtp.received] == ["handover_offered"]

    served.clock.set(at(due_on, 23, 50))  # the deadline's last day: not overdue yet
    served.clock.set(at(due_on + timedelta(days=1), 0, 5))
    [*_, mail] = served.smtp.wait_for(2)
    assert mail.kind == "handover_overdue"
    assert mail.recipients == [TEAM]
    assert "überfällig" in mail.message["Subject"]
    assert "Selam" not in mail.text
    assert "Berhane" not in mail.text
    [link] = re.findall(r"https?://\S+", mail.text)
    assert link == f"{served.base}/ui/handovers?direction=incoming"

    folder = ARTIFACTS / "test_the_overdue_mail_links_to_the_inbox_that_opens_the_case"
    folder.mkdir(parents=True, exist_ok=True)
    page = context.new_page()
    context.clear_cookies()
    browser = Browser(page, served.base, folder)
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
