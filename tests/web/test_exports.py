"""Exports for the working group (issue 19, ADR 0020): the statistics as XLSX and CSV hold the
statistics page's figures, for a month; bad periods are refused naming the field; every export
is access-logged; the caseload list exports only what its reader may see; the monthly report is a
PDF whose text carries the figures."""

from __future__ import annotations

import csv
import io
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from html import unescape
from unittest.mock import patch

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from pypdf import PdfReader

from adapters.auth import mint
from api import exports
from domain.aggregates.case_events import CaseEvent
from domain.policy import today_in_germany
from domain.principal import Principal, Role
from service_layer import statistics
from service_layer.periods import between
from service_layer.periods import month as months
from tests.support.api import (
    AGENTUR,
    ASSESSED,
    JOBCENTER,
    RECOGNIZED,
    SECRET,
    Api,
    auth,
    person,
    problem_of,
    registration,
)
from tests.support.web import csrf_of

MONTH = {"from": "2026-12-01", "to": "2026-12-31"}
LEAD = "tl-export"
LEAD_NAME = "Anna Beispiel"


def named(sub: str, org: str, role: str, name: str) -> str:
    return mint(SECRET, sub=sub, org=org, roles=[role], ttl=3600, name=name)


def web_client(api: Api, bearer: str) -> TestClient:
    client = TestClient(api.app)
    page = client.get("/ui/sign-in")
    r = client.post("/ui/sign-in", data={"csrf": csrf_of(page.text), "token": bearer})
    assert r.status_code == 200, r.text
    return client


def seed(api: Api, headers: dict[str, str]) -> list[str]:
    """Three cases of the Agentur, as a team would record them in December: two in an office,
    one without; assessments (two need support), a language course and a job."""
    family = "Export" + secrets.token_hex(3)
    ids = []
    for i, office in enumerate(("Düren", "Düren", None)):
        body = {"person": person(family_name=f"{family}{i}"), "office": office}
        r = api.client.post("/cases", json={**registration(), **body}, headers=headers)
        assert r.status_code == 201, r.text
        ids.append(str(r.json()["case_id"]))
    for case_id, need in zip(ids, (True, True, False), strict=True):
        api.record(case_id, {**ASSESSED, "assessed_on": "2026-11-20", "support_need": need},
                   headers)  # fmt: skip
    api.record(ids[0], {"type": "MeasureStarted", "measure_id": "m1", "kind": "integration_course",
                        "provider": "VHS Düren", "starts_on": "2026-12-02", "ends_on": None},
               headers)  # fmt: skip
    api.record(ids[1], {"type": "PlacementMade", "placement_id": "p1", "kind": "job",
                        "employer": "Bäckerei Schmitz", "starts_on": "2026-12-10",
                        "wage_subsidy": None, "offer_id": None}, headers)  # fmt: skip
    api.settle()
    return ids


def page_tables(html: str) -> dict[str, list[tuple[str, int]]]:
    """The page's figures: each chart's table (label, count), by its ``data-table`` key."""
    tables = {}
    for key, body in re.findall(r'<table data-table="(\w+)">.*?<tbody>(.*?)</tbody>', html, re.S):
        rows = re.findall(r'<tr><td>(.*?)</td><td class="num">(\d+)</td></tr>', body)
        tables[key] = [(unescape(label), int(n)) for label, n in rows]
    return tables


def page_figures(html: str) -> dict[str, str]:
    return {k: unescape(v) for k, v in re.findall(r'<dd data-figure="(\w+)">(.*?)</dd>', html)}


def test_the_statistics_export_holds_the_page_figures(api: Api) -> None:
    bearer = named(LEAD, AGENTUR, "team_lead", LEAD_NAME)
    headers = {"Authorization": f"Bearer {bearer}"}
    seed(api, headers)
    browser = web_client(api, bearer)  # the directory learns the team lead's name
    page = browser.get("/ui/statistics", params={"month": "2026-12"})
    assert page.status_code == 200, page.text
    shown = page_tables(page.text)
    assert set(shown) == {"weeks", "offices", "counsellors", "support", "measures",
                          "placements", "days"}  # fmt: skip
    assert f"{LEAD_NAME} (Agentur für Arbeit Aachen-Düren)" in dict(shown["counsellors"])
    assert LEAD not in dict(shown["counsellors"])  # names, not ids
    assert dict(shown["measures"])["Integrationskurs"] >= 1
    assert dict(shown["placements"])["Arbeitsstelle"] >= 1
    assert len(shown["weeks"]) == 5  # every week of December 2026, also those without intake
    assert "Dezember 2026" in page.text
    assert 'href="/ui/statistics/export?format=xlsx&amp;from=2026-12-01&amp;to=2026-12-31"' in (
        page.text
    )

    for client, path, params in (
        (api.client, "/statistics/export", {"headers": headers}),
        (browser, "/ui/statistics/export", {}),
    ):
        r = client.get(path, params={"format": "xlsx", **MONTH}, **params)
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
        assert "statistik-agentur-aachen-dueren-2026-12.xlsx" in r.headers["content-disposition"]
        book = load_workbook(io.BytesIO(r.content))
        sheets = {t.sheet: t for t in _tables(api, headers)}
        assert book.sheetnames == ["Übersicht", *sheets]
        for name, table in sheets.items():
            rows = list(book[name].iter_rows(values_only=True))
            assert rows[0] == table.head
            assert [(str(a), b) for a, b in rows[1:]] == shown[table.key], name
        overview = dict(book["Übersicht"].iter_rows(values_only=True))
        assert overview["Zeitraum"] == "Dezember 2026"
        assert overview["Organisation"] == "Agentur für Arbeit Aachen-Düren"
        figures = page_figures(page.text)
        assert str(overview["Laufende Fälle am Ende des Zeitraums"]) == figures["active"]
        assert str(overview["Vermittlungen"]) == figures["placements"]

    r = api.client.get("/statistics/export", params={"format": "csv", **MONTH}, headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads UTF-8
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["Abschnitt", "Merkmal", "Wert"]
    for table in _tables(api, headers):
        got = [(label, int(n)) for section, label, n in rows[1:] if section == table.title]
        assert got == shown[table.key], table.key


def _tables(api: Api, headers: dict[str, str]) -> list[statistics.Table]:
    """The tables of the service's document, in their order (the sheets' order)."""
    del headers
    reader = Principal(sub=LEAD, name=LEAD_NAME, org=AGENTUR, roles=frozenset({Role.TEAM_LEAD}))
    found = statistics.figures(api.services, reader, None, between(MONTH["from"], MONTH["to"]))
    return list(found.tables.values())


def test_bad_periods_are_refused_naming_the_field(api: Api) -> None:
    headers = auth("cw-x", AGENTUR)
    for params, field in (
        ({"format": "xlsx", "from": "2026-13-01", "to": "2026-12-31"}, "from"),
        ({"format": "xlsx", "from": "2026-12-01", "to": "31.12.2026"}, "to"),
        ({"format": "csv", "from": "2026-12-01", "to": "2026-11-30"}, "to"),
        ({"format": "csv", "from": "2026-12-01"}, "to"),
        ({"format": "csv", "to": "2026-12-01"}, "from"),
        ({"format": "csv", "from": "0001-01-01", "to": "9999-12-31"}, "to"),
        ({"format": "csv", "from": "2026-02-30", "to": "2026-03-31"}, "from"),
    ):
        r = api.client.get("/statistics/export", params=params, headers=headers)
        body = problem_of(r, 422)
        assert [e["field"] for e in body["errors"]] == [field], (params, body)
    r = api.client.get("/statistics/export", params={"format": "pdf"}, headers=headers)
    assert problem_of(r, 422)


def test_an_export_is_in_the_access_log(api: Api) -> None:
    sub = "cw-log-" + secrets.token_hex(3)
    headers = auth(sub, AGENTUR)
    r = api.client.get("/statistics/export", params={"format": "csv", **MONTH}, headers=headers)
    assert r.status_code == 200, r.text
    entries = api.services.access_log.entries(actor=sub)
    assert [(e["endpoint"], e["case_id"]) for e in entries] == [
        (statistics.EXPORT_ENDPOINT, statistics.NO_CASE)
    ]
    assert statistics.ACTIONS[entries[0]["endpoint"]] == "Statistik exportiert"


def test_the_caseload_export_holds_only_the_readers_own_cases(api: Api) -> None:
    family = "Liste" + secrets.token_hex(3)
    own = api.register(person=person(family_name=family))["case_id"]
    foreign = api.register(api.jobcenter, person=person(family_name=family + "j"))["case_id"]
    api.settle()
    reader = web_client(api, named("cw-liste", AGENTUR, "caseworker", "Lena Liste"))
    page = reader.get("/ui/cases", params={"q": family})
    heads = [unescape(h) for h in re.findall(r'<th scope="col">(.*?)</th>', page.text)][-10:]
    assert f'href="/ui/cases/export?format=xlsx&amp;q={family}"' in page.text
    r = reader.get("/ui/cases/export", params={"format": "xlsx", "q": family})
    assert r.status_code == 200, r.text
    rows = list(load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))
    assert list(rows[0]) == heads  # the columns shown
    assert [row[0] for row in rows[1:]] == [f"{family}, Rahel"]  # not the Jobcenter's case
    r = reader.get("/ui/cases/export", params={"format": "csv", "q": family})
    lines = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig")), delimiter=";"))
    assert [line[0] for line in lines] == [heads[0], f"{family}, Rahel"]
    logged = api.services.access_log.entries(actor="cw-liste")
    exported = [e["case_id"] for e in logged if e["endpoint"] == "GET /ui/cases/export"]
    assert exported == [own, own]  # one entry per exported case and export
    assert foreign not in {e["case_id"] for e in logged}
    assert statistics.ACTIONS.get("GET /ui/cases/export") == "Fallliste exportiert"
    lead = web_client(api, named("tl-liste", AGENTUR, "team_lead", "Tom Leitung"))
    report = lead.get(f"/ui/cases/{own}/subject-access-report")
    assert report.status_code == 200, report.text
    assert "Fallliste exportiert" in report.text  # the person learns of the export (Art. 15)
    other = web_client(api, named("cw-jc", JOBCENTER, "caseworker", "Jo Center"))
    r = other.get("/ui/cases/export", params={"format": "csv", "q": family})
    lines = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig")), delimiter=";"))
    assert [line[0] for line in lines[1:]] == [f"{family}j, Rahel"]


def test_the_monthly_report_is_a_pdf_with_the_figures(api: Api) -> None:
    bearer = named(LEAD, AGENTUR, "team_lead", LEAD_NAME)
    headers = {"Authorization": f"Bearer {bearer}"}
    seed(api, headers)
    browser = web_client(api, bearer)
    page = browser.get("/ui/statistics", params={"month": "2026-12"})
    r = browser.get("/ui/statistics/report.pdf", params=MONTH)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(r.content)).pages)
    text = re.sub(r"\s+", " ", text)
    assert "Bericht für die Arbeitsgruppe" in text
    assert "Dezember 2026" in text
    assert "Agentur für Arbeit Aachen-Düren" in text
    for key, rows in page_tables(page.text).items():
        for label, n in rows:
            assert f"{label} {n}" in text, (key, label, n)
    r = api.client.get("/statistics/report", params=MONTH, headers=headers)
    assert r.status_code == 200, r.text
    assert r.content.startswith(b"%PDF")
    endpoints = [e["endpoint"] for e in api.services.access_log.entries(actor=LEAD)]
    assert statistics.WEB_REPORT_ENDPOINT in endpoints
    assert statistics.REPORT_ENDPOINT in endpoints


def test_the_auditor_sees_a_statistics_export_in_the_access_log(api: Api) -> None:
    sub = "cw-aud-" + secrets.token_hex(3)
    r = api.client.get("/statistics/export", params={"format": "csv"}, headers=auth(sub, AGENTUR))
    assert r.status_code == 200, r.text
    auditor = web_client(api, named("aud-x", "audit-office", "auditor", "Rita Prüferin"))
    page = auditor.get("/ui/audit/access-log", params={"actor": sub})
    assert page.status_code == 200, page.text
    assert "kein Fall (Zahlen)" in page.text
    assert statistics.ACTIONS[statistics.EXPORT_ENDPOINT] in page.text  # "Statistik exportiert"


def test_text_that_looks_like_a_formula_stays_text() -> None:
    assert exports.csv_bytes([["=1+1", "-2", 3, 0.5]]).decode("utf-8-sig") == "'=1+1;'-2;3;0,5\r\n"
    book = load_workbook(io.BytesIO(exports.xlsx_bytes([("Fälle", ["Person"], [["=1+1"]])])))
    cell = book["Fälle"]["A2"]
    assert (cell.value, cell.data_type) == ("=1+1", "s")


def test_the_days_from_recognition_to_acceptance_are_exported(api: Api) -> None:
    case_id = api.offered_case()  # recognised on 2026-04-20, offered to the Jobcenter
    summary = api.client.get(f"/cases/{case_id}", headers=api.jobcenter).json()
    r = api.client.post(
        f"/cases/{case_id}/handover/accept",
        json={"version": summary["version"], "digest": summary["digest"]},
        headers=api.jobcenter,
    )
    assert r.status_code == 201, r.text
    api.settle()
    today = today_in_germany()
    days = (today - date(2026, 4, 20)).days
    period = {"from": f"{today:%Y-%m}-01", "to": today.isoformat()}
    r = api.client.get(
        "/statistics/export", params={"format": "xlsx", **period}, headers=api.jobcenter
    )
    assert r.status_code == 200, r.text
    book = load_workbook(io.BytesIO(r.content))
    rows = list(book["Tage bis zur Übergabe"].iter_rows(values_only=True))
    assert rows[0] == ("Tage", "Angenommene Übergaben")
    assert dict(rows[1:]).get(str(days), 0) >= 1, rows
    overview = dict(book["Übersicht"].iter_rows(values_only=True))
    assert overview["Median Tage von der Anerkennung bis zur angenommenen Übergabe"] is not None


@contextmanager
def recorded_on(api: Api, day: date) -> Iterator[None]:
    """What is recorded in the block is dated ``day``: the events' timestamps (the library's
    clock, read by every writer in this process) and the application's today."""
    noon = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    with (
        patch.object(CaseEvent, "create_timestamp", staticmethod(lambda: noon)),
        patch.object(api.services.cases, "today", lambda: day),
    ):
        yield


def caseload(api: Api, headers: dict[str, str], month: str) -> dict[str, int]:
    """The caseload per caseworker of the CSV export for ``month`` (YYYY-MM)."""
    chosen = months(month)
    period = {"from": str(chosen.start), "to": str(chosen.end)}
    r = api.client.get("/statistics/export", params={"format": "csv", **period}, headers=headers)
    assert r.status_code == 200, r.text
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig")), delimiter=";"))
    return {label: int(n) for section, label, n in rows[1:]
            if section == "Laufende Fälle je Fallbearbeitung"}  # fmt: skip


def test_a_past_months_caseload_counts_who_was_responsible_on_its_last_day(api: Api) -> None:
    """A case assigned to A in March and to B in May counts for A in March and for B in May; a
    case the Agentur hands over to the Jobcenter in May counts for the Agentur in March (under
    its caseworker then) and for the Jobcenter in May, not the other way round."""
    tag = secrets.token_hex(3)
    lead = named(f"tl-{tag}", AGENTUR, "team_lead", "Tamara Leitner")
    jc_lead = named(f"tl-jc-{tag}", JOBCENTER, "team_lead", "Jens Leitner")
    names = {"a": "Alma Erste", "b": "Berta Zweite", "c": "Carla Dritte", "d": "Dora Vierte"}
    orgs = {"a": AGENTUR, "b": AGENTUR, "c": AGENTUR, "d": JOBCENTER}
    subs = {k: f"cw-{k}-{tag}" for k in names}
    for k, name in names.items():  # the directory learns them (and their names)
        token = named(subs[k], orgs[k], "caseworker", name)
        r = api.client.get("/follow-ups?limit=1", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200, r.text
    agentur = {"Authorization": f"Bearer {lead}"}
    jobcenter = {"Authorization": f"Bearer {jc_lead}"}

    def assign(case_id: str, k: str) -> None:
        api.record(case_id, {"type": "CaseAssigned", "office": None, "caseworker": subs[k]},
                   agentur)  # fmt: skip

    with recorded_on(api, date(2026, 2, 16)):
        reassigned = str(api.register(agentur)["case_id"])
        handed_over = str(api.register(agentur)["case_id"])
    with recorded_on(api, date(2026, 3, 10)):
        assign(reassigned, "a")
        assign(handed_over, "c")
    with recorded_on(api, date(2026, 5, 12)):
        assign(reassigned, "b")
        api.record(handed_over, RECOGNIZED, agentur)
        api.wait_for_offer(handed_over, jobcenter)
        case = api.client.get(f"/cases/{handed_over}", headers=jobcenter).json()
        body = {"version": case["version"], "digest": case["digest"], "caseworker": subs["d"]}
        r = api.client.post(f"/cases/{handed_over}/handover/accept", json=body, headers=jobcenter)
        assert r.status_code == 201, r.text
    api.settle()

    def mine(counts: dict[str, int]) -> dict[str, int]:
        return {k: n for k, n in (
            (k, sum(n for lbl, n in counts.items() if lbl.startswith(names[k]))) for k in names
        ) if n}  # fmt: skip

    assert mine(caseload(api, agentur, "2026-03")) == {"a": 1, "c": 1}
    assert mine(caseload(api, agentur, "2026-05")) == {"b": 1}
    assert mine(caseload(api, jobcenter, "2026-03")) == {}
    assert mine(caseload(api, jobcenter, "2026-05")) == {"d": 1}
    assert mine(caseload(api, agentur, "2026-02")) == {}  # registered, nobody assigned yet


def registrations(api: Api, headers: dict[str, str], month: str | None = None) -> int:
    """The registrations of the CSV export: of ``month`` (YYYY-MM), else of the whole time."""
    period = {}
    if month is not None:
        chosen = months(month)
        period = {"from": str(chosen.start), "to": str(chosen.end)}
    r = api.client.get("/statistics/export", params={"format": "csv", **period}, headers=headers)
    assert r.status_code == 200, r.text
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig")), delimiter=";"))
    return sum(int(n) for section, _, n in rows[1:]
               if section == "Neue Registrierungen je Kalenderwoche")  # fmt: skip


def test_registrations_count_for_the_organisation_that_registered(api: Api) -> None:
    """Intake is what an organisation registered: a case the Agentur registers and hands over
    in the same month stays in the Agentur's registrations, of that month and of the whole
    time, and never becomes one of the Jobcenter's, which registered nothing."""
    tag = secrets.token_hex(3)
    agentur = {"Authorization": f"Bearer {named(f'tl-{tag}', AGENTUR, 'team_lead', 'Tina Lang')}"}
    jc_lead = named(f"tl-jc-{tag}", JOBCENTER, "team_lead", "Jan Lang")
    jobcenter = {"Authorization": f"Bearer {jc_lead}"}
    before = {"agentur": registrations(api, agentur), "jobcenter": registrations(api, jobcenter)}
    with recorded_on(api, date(2025, 7, 8)):
        kept = str(api.register(agentur)["case_id"])
        handed_over = str(api.register(agentur)["case_id"])
    with recorded_on(api, date(2025, 7, 22)):
        api.record(handed_over, RECOGNIZED, agentur)
        api.wait_for_offer(handed_over, jobcenter)
        case = api.client.get(f"/cases/{handed_over}", headers=jobcenter).json()
        body = {"version": case["version"], "digest": case["digest"]}
        r = api.client.post(f"/cases/{handed_over}/handover/accept", json=body, headers=jobcenter)
        assert r.status_code == 201, r.text
    api.settle()
    assert kept != handed_over
    assert registrations(api, agentur, "2025-07") == 2
    assert registrations(api, jobcenter, "2025-07") == 0
    assert registrations(api, agentur) - before["agentur"] == 2
    assert registrations(api, jobcenter) - before["jobcenter"] == 0
