"""The browser tests' handle on one page of the shared chromium (``tests/web/browser``)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.support import page_checks


@dataclass
class Browser:
    """One page of the shared browser, signed in as a demo user at a time; screenshots of each
    page go to ``tests/web/browser/artifacts/<test>/``."""

    page: Page
    base: str
    folder: Path
    shots: list[Path] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    checked: set[str] = field(default_factory=set)

    def check(self) -> None:
        """The checks every visited page must pass (``page_checks``: axe-core, no ids in the
        text, reflow at 390 px), once per address; the test fails at its end if any failed."""
        key = self.page.url + "#" + str(hash(self.page.content()))
        if key not in self.checked:
            self.checked.add(key)
            self.problems += page_checks.problems(self.page)

    def go(self, path: str) -> Page:
        if self.page.url.startswith(self.base):
            self.check()  # the page being left
        self.page.goto(self.base + path)
        self.check()
        return self.page

    def shot(self, name: str) -> Path:
        self.check()
        path = self.folder / f"{len(self.shots) + 1:02d}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        self.shots.append(path)
        return path

    def sign_in(self, sub: str) -> None:
        self.page.context.clear_cookies()
        self.go("/ui/sign-in")
        self.page.locator(f'button[data-user="{sub}"]').click()
        expect(self.page.locator("header .who")).to_be_visible()
        self.check()

    def sign_out(self) -> None:
        self.page.get_by_role("button", name="Abmelden").click()
        expect(self.page.get_by_role("heading", name="Anmelden", exact=True)).to_be_visible()

    def case_id(self) -> str:
        found = re.search(r"/ui/cases/([0-9a-f-]{36})", self.page.url)
        assert found, self.page.url
        return found.group(1)
