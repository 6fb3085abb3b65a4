"""Browser tests: Debian's chromium driven by Playwright against ``staffel serve --demo`` in a
subprocess (its own data directory, the demo data set as ``make run`` loads it). No browser is
ever downloaded: the tests use ``/usr/bin/chromium`` (``make install`` puts it there) and skip
without it, or fail under CI.

The tests share one server: each works on people and offers of its own (or registers them), so
they pass in any order."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, sync_playwright

from tests.support import page_checks
from tests.support.browser import Browser
from tests.support.processes import free_port

CHROMIUM = os.environ.get("STAFFEL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-quic",
    "--disable-sync",
]
STAFFEL = str(Path(sys.executable).with_name("staffel"))
ARTIFACTS = Path(os.environ.get("STAFFEL_BROWSER_ARTIFACTS", Path(__file__).parent / "artifacts"))
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/readyz", timeout=1) as r:
            return bool(r.status == 200)
    except OSError:
        return False


def _caught_up(url: str) -> bool:
    """Every read model has processed the demo data set (no projection lags behind)."""
    with urllib.request.urlopen(url + "/metrics", timeout=5) as r:
        text = r.read().decode()
    lags = re.findall(r"^staffel_projection_lag_events\{[^}]*\} (\S+)$", text, re.MULTILINE)
    return bool(lags) and all(float(n) == 0 for n in lags)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``staffel serve --demo`` on a free loopback port, with the demo data set (``make run``)."""
    data = tmp_path_factory.mktemp("staffel-browser")
    port = free_port()
    env = {
        **os.environ,
        "STAFFEL_DATA_DIR": str(data),
        "STAFFEL_SEED": "true",
        "STAFFEL_LOG_FORMAT": "json",
    }
    env.pop("STAFFEL_DATABASE_URL", None)
    log = (data / "server.log").open("w")
    process = subprocess.Popen(
        [STAFFEL, "serve", "--demo", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while not _ready(url):
        assert process.poll() is None, (data / "server.log").read_text()
        assert time.monotonic() < deadline, "the server did not become ready"
        time.sleep(0.1)
    while not _caught_up(url):
        assert time.monotonic() < deadline, "the read models did not catch up with the demo data"
        time.sleep(0.1)
    yield url
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


@pytest.fixture(scope="session")
def context(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    """Headless chromium with a fresh profile, in German."""
    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} is missing: run `make install` (apt-get install chromium)"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    if not page_checks.AXE.exists():
        message = f"{page_checks.AXE} is missing: run `make install` (npm ci in tests/oidc)"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    with sync_playwright() as p:
        browser = p.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            locale="de-DE",
            timezone_id="Europe/Berlin",
            viewport={"width": 1280, "height": 900},
            bypass_csp=True,  # only here: axe-core is injected into every page (page_checks)
        )
        browser.set_default_timeout(10_000)
        yield browser
        browser.close()


@pytest.fixture
def browser(
    server: str, context: BrowserContext, request: pytest.FixtureRequest
) -> Iterator[Browser]:
    folder = ARTIFACTS / re.sub(r"[^A-Za-z0-9_.-]", "_", request.node.name)
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    page = context.new_page()
    shown = Browser(page, server, folder)
    yield shown
    shown.check()  # the page the test ends on
    page.close()
    failed = list(dict.fromkeys(shown.problems))
    assert not failed, "pages that fail the page checks:\n" + "\n".join(failed)
