"""Corrections (Berichtigung, Art. 16 GDPR, issue 18) through ``POST /cases/{id}/events``: the
holder's staff correct a birth date, a name, a nationality and a German level; the original
entry stays, the timeline shows the correction, the summary, the Übergabebogen and the Art. 15
report show the corrected value, the chain still verifies, and the new name is sealed like the
original, so erasure removes it. An erased case cannot be corrected, a former holder cannot
correct, and a field an entry does not have is refused naming the field."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from adapters.chain_check import verify_case
from tests.support.api import ASSESSED, JOBCENTER, Api, auth, person, problem_of, registration

LEAD = auth("tl-agentur", "agentur-aachen-dueren", "team_lead")


def correction(version: int, field: str, value: str, reason: str = "laut Pass") -> dict[str, Any]:
    return {"type": "FactCorrected", "corrects_version": version, "field": field,
            "value": value, "reason": reason}  # fmt: skip


def a_case(api: Api) -> str:
    body = registration(person=person(given_name="Yonas", family_name="Hailee",
                                      birth_date="1990-11-02", nationality="ER"))  # fmt: skip
    r = api.client.post("/cases", json=body, headers=api.agentur)
    assert r.status_code == 201, r.text
    case_id = str(r.json()["case_id"])
    api.record(case_id, {**ASSESSED, "german_level": "A2"})
    return case_id


def test_a_correction_is_shown_everywhere_and_the_original_stays(api: Api) -> None:
    case_id = a_case(api)
    api.record(case_id, correction(1, "birth_date", "1990-11-12"))
    api.record(case_id, correction(1, "family_name", "Haile", "Tippfehler"))
    api.record(case_id, correction(1, "nationality", "Syrien"))  # a German name is taken
    api.record(case_id, correction(2, "german_level", "B1"))
    api.settle()

    summary = api.client.get(f"/cases/{case_id}", headers=api.agentur).json()
    assert summary["person"]["birth_date"] == "1990-11-12"
    assert summary["person"]["family_name"] == "Haile"
    assert summary["person"]["nationality"] == "SY"
    assert summary["german_level"] == "B1"
    history = api.client.get(f"/cases/{case_id}/history", headers=api.agentur).json()
    entries = history["entries"]
    assert "02.11.1990" in entries[0]["summary"]  # the original entry as it was recorded
    assert entries[2]["summary"] == (
        "Berichtigung von Eintrag 1: Geburtsdatum richtig 12.11.1990 (Grund: laut Pass)"
    )
    assert "Staatsangehörigkeit richtig Syrien" in entries[4]["summary"]
    sheet = api.client.get(f"/cases/{case_id}/handover-sheet", headers=api.agentur).json()
    assert sheet["person"]["birth_date"] == "1990-11-12"
    assert sheet["person"]["family_name"] == "Haile"
    assert sheet["person"]["nationality"] == {"code": "SY", "name": "Syrien"}
    assert [(c["corrects_version"], c["label"]) for c in sheet["corrections"]] == [
        (1, "Geburtsdatum"), (1, "Familienname"), (1, "Staatsangehörigkeit"),
        (2, "Deutschkenntnisse"),
    ]  # fmt: skip
    report = api.client.get(f"/cases/{case_id}/subject-access-report", headers=LEAD).json()
    assert [(c["corrects_version"], c["field"], c["value"]) for c in report["corrections"]] == [
        (1, "birth_date", "1990-11-12"),
        (1, "family_name", "Haile"),
        (1, "nationality", "SY"),
        (2, "german_level", "B1"),
    ]
    page = api.client.get(f"/cases/{case_id}/subject-access-report",
                          headers={**LEAD, "Accept": "text/html"})  # fmt: skip
    assert page.status_code == 200, page.text
    assert "Berichtigungen (Art. 16 DSGVO)" in page.text
    assert "<td>Geburtsdatum</td><td>12.11.1990</td><td>laut Pass</td>" in page.text
    assert verify_case(api.services.cases, UUID(case_id)) == []


def test_a_correction_is_refused_naming_the_field(api: Api) -> None:
    case_id = a_case(api)
    for body, field in (
        (correction(1, "german_level", "B1"), "field"),  # the registration has no level
        (correction(2, "birth_date", "1990-11-12"), "field"),
        (correction(9, "birth_date", "1990-11-12"), "corrects_version"),
        (correction(1, "birth_date", "12.13.1990"), "value"),
        (correction(1, "nationality", "Atlantis"), "value"),
        (correction(2, "german_level", "fließend"), "value"),
    ):
        r = api.client.post(f"/cases/{case_id}/events", json=body, headers=api.agentur)
        assert [e["field"] for e in problem_of(r, 422)["errors"]] == [field], body


def test_an_erased_case_cannot_be_corrected_and_its_corrections_are_erased(api: Api) -> None:
    case_id = a_case(api)
    api.record(case_id, correction(1, "family_name", "Haile-Corrected", "Schreibfehler"))
    erased = api.client.post(f"/cases/{case_id}/erasure", headers=LEAD,
                             json={"ground": "subject_request", "reason": "Antrag"})  # fmt: skip
    assert erased.status_code == 201, erased.text
    r = api.client.post(
        f"/cases/{case_id}/events",
        json=correction(1, "birth_date", "1990-11-12"),
        headers=api.agentur,
    )
    assert problem_of(r, 409)["type"].endswith("case-erased")
    api.settle()
    report = api.client.get(f"/cases/{case_id}/subject-access-report", headers=LEAD)
    assert "Haile-Corrected" not in report.text
    assert "Schreibfehler" not in report.text
    history = api.client.get(f"/cases/{case_id}/history", headers=api.agentur)
    assert "Haile-Corrected" not in history.text
    assert "Schreibfehler" not in history.text
    (corrected,) = report.json()["corrections"]
    assert corrected["value"] == corrected["reason"] == "[gelöscht]"


def test_a_former_holder_cannot_correct(api: Api) -> None:
    case_id = a_case(api)
    offered = api.client.post(f"/cases/{case_id}/handover", headers=api.agentur,
                              json={"to_org": JOBCENTER, "reason": "Umzug"})  # fmt: skip
    assert offered.status_code == 201, offered.text
    version, digest = offered.json()["version"], offered.json()["digest"]
    accepted = api.client.post(f"/cases/{case_id}/handover/accept", headers=api.jobcenter,
                               json={"version": version, "digest": digest})  # fmt: skip
    assert accepted.status_code == 201, accepted.text
    r = api.client.post(
        f"/cases/{case_id}/events",
        json=correction(1, "birth_date", "1990-11-12"),
        headers=api.agentur,
    )
    assert problem_of(r, 403)["type"].endswith("not-holder")
    api.record(case_id, correction(1, "birth_date", "1990-11-12"), api.jobcenter)  # the holder
