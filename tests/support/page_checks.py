"""What every page the browser tests visit must pass (issue 18): axe-core finds no WCAG 2.1 A or
AA violation; the rendered text shows no UUID, organisation id (slug of the orgs file) or login id
(the demo users' subs) outside the "Technische Details" fold; at 390 px width the page does not
scroll sideways (WCAG 2.1 reflow: wide tables scroll in their own container).

axe-core is the npm package pinned in ``tests/oidc/package.json`` (installed by the same
``npm ci`` as the OpenID provider); the browser context bypasses the Content-Security-Policy so
the script can be injected: only in tests."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from playwright.sync_api import Page, ViewportSize

from demo import siegen
from demo.seed import DEMO_USERS

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "tests" / "oidc" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
NARROW: ViewportSize = {"width": 390, "height": 844}
UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I)
TECHNICAL = "details.technical"  # the auditors' fold: ids may stand there


def _ids_not_for_people() -> re.Pattern[str]:
    orgs = tomllib.loads((ROOT / "demo" / "orgs.toml").read_text())["organisation"]
    slugs = [o["id"] for o in orgs]
    subs = [u[0] for u in DEMO_USERS] + list(siegen.NAMES)
    words = "|".join(re.escape(w) for w in sorted({*slugs, *subs}, key=len, reverse=True))
    return re.compile(rf"(?<![\w.-])(?:{words})(?![\w-])")


IDS = _ids_not_for_people()

_RUN_AXE = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
  return result.violations.map(v => `${v.id} (${v.impact}): ${v.help} -> ` +
    v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '));
}"""
_SHOWN_TEXT = """(technical) => {
  const copy = document.body.cloneNode(true);
  copy.querySelectorAll(technical).forEach(e => e.remove());
  copy.querySelectorAll('script, style, template').forEach(e => e.remove());
  const walker = document.createTreeWalker(copy, NodeFilter.SHOW_TEXT);
  const parts = [];  // each text node apart: "a.schmitz" beside "x" is not "a.schmitzx"
  while (walker.nextNode()) parts.push(walker.currentNode.nodeValue);
  return parts.join(' ');
}"""
_SIDEWAYS = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


def is_html(page: Page) -> bool:
    try:
        return bool(page.evaluate("() => document.contentType === 'text/html'"))
    except Exception:  # a download or a closed page has no document to check
        return False


def axe_violations(page: Page) -> list[str]:
    if not page.evaluate("() => typeof axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    return list(page.evaluate(_RUN_AXE, WCAG_TAGS))


def leaked_ids(page: Page) -> list[str]:
    """UUIDs, organisation slugs and login ids in the text a person reads on the page."""
    text = str(page.evaluate(_SHOWN_TEXT, TECHNICAL))
    return sorted({m.group(0) for m in UUID.finditer(text)} | set(IDS.findall(text)))


def sideways_at_390(page: Page) -> int:
    """How many pixels the page scrolls sideways at 390 px width (0: it reflows)."""
    before = page.viewport_size
    printing = bool(page.evaluate("() => matchMedia('print').matches"))
    if printing:  # a test looking at the print-out: reflow is about the screen
        page.emulate_media(media="screen")
    page.set_viewport_size(NARROW)
    try:
        return int(page.evaluate(_SIDEWAYS))
    finally:
        if before:
            page.set_viewport_size(before)
        if printing:
            page.emulate_media(media="print")


def problems(page: Page) -> list[str]:
    """Everything the page fails of the checks above, each naming the page."""
    if not is_html(page):
        return []
    where = page.url
    found = [f"{where}: axe {v}" for v in axe_violations(page)]
    found += [f"{where}: shows the id {i!r}" for i in leaked_ids(page)]
    overflow = sideways_at_390(page)
    if overflow > 0:
        found.append(f"{where}: scrolls {overflow} px sideways at 390 px width")
    return found
