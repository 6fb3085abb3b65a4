"""The Übergabebogen (issue 18): ``GET /cases/{id}/handover-sheet`` as a PDF (its text extracted
with pypdf) and as JSON with the same content, the page ``/ui/cases/{id}/uebergabebogen``; what a
reader may not see is withheld as on the case page; 404 and 403 as problem+json; every read
logged."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

import pytest
from pypdf import PdfReader

from tests.support.api import (
    AGENTUR,
    DRK,
    JOBCENTER,
    RECOGNIZED,
    ST_WENDEL,
    Api,
    auth,
    person,
    problem_of,
    registered_employer,
    registration,
)
from tests.support.served import secret
from tests.support.web import signed_in

WITHHELD = "[nicht freigegeben]"
LEAD = auth("tl-agentur", AGENTUR, "team_lead")


@dataclass(frozen=True)
class Case:
    case_id: str
    family: str
    health: str  # the text of a health note: only the holder's caseworkers see it
    counselling: str  # a counselling note: every reader of the case sees it


def assessed_case(api: Api) -> Case:
    """A case the Agentur holds with everything a sheet shows, recognised: the policy's offer
    to the Jobcenter is open."""
    family, health, counselling = secret("Haile"), secret("asthma"), secret("termin")
    body = registration(person=person(given_name="Yonas", family_name=family,
                                      nationality="ER", languages=["ti", "ar"]))  # fmt: skip
    r = api.client.post("/cases", json=body, headers=api.agentur)
    assert r.status_code == 201, r.text
    case_id = str(r.json()["case_id"])
    for event in (
        {"type": "CompetenceAssessed", "instrument": "MYSKILLS", "assessed_on": "2026-01-20",
         "german_level": "B1", "languages": [{"language": "fa", "level": "B2"}],
         "school_years": 10, "school_certificate": "Mittlere Reife (gleichwertig)",
         "vocational_training": [{"occupation": "Elektriker", "completed": True, "country": "SY"}],
         "work_experience": [{"occupation": "Elektriker", "years": 6}],
         "qualification_recognition": "partial", "support_need": False, "notes": None},
        {"type": "MeasureStarted", "measure_id": "m1", "kind": "integration_course",
         "provider": "VHS Kreis Heinsberg", "starts_on": "2026-02-02", "ends_on": "2026-09-30"},
        {"type": "MeasureEnded", "measure_id": "m1", "ended_on": "2026-03-27",
         "outcome": "completed", "certificate": "Deutsch-Test für Zuwanderer B1"},
        {"type": "StepAgreed", "step_id": "s1", "description": "Lebenslauf schreiben",
         "plan": "eingliederungsvereinbarung", "due_on": "2026-03-01"},
        {"type": "StepCompleted", "step_id": "s1", "completed_on": "2026-02-20"},
        {"type": "StepAgreed", "step_id": "s2", "description": "Anerkennung beim IHK FOSA",
         "plan": "eingliederungsvereinbarung", "due_on": "2026-06-30"},
        {"type": "NoteRecorded", "text": f"Attest: {health}", "category": "health"},
        {"type": "NoteRecorded", "text": f"Gespräch {counselling}", "category": "counselling"},
        {"type": "ConsentGiven", "consent_id": "c1", "purpose": "share_with_mentor",
         "recipient": DRK, "scope": ["name"], "given_on": "2026-03-01"},
        {"type": "PlacementMade", "placement_id": "p1", "kind": "internship",
         "employer": "Elektro Dahmen", "starts_on": "2026-04-01"},
    ):  # fmt: skip
        api.record(case_id, event)
    login = f"v-{uuid4().hex[:8]}"
    body = {"login": login, "name": "Petra Lang", "languages": ["de"],
            "municipality": "Heinsberg", "capacity": 2}  # fmt: skip
    r = api.client.post("/volunteers", json=body, headers=auth("h.vogel", DRK, "team_lead"))
    assert r.status_code == 201, r.text
    r = api.client.post(
        f"/volunteers/{r.json()['id']}/mentees", json={"case_id": case_id}, headers=api.agentur
    )
    assert r.status_code == 201, r.text
    api.record(case_id, RECOGNIZED)
    api.wait_for_offer(case_id)
    api.settle()
    return Case(case_id, family, health, counselling)


def sheet_json(api: Api, case_id: str, headers: dict[str, str]) -> dict[str, Any]:
    r = api.client.get(f"/cases/{case_id}/handover-sheet", headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = r.json()
    return body


def sheet_pdf(api: Api, case_id: str, headers: dict[str, str]) -> str:
    """The PDF's text, extracted with pypdf."""
    r = api.client.get(
        f"/cases/{case_id}/handover-sheet", headers={**headers, "Accept": "application/pdf"}
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(r.content))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


def squeezed(text: str) -> str:
    """Text without whitespace: a long digest may wrap across lines in the PDF."""
    return re.sub(r"\s+", "", text)


def facts(sheet: dict[str, Any], case: Case) -> list[str]:
    """What both the JSON and the PDF must say, read from the JSON."""
    return [
        case.family,
        "Yonas",
        sheet["german"]["label"],  # "Deutsch B1"
        sheet["german"]["certificate"],
        sheet["person"]["nationality"]["name"],
        *(lang["name"] for lang in sheet["person"]["languages"]),
        *(lang["name"] for lang in sheet["languages"]),
        sheet["vocational_training"][0]["occupation"],
        sheet["vocational_training"][0]["country"]["name"],
        sheet["qualification_recognition"]["label"],
        sheet["schooling"]["certificate"],
        sheet["measures"][0]["kind"]["label"],
        sheet["legal_status"]["status"]["label"],
        sheet["handover"]["to"]["name"],
        sheet["contact"]["org"]["name"],
        sheet["consents"][0]["recipient"]["name"],
        *(s["description"] for s in sheet["steps"]["open"] + sheet["steps"]["done"]),
        sheet["mentors"][0]["name"],  # "Petra Lang"
        sheet["mentors"][0]["organisation"]["name"],
        sheet["placements"][0]["kind"]["label"],  # "Praktikum"
        sheet["placements"][0]["employer"],
        case.counselling,
    ]


def test_the_pdf_and_the_json_say_the_same_and_name_version_and_digest(api: Api) -> None:
    case = assessed_case(api)
    sheet = sheet_json(api, case.case_id, api.agentur)
    text = sheet_pdf(api, case.case_id, api.agentur)
    history = api.history(case.case_id, api.agentur)

    assert (sheet["version"], sheet["digest"]) == (history["version"], history["digest"])
    assert sheet["german"] | {"level": "B1", "label": "Deutsch B1"} == sheet["german"]
    assert sheet["person"]["nationality"] == {"code": "ER", "name": "Eritrea"}
    assert [lang["name"] for lang in sheet["person"]["languages"]] == ["Tigrinya", "Arabisch"]
    assert sheet["vocational_training"][0]["country"] == {"code": "SY", "name": "Syrien"}
    assert sheet["qualification_recognition"]["label"] == "teilweise anerkannt"
    assert [s["step_id"] for s in sheet["steps"]["open"]] == ["s2"]
    assert [s["step_id"] for s in sheet["steps"]["done"]] == ["s1"]
    assert sheet["handover"]["to"]["id"] == JOBCENTER
    assert sheet["handover"]["due_on"]
    assert sheet["contact"]["org"]["id"] == AGENTUR
    assert sheet["mentors"][0]["name"] == "Petra Lang"
    assert sheet["placements"][0]["kind"] == {"code": "internship", "label": "Praktikum"}
    for fact in facts(sheet, case):
        assert fact, fact
        assert squeezed(fact) in squeezed(text), fact
    assert squeezed(sheet["digest"]) in squeezed(text)
    assert f"Erstellt aus Version {sheet['version']}" in text
    assert "20.01.2026" in text
    assert "27.03.2026" in text


def test_a_health_note_is_withheld_from_the_offered_jobcenter_and_shown_to_the_holder(
    api: Api,
) -> None:
    case = assessed_case(api)
    holder_json = sheet_json(api, case.case_id, api.agentur)
    holder_pdf = sheet_pdf(api, case.case_id, api.agentur)
    receiver_json = sheet_json(api, case.case_id, api.jobcenter)
    receiver_pdf = sheet_pdf(api, case.case_id, api.jobcenter)

    assert case.health in holder_pdf
    assert case.health in str(holder_json)
    assert holder_json["withheld"] == []
    # the offered Jobcenter decides on the takeover: identity and free text, not health
    assert case.health not in receiver_pdf
    assert case.health not in str(receiver_json)
    assert WITHHELD in receiver_pdf
    assert receiver_json["withheld"] == ["notes.text"]
    assert case.counselling in receiver_pdf
    assert case.family in receiver_pdf
    # a team lead of the holder supervises, without health data either
    lead_pdf = sheet_pdf(api, case.case_id, LEAD)
    assert case.health not in lead_pdf
    assert case.family in lead_pdf


def test_volunteers_and_employers_never_get_a_sheet_even_with_consent(api: Api) -> None:
    """A mentor the person consented to share their name with sees it through the mentoring
    pages only: the sheet is the case file, refused like the case page."""
    case = assessed_case(api)
    employer = registered_employer(api, "elektro-dahmen")
    for headers in (auth("p.lang", DRK, "volunteer"), auth("h.dahmen", employer, "employer")):
        for accept in ("application/json", "application/pdf"):
            r = api.client.get(
                f"/cases/{case.case_id}/handover-sheet", headers={**headers, "Accept": accept}
            )
            body = problem_of(r, 403)
            assert case.family not in r.text
            assert body["detail"]


def test_unknown_and_foreign_cases_are_404_and_the_read_is_logged(api: Api) -> None:
    case = assessed_case(api)
    for case_id, headers in (
        (str(uuid4()), api.agentur),  # no such case
        (case.case_id, auth("cw-wendel", ST_WENDEL)),  # a case St. Wendel may not know of
    ):
        for accept in ("application/json", "application/pdf"):
            r = api.client.get(
                f"/cases/{case_id}/handover-sheet", headers={**headers, "Accept": accept}
            )
            problem_of(r, 404)
    sheet_pdf(api, case.case_id, api.jobcenter)
    reads = api.services.access_log.entries(case_id=case.case_id)
    assert [r["endpoint"] for r in reads if r["actor"] == "cw-jobcenter"][-1] == (
        "GET /cases/{id}/handover-sheet"
    )


@pytest.mark.parametrize("path", ["/ui/cases/{id}/uebergabebogen", "/ui/cases/{id}"])
def test_the_page_is_linked_and_shows_the_same_content(api: Api, path: str) -> None:
    case = assessed_case(api)
    sheet = sheet_json(api, case.case_id, api.jobcenter)
    client = signed_in(api, "cw-jobcenter", JOBCENTER)
    inbox = client.get("/ui/handovers?direction=incoming")
    assert f'href="/ui/cases/{case.case_id}/uebergabebogen"' in inbox.text
    page = client.get(path.format(id=case.case_id))
    assert page.status_code == 200, page.text
    if path.endswith("uebergabebogen"):
        assert '<link rel="stylesheet" href="/ui/static/uebergabebogen.css">' in page.text
        for fact in facts(sheet, case):
            assert fact in page.text, fact
        assert sheet["digest"] in page.text
        assert case.health not in page.text
        pdf = client.get(f"/ui/cases/{case.case_id}/uebergabebogen.pdf")
        assert pdf.headers["content-type"] == "application/pdf"
        assert case.family in "".join(
            p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages
        )
    else:
        assert f'href="/ui/cases/{case.case_id}/uebergabebogen"' in page.text


def test_the_art_15_report_lists_the_sheet_as_made(api: Api) -> None:
    case = assessed_case(api)
    sheet_pdf(api, case.case_id, api.jobcenter)
    r = api.client.get(
        f"/cases/{case.case_id}/subject-access-report",
        headers={**LEAD, "Accept": "text/html"},
    )
    assert r.status_code == 200, r.text
    assert "Übergabebogen erstellt" in r.text


def test_a_former_holder_gets_403_and_an_erased_case_reads_erased(api: Api) -> None:
    case = assessed_case(api)
    sheet = sheet_json(api, case.case_id, api.jobcenter)
    r = api.client.post(
        f"/cases/{case.case_id}/handover/accept",
        json={"version": sheet["version"], "digest": sheet["digest"]},
        headers=api.jobcenter,
    )
    assert r.status_code == 201, r.text
    api.settle()
    problem_of(api.client.get(f"/cases/{case.case_id}/handover-sheet", headers=api.agentur), 403)
    lead = auth("tl-jobcenter", JOBCENTER, "team_lead")
    r = api.client.post(
        f"/cases/{case.case_id}/erasure",
        json={"ground": "subject_request", "reason": "Antrag nach Art. 17 DSGVO"},
        headers=lead,
    )
    assert r.status_code == 201, r.text
    api.settle()
    text = sheet_pdf(api, case.case_id, api.jobcenter)
    assert case.family not in text
    assert case.counselling not in text
    assert "[gelöscht]" in text
    assert "Deutsch B1" in text  # structured facts outlive the key


def test_a_consent_to_an_employer_names_the_employer(api: Api) -> None:
    """The sheet names a consent's recipient as people read it: an employer by its name, not by
    the account the consent stores."""
    account = registered_employer(api, f"dahmen-{uuid4().hex[:8]}")
    case_id = api.register()["case_id"]
    consent = {"type": "ConsentGiven", "consent_id": "c9", "purpose": "share_with_employer",
               "recipient": account, "scope": ["name"], "given_on": "2026-03-01"}  # fmt: skip
    api.record(case_id, consent)
    api.settle()
    (given,) = sheet_json(api, case_id, api.agentur)["consents"]
    assert given["recipient"] == {"id": account, "name": "Elektro Dahmen GmbH (Arbeitgeber)"}
