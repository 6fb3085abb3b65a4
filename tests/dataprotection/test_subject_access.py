"""The subject access report (issue 9): everything held about the person, who it was shared with
and who read it; JSON and a printable German page; only for a team lead or an admin of the holder
or an auditor; its own read logged; after erasure it still works and shows the markers."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

import demo
from tests.support.api import (
    AGENTUR,
    AUDIT,
    DRK,
    JOBCENTER,
    SAARLAND,
    ST_WENDEL,
    Api,
    auth,
    problem_of,
    registered_employer,
    registration,
)
from tests.support.served import Recorded, recorded_case, served
from tests.support.web import signed_in

LEAD = auth("tl-agentur", AGENTUR, "team_lead")
ADMIN = auth("adm-agentur", AGENTUR, "admin")
AUDITOR = auth("pruefer", AUDIT, "auditor")
ERASED = "[gelöscht]"
DEMO_ORGS = demo.ORGS_FILE
UNREACHABLE_PEER = "http://127.0.0.1:9"  # discard port: nothing answers there


@pytest.fixture
def api(db_url: str, tmp_path: Path) -> Iterator[Api]:
    """The app, with St. Wendel's Jobcenter running a deployment of its own (unreachable), so an
    offer to it puts a bundle in the outbox."""
    orgs = DEMO_ORGS.read_text("utf-8").replace(
        'kind = "municipal_jobcenter"',
        f'kind = "municipal_jobcenter"\npeer_url = "{UNREACHABLE_PEER}"',
    )
    orgs_file = tmp_path / "orgs.toml"
    orgs_file.write_text(orgs, "utf-8")
    with served(db_url, tmp_path, orgs_file=orgs_file) as built:
        yield built


def report(api: Api, case_id: str, headers: dict[str, str] = LEAD, **params: Any) -> Any:
    r = api.client.get(f"/cases/{case_id}/subject-access-report", params=params, headers=headers)
    assert r.status_code == 200, r.text
    return r


def shared_case(api: Api) -> Recorded:
    """The recorded case, with a consent, a mentor (a registered volunteer), a placement and an
    offer to the Jobcenter; read once by the caseworker and once by the volunteer."""
    case = recorded_case(api)
    api.record(
        case.case_id,
        {"type": "ConsentGiven", "consent_id": "c1", "purpose": "share_with_mentor",
         "recipient": DRK, "scope": ["name", "languages"], "given_on": "2026-03-01",
         "valid_until": "2027-02-28"},
    )  # fmt: skip
    login = f"v-{uuid4().hex[:8]}"
    coordinator = auth("h.vogel", DRK, "team_lead")
    body = {"login": login, "name": "Petra Lang", "languages": ["de"],
            "municipality": "Heinsberg", "capacity": 2}  # fmt: skip
    r = api.client.post("/volunteers", json=body, headers=coordinator)
    assert r.status_code == 201, r.text
    volunteer_id = r.json()["id"]
    r = api.client.post(
        f"/volunteers/{volunteer_id}/mentees", json={"case_id": case.case_id}, headers=api.agentur
    )
    assert r.status_code == 201, r.text
    api.record(
        case.case_id,
        {"type": "PlacementMade", "placement_id": "p1", "kind": "internship",
         "employer": "Elektro Dahmen", "starts_on": "2026-07-01"},
    )  # fmt: skip
    r = api.client.post(
        f"/cases/{case.case_id}/handover",
        json={"to_org": JOBCENTER, "reason": "Umzug"},
        headers=api.agentur,
    )
    assert r.status_code == 201, r.text
    api.settle()
    assert api.client.get(f"/cases/{case.case_id}", headers=api.agentur).status_code == 200
    mentees = api.client.get(
        f"/volunteers/{volunteer_id}/mentees", headers=auth(login, DRK, "volunteer")
    )
    assert mentees.status_code == 200, mentees.text
    return case


def test_the_report_holds_everything_about_the_person_its_shares_and_its_reads(api: Api) -> None:
    case = shared_case(api)
    body = report(api, case.case_id).json()
    assert body["case_id"] == case.case_id
    assert body["controller"] == {"org": AGENTUR, "org_name": "Agentur für Arbeit Aachen-Düren"}
    assert body["erased"] is False
    assert body["person"]["family_name"] == case.family
    assert body["person"]["bamf_file_number"]
    text = json.dumps(body, ensure_ascii=False)
    for value in (case.health, case.general, case.step):  # nothing withheld from the person
        assert value in text
    types = [e["type"] for e in body["history"]]
    assert types[0] == "CaseRegistered"
    assert {"NoteRecorded", "StepAgreed", "ConsentGiven", "MentorAssigned", "PlacementMade",
            "HandoverOffered"} <= set(types)  # fmt: skip
    assert len(body["history"]) == body["summary"]["version"]
    shares = body["shared_with"]
    (handover,) = shares["handovers"]
    assert (handover["from_org"], handover["to_org"], handover["state"]) == (
        AGENTUR, JOBCENTER, "offered"
    )  # fmt: skip
    assert handover["to_name"] == "Jobcenter Kreis Heinsberg"
    (given,) = shares["consents"]
    assert (given["recipient"], given["scope"], given["valid_until"], given["withdrawn_on"]) == (
        DRK, ["name", "languages"], "2027-02-28", None
    )  # fmt: skip
    assert given["recipient_name"] == "DRK-Kreisverband Heinsberg"
    (mentor,) = shares["mentors"]
    assert (mentor["org"], mentor["volunteer_name"], mentor["released_on"]) == (
        DRK, "Petra Lang", None
    )  # fmt: skip
    (placement,) = shares["employers"]
    assert (placement["employer"], placement["kind"]) == ("Elektro Dahmen", "internship")
    assert shares["bundles"] == []  # nothing went to another deployment
    reads = [(r["actor"], r["endpoint"]) for r in body["reads"]]
    assert ("cw-agentur", "GET /cases/{id}") in reads
    assert any(endpoint == "GET /volunteers/{id}/mentees" for _, endpoint in reads)
    assert reads[-1] == ("tl-agentur", "GET /cases/{id}/subject-access-report")  # itself


def test_the_reports_own_read_is_in_the_access_log(api: Api) -> None:
    case = recorded_case(api)
    report(api, case.case_id, ADMIN)
    log = api.client.get("/audit/access-log", params={"case_id": case.case_id}, headers=AUDITOR)
    assert log.status_code == 200, log.text
    rows = [(e["actor"], e["endpoint"]) for e in log.json()["entries"]]
    assert ("adm-agentur", "GET /cases/{id}/subject-access-report") in rows


def test_bundles_sent_to_another_deployment_are_listed(api: Api) -> None:
    r = api.client.post(
        "/cases",
        json=registration(residence_municipality="St. Wendel"),
        headers=auth("cw-saar", SAARLAND),
    )
    assert r.status_code == 201, r.text
    case_id = r.json()["case_id"]
    offered = api.client.post(
        f"/cases/{case_id}/handover",
        json={"to_org": ST_WENDEL, "reason": "Rechtskreiswechsel"},
        headers=auth("cw-saar", SAARLAND),
    )
    assert offered.status_code == 201, offered.text
    api.settle()
    lead = auth("tl-saar", SAARLAND, "team_lead")
    deadline = time.monotonic() + 20
    while not (bundles := report(api, case_id, lead).json()["shared_with"]["bundles"]):
        assert time.monotonic() < deadline, "the outbox never took the bundle"
        time.sleep(0.1)
    (bundle,) = bundles
    assert (bundle["kind"], bundle["peer"], bundle["version"]) == (
        "bundle", ST_WENDEL, offered.json()["version"]
    )  # fmt: skip
    assert bundle["peer_name"] == "Kommunale Arbeitsförderung Landkreis St. Wendel"
    assert bundle["state"] in ("pending", "failed")
    assert bundle["as_of"]


def test_the_printable_page(api: Api) -> None:
    case = shared_case(api)
    by_accept = report(api, case.case_id, headers={**LEAD, "Accept": "text/html"})
    by_param = report(api, case.case_id, format="html")
    for page in (by_accept, by_param):
        assert page.headers["content-type"].startswith("text/html")
        html = page.text
        assert '<html lang="de">' in html
        assert "Auskunft über Ihre gespeicherten Daten" in html
        assert "Art. 15" in html
        assert case.family in html
        assert case.health in html
        assert "DRK-Kreisverband Heinsberg" in html
        assert "Petra Lang" in html
        assert "Elektro Dahmen" in html
        assert "Jobcenter Kreis Heinsberg" in html
        assert re.search(r"\b01\.07\.2026\b", html)  # the placement's start, DD.MM.YYYY
        assert "2026-07-01" not in html
        assert "@media print" in html
        assert "Wer Ihre Daten gelesen hat" in html
        style = re.search(r"<style>(.*?)</style>", html, re.S)
        assert style
        digest = base64.b64encode(hashlib.sha256(style.group(1).encode()).digest()).decode()
        policy = page.headers["content-security-policy"]
        assert f"'sha256-{digest}'" in policy  # the page's own style, and nothing else inline
        assert "frame-ancestors 'none'" in policy
        assert page.headers["x-content-type-options"] == "nosniff"
    assert report(api, case.case_id).headers["content-type"].startswith("application/json")
    browser = {**LEAD, "Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    assert report(api, case.case_id, browser).headers["content-type"].startswith("text/html")
    json_first = {**LEAD, "Accept": "application/json, text/html;q=0.5"}
    kind = report(api, case.case_id, json_first).headers["content-type"]
    assert kind.startswith("application/json")
    web = signed_in(api, "tl-agentur", AGENTUR, "team_lead").get(
        f"/ui/cases/{case.case_id}/subject-access-report"
    )
    assert web.status_code == 200, web.text
    assert "sha256-" in web.headers["content-security-policy"]
    assert case.family in web.text


@pytest.mark.parametrize(
    ("sub", "org", "role"),
    [
        ("cw-agentur", AGENTUR, "caseworker"),  # the holder's caseworker
        ("cw-saar", SAARLAND, "caseworker"),  # another organisation
        ("tl-saar", SAARLAND, "team_lead"),
        ("tl-jobcenter", JOBCENTER, "team_lead"),  # has nothing to do with the case
        ("p.lang", DRK, "volunteer"),
        ("h.dahmen", "elektro-dahmen", "employer"),
    ],
)
def test_refused_to_everyone_else(api: Api, sub: str, org: str, role: str) -> None:
    case = recorded_case(api)
    if role == "employer":
        registered_employer(api, org)
    headers = auth(sub, org, role)
    for params in ({}, {"format": "html"}):
        r = api.client.get(
            f"/cases/{case.case_id}/subject-access-report", params=params, headers=headers
        )
        # another organisation's team lead: the answer for no case (issue 13); the rest: 403
        body = problem_of(r, 404 if role == "team_lead" else 403)
        assert "subject access report" in body["detail"] or role == "team_lead"
        assert case.family not in r.text
    log = api.client.get("/audit/access-log", params={"case_id": case.case_id}, headers=AUDITOR)
    assert sub not in {e["actor"] for e in log.json()["entries"]}


def test_auditors_may_prepare_it(api: Api) -> None:
    case = recorded_case(api)
    body = report(api, case.case_id, AUDITOR).json()
    assert case.health in json.dumps(body)  # the report is for the person: nothing withheld
    assert body["generated_by"] == {"actor": "pruefer", "org": AUDIT}


def test_an_unknown_case_is_404(api: Api) -> None:
    r = api.client.get(f"/cases/{uuid4()}/subject-access-report", headers=LEAD)
    problem_of(r, 404)


def test_after_erasure_the_report_shows_markers_and_no_erased_value(api: Api) -> None:
    case = shared_case(api)
    before = report(api, case.case_id).json()
    bamf = before["person"]["bamf_file_number"]
    given = before["person"]["given_name"]
    erased = api.client.post(
        f"/cases/{case.case_id}/erasure",
        json={"ground": "subject_request", "reason": "Antrag nach Art. 17 DSGVO"},
        headers=LEAD,
    )
    assert erased.status_code == 201, erased.text
    api.settle()
    after = report(api, case.case_id, min_position=erased.json()["position"])
    page = report(api, case.case_id, format="html")
    body = after.json()
    assert body["erased"] is True
    assert body["erased_on"]
    assert body["person"]["family_name"] == ERASED
    assert body["person"]["bamf_file_number"] == ERASED
    for text in (after.text, page.text):
        for value in (case.family, given, bamf, case.health, case.general, case.step):
            assert value not in text
        assert ERASED in text
    notes = [e for e in body["history"] if e["type"] == "NoteRecorded"]
    assert notes
    assert all(e["data"]["text"] == ERASED for e in notes)
    assert body["history"][-1]["type"] == "PersonalDataErased"
    # what was shared and read stays: organisations and dates are no personal values
    assert body["shared_with"]["consents"][0]["recipient"] == DRK
    assert body["shared_with"]["handovers"][0]["to_org"] == JOBCENTER
    assert body["shared_with"]["handovers"][0]["state"] == "withdrawn"  # erasure withdrew it
    assert len(body["reads"]) > len(before["reads"])
    assert "gelöscht" in page.text
    assert "Die personenbezogenen Daten dieses Falls wurden am" in page.text
