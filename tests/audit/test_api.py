"""The audit endpoints over real services: auditors only, the log in pages, cases as they were,
verification, the access log (and every case an answer shows is logged as read)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient

import demo
from adapters.auth import mint
from adapters.settings import Settings
from api.app import create_app
from bootstrap import Services, build_services
from tests.support.audit import Forger, seed

SECRET = "test-secret-audit-" + "0123456789abcdef" * 3
ORGS_FILE = demo.ORGS_FILE
PROBLEM = "application/problem+json"


def auth(sub: str, org: str, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint(SECRET, sub=sub, org=org, roles=[role])}"}


AUDITOR = auth("pruefer", "audit-office", "auditor")
CASEWORKER = auth("cw", "agentur-aachen-dueren", "caseworker")


@dataclass
class Audit:
    services: Services
    client: TestClient
    ids: list[UUID]

    def get(self, path: str, headers: dict[str, str] = AUDITOR, **params: Any) -> Any:
        r = self.client.get(path, params=params, headers=headers)
        assert r.status_code == 200, r.text
        return r.json()

    def problem(self, path: str, status: int, **params: Any) -> dict[str, Any]:
        r = self.client.get(path, params=params, headers=AUDITOR)
        assert r.status_code == status, r.text
        assert r.headers["content-type"].startswith(PROBLEM)
        body: dict[str, Any] = r.json()
        return body


@pytest.fixture
def audit(db_url: str, tmp_path: Path) -> Iterator[Audit]:
    settings = Settings(
        database_url=db_url,
        jwt_secret=SECRET,  # type: ignore[arg-type]
        orgs_file=ORGS_FILE,
        data_dir=tmp_path / "data",
    )
    services = build_services(settings, start_projections=False)
    ids = seed(services.cases)
    with TestClient(create_app(settings, services)) as client:
        yield Audit(services, client, ids)
    services.close()


def test_auditors_only(audit: Audit) -> None:
    case = audit.ids[0]
    paths = ["/audit/events", f"/audit/cases/{case}/state", "/audit/verify", "/audit/access-log"]
    for path in paths:
        audit.get(path)
        r = audit.client.get(path, headers=CASEWORKER)
        assert r.status_code == 403, (path, r.text)
        assert r.headers["content-type"].startswith(PROBLEM)
        assert "audit" in r.json()["detail"]
        assert audit.client.get(path).status_code == 401
    reads = audit.services.access_log.entries(actor="cw")
    assert reads == []  # refused requests read nothing


def test_the_log_in_pages_and_filtered(audit: Audit) -> None:
    everything, after = [], 0
    while True:
        page = audit.get("/audit/events", after=after, limit=4)
        everything += page["events"]
        if page["next_after"] is None:
            break
        after = page["next_after"]
    assert len(everything) == 3 * 5 + 6
    assert [e["position"] for e in everything] == sorted(e["position"] for e in everything)
    first = everything[0]
    assert first["type"] == "CaseRegistered"
    assert first["version"] == 1
    assert first["prev_hash"] == "0" * 64
    # stored sealed with the case's key, shown opened to the auditor (identity: visible)
    assert first["sealed"] == ["person", "bamf_file_number"]
    assert first["data"]["person"] == {
        "given_name": "Amina",
        "family_name": "Haddad",
        "birth_date": "1994-03-02",
        "nationality": "SY",
        "languages": ["ar", "en"],
    }
    assert first["withheld"] == []
    assert "hash" not in first["data"]
    notes = [e for e in everything if e["type"] == "NoteRecorded"]
    assert notes[0]["data"]["text"] == "Termin 0 wahrgenommen, Gespräch geführt"
    assert all(e["sealed"] == ["text"] for e in notes)
    assert [e["sealed"] for e in everything if e["type"] == "HandoverAccepted"] == [[]]
    handed_over = str(audit.ids[-1])
    of_case = audit.get("/audit/events", case_id=handed_over)["events"]
    assert [e["version"] for e in of_case] == [1, 2, 3, 4, 5, 6]
    accepted = audit.get("/audit/events", type="HandoverAccepted")["events"]
    assert [(e["case_id"], e["org"]) for e in accepted] == [(handed_over, "jc-berlin")]
    by_org = audit.get("/audit/events", org="jc-berlin")["events"]
    assert {e["type"] for e in by_org} == {
        "HandoverAccepted",
        "JurisdictionChanged",
        "NoteRecorded",
    }
    moment = of_case[2]["recorded_at"]
    assert [e["version"] for e in audit.get("/audit/events", case_id=handed_over, until=moment)[
        "events"
    ]] == [1, 2, 3]  # fmt: skip
    since = audit.get("/audit/events", case_id=handed_over, since=moment)["events"]
    assert [e["version"] for e in since] == [3, 4, 5, 6]
    logged = audit.services.access_log.entries(actor="pruefer", case_id=handed_over)
    assert logged
    assert {e["endpoint"] for e in logged} == {"GET /audit/events"}


def test_the_case_as_it_was(audit: Audit) -> None:
    case = str(audit.ids[-1])  # registered, recognised, offered, accepted, switched, a note
    path = f"/audit/cases/{case}/state"
    now = audit.get(path)
    assert now["version"] == 6
    assert now["state"]["holder"] == "jc-berlin"
    assert [e["type"] for e in now["events"]][-1] == "NoteRecorded"
    at_two = audit.get(path, version=2)
    assert at_two["version"] == 2
    assert at_two["digest"] == now["events"][1]["hash"]
    assert at_two["state"]["holder"] == "aa-berlin"
    assert len(at_two["events"]) == 2
    assert at_two["events"][1]["summary"].startswith("Asyl anerkannt")
    at_moment = audit.get(path, at=now["events"][2]["recorded_at"])
    assert at_moment["version"] == 3
    assert at_moment["state"]["handover"]["to_org"] == "jc-berlin"
    accepted = audit.get(path, as_accepted="true")
    assert accepted["version"] == 3  # what the Jobcenter acknowledged
    assert accepted["accepted"]["version"] == 4
    assert accepted["accepted"]["digest"] == accepted["digest"] == at_moment["digest"]
    assert audit.problem(path, 422, version=7)["errors"][0]["field"] == "version"
    before = audit.problem(path, 422, at="2001-01-01T00:00:00Z")
    assert before["errors"][0]["field"] == "at"
    assert audit.problem(f"/audit/cases/{audit.ids[0]}/state", 422, as_accepted="true")
    audit.problem(f"/audit/cases/{uuid4()}/state", 404)
    reads = audit.services.access_log.entries(case_id=case, actor="pruefer")
    assert {e["endpoint"] for e in reads} == {"GET /audit/cases/{id}/state"}
    assert len(reads) == 4  # the refusals read nothing


def test_verification_and_the_access_log(audit: Audit) -> None:
    assert audit.get("/audit/verify")["ok"] is True
    audit.get(f"/audit/cases/{audit.ids[1]}/state")
    Forger(audit.services.cases).change_sealed_byte(audit.ids[1], 2)
    result = audit.get("/audit/verify")
    assert result["ok"] is False
    assert [(p["case_id"], p["version"], p["kind"]) for p in result["problems"]] == [
        (str(audit.ids[1]), 2, "changed")
    ]
    assert audit.get("/audit/verify", case_id=str(audit.ids[1]))["problems"][0]["kind"] == "changed"
    assert audit.get("/audit/verify", case_id=str(audit.ids[0]))["ok"] is True
    audit.problem("/audit/verify", 404, case_id=str(uuid4()))
    log = audit.get("/audit/access-log", case_id=str(audit.ids[1]), actor="pruefer")
    assert [e["endpoint"] for e in log["entries"]] == ["GET /audit/cases/{id}/state"]
    entry = log["entries"][0]
    assert len(entry["hash"]) == 64
    assert audit.get("/audit/access-log", since=entry["at"])["entries"][0]["id"] == entry["id"]
    assert audit.get("/audit/access-log", since="2999-01-01T00:00:00Z")["entries"] == []
    Forger(audit.services.cases).sql(
        "UPDATE access_log SET actor = 'x' WHERE id = %s", (entry["id"],)
    )
    kinds = [(p["kind"], p["row"]) for p in audit.get("/audit/verify")["problems"] if "row" in p]
    assert ("access_log_changed", entry["id"]) in kinds
