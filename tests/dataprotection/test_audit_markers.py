"""``GET /audit/events`` shows personal values as an auditor may see them (issue 9): opened where
the auditor's row of the disclosure table allows it, "[nicht freigegeben]" for health, and
"[gelöscht]" once the case's key is erased; ``sealed`` names what is stored as ciphertext. The
rest of each event (position, hashes, bookkeeping) is the stored event's. Once per backend."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from adapters.audit.export import export
from adapters.keystore import CaseKeys, MasterKey
from domain.values import Redacted
from tests.support.api import AGENTUR, AUDIT, Api, auth
from tests.support.dataprotection import Subject, found_in
from tests.support.served import served

AUDITOR = auth("pruefer", AUDIT, "auditor")
LEAD = auth("tl-agentur", AGENTUR, "team_lead")
ERASURE = {"ground": "subject_request", "reason": "Antrag nach Art. 17 DSGVO, Az. DS-2026-18"}
ERASED, WITHHELD = Redacted.ERASED.value, Redacted.WITHHELD.value
SEALED = {  # event type -> the fields stored sealed in the subject's events
    "CaseRegistered": ["person", "bamf_file_number"],
    "NoteRecorded": ["text"],
    "CompetenceAssessed": ["instrument", "notes"],
    "StepAgreed": ["description"],
    "MeasureStarted": ["provider"],
}


@pytest.fixture
def api(db_url: str, tmp_path: Path) -> Iterator[Api]:
    with served(db_url, tmp_path) as built:
        yield built


def recorded_case(api: Api, subject: Subject) -> str:
    r = api.client.post("/cases", json=subject.registration(), headers=api.agentur)
    assert r.status_code == 201, r.text
    case_id = str(r.json()["case_id"])
    for event in subject.events():
        api.record(case_id, event)
    return case_id


def audit_events(api: Api, case_id: str, **params: Any) -> tuple[list[dict[str, Any]], str]:
    r = api.client.get(
        "/audit/events", params={"case_id": case_id, "limit": 1000, **params}, headers=AUDITOR
    )
    assert r.status_code == 200, r.text
    return r.json()["events"], r.text


def of_type(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == kind]


def health_note(events: list[dict[str, Any]]) -> dict[str, Any]:
    [note] = [e for e in of_type(events, "NoteRecorded") if e["data"]["category"] == "health"]
    return note


def test_an_auditor_reads_names_and_notes_but_no_health_note_and_after_erasure_only_markers(
    api: Api,
) -> None:
    subject = Subject.new()
    case_id = recorded_case(api, subject)

    before, text = audit_events(api, case_id)

    registered = of_type(before, "CaseRegistered")[0]
    person = registered["data"]["person"]
    assert (person["given_name"], person["family_name"]) == (
        subject.given.capitalize(),
        subject.family.capitalize(),
    )
    assert person["birth_date"] == subject.birth_date.isoformat()
    assert registered["data"]["bamf_file_number"] == subject.bamf
    assert registered["withheld"] == []
    health = health_note(before)
    assert (health["data"]["text"], health["withheld"]) == (WITHHELD, ["text"])
    assert found_in(text, [subject.health]) == []
    assert found_in(text, [subject.note, subject.step, subject.assessment]) == [
        subject.note,
        subject.step,
        subject.assessment,
    ]
    assert '"box"' not in text  # no ciphertext: each sealed value opened, withheld or erased
    for event in before:
        assert event["sealed"] == SEALED.get(event["type"], []), event["type"]

    r = api.client.post(f"/cases/{case_id}/erasure", json=ERASURE, headers=LEAD)
    assert r.status_code == 201, r.text
    after, text = audit_events(api, case_id)

    assert found_in(text, subject.personal()) == []
    assert found_in(text, [subject.reference]) == [subject.reference]  # what is not personal stays
    for event in after[:-1]:
        sealed = SEALED.get(event["type"], [])
        assert event["sealed"] == sealed, event["type"]
        assert [event["data"][name] for name in sealed] == [ERASED] * len(sealed), event["type"]
        assert event["withheld"] == []  # erased, not withheld: nobody can read it any more
    assert health_note(after)["data"]["category"] == "health"
    erased = after[-1]
    assert (erased["type"], erased["data"]["reason"]) == ("PersonalDataErased", ERASURE["reason"])
    kept = ("position", "case_id", "version", "type", "recorded_at", "actor", "org", "hash",
            "prev_hash", "sealed")  # fmt: skip
    assert [{k: e[k] for k in kept} for e in after[:-1]] == [
        {k: e[k] for k in kept} for e in before
    ]
    facts = [
        {k: v for k, v in e["data"].items() if k not in SEALED.get(e["type"], [])} for e in before
    ]
    assert facts == [
        {k: v for k, v in e["data"].items() if k not in SEALED.get(e["type"], [])}
        for e in after[:-1]
    ]


def test_the_export_keeps_the_stored_ciphertext_that_verification_needs(api: Api) -> None:
    subject = Subject.new()
    case_id = recorded_case(api, subject)
    shown, _ = audit_events(api, case_id)
    out = io.StringIO()

    export(api.services.cases, out, UUID(case_id))

    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["hash"] for line in lines] == [e["hash"] for e in shown]
    for line, event in zip(lines, shown, strict=True):
        for name in event["sealed"]:
            assert set(line["state"][name]) == {"box"}, (event["type"], name)
    assert found_in(out.getvalue(), subject.personal()) == []
    assert shown[0]["data"]["person"]["family_name"] == subject.family.capitalize()


def test_one_key_query_per_page_and_no_key_unwrapped_for_values_the_auditor_may_not_see(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    subject = Subject.new()
    case_ids = [recorded_case(api, subject), recorded_case(api, Subject.new())]
    keys = api.services.cases.keys
    assert isinstance(keys, CaseKeys)
    api.settle()  # the projections, which open events too, are done
    queries: list[list[UUID]] = []
    unwrapped: list[UUID] = []
    opened: list[tuple[UUID, str]] = []
    held_keys, unwrap, open_box = keys.held_keys, MasterKey.unwrap, CaseKeys.open_box

    def counted_held_keys(case_ids: Any, *, unwrap: Any) -> Any:
        queries.append(list(case_ids))
        return held_keys(case_ids, unwrap=unwrap)

    def counted_unwrap(self: MasterKey, case_id: UUID, wrapped: bytes) -> bytes:
        unwrapped.append(case_id)
        return unwrap(self, case_id, wrapped)

    def counted_open(self: CaseKeys, case_id: UUID, topic: str, field: str, *a: Any) -> bytes:
        opened.append((case_id, topic))
        return open_box(self, case_id, topic, field, *a)

    monkeypatch.setattr(keys, "held_keys", counted_held_keys)
    monkeypatch.setattr(MasterKey, "unwrap", counted_unwrap)
    monkeypatch.setattr(CaseKeys, "open_box", counted_open)

    page = api.client.get("/audit/events", params={"limit": 1000}, headers=AUDITOR)
    assert page.status_code == 200, page.text
    assert len(queries) == 1
    assert {str(i) for i in queries[0]} >= set(case_ids)
    assert len(unwrapped) == len(set(unwrapped))  # each case's key once

    # only the health note of the case: its key stays wrapped, nothing is decrypted
    first = case_ids[0]
    health = health_note(audit_events(api, first)[0])
    queries.clear()
    unwrapped.clear()
    opened.clear()
    only_health, text = audit_events(
        api, first, type="NoteRecorded", since=health["recorded_at"], until=health["recorded_at"]
    )
    assert [e["version"] for e in only_health] == [health["version"]]
    assert only_health[0]["data"]["text"] == WITHHELD
    assert found_in(text, [subject.health]) == []
    assert (len(queries), unwrapped, opened) == (1, [], [])
