"""Erasure by crypto-shredding (issue 9, ADR 0008), through the HTTP API as a team lead uses it.

Personal fields are sealed with the case's own key before their event is built; erasing deletes
the key. Afterwards no personal value is left in the database files, a dump, the read models,
the audit views, the export or the logs; markers stand in its place, the facts stay, the hash
chain still verifies, the case takes no more events, and the views rebuild to the same rows.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
import structlog
from fastapi.testclient import TestClient

import verifier.audit_verify
from adapters.keystore import CaseKeys
from adapters.logging import configure_logging
from adapters.views import schema
from adapters.views.store import SQLiteViewStore
from api.app import create_app
from bootstrap import build_services
from cli.main import EXIT_OK, main
from domain.aggregates.case_errors import CaseErasedError
from projections.registry import PROJECTIONS
from tests.support.api import (
    AGENTUR,
    AUDIT,
    JOBCENTER,
    RECOGNIZED,
    Api,
    auth,
    problem_of,
    settings_for,
)
from tests.support.dataprotection import (
    MARKER,
    Subject,
    database_contents,
    found_in,
    stored_event_states,
)
from tests.support.projections import read_views
from workers.projections import build_view_store

LEAD = auth("tl-agentur", AGENTUR, "team_lead")
AUDITOR = auth("pruefer", AUDIT, "auditor")
ERASURE = {"ground": "subject_request", "reason": "Antrag nach Art. 17 DSGVO, Az. DS-2026-17"}
NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)


@pytest.fixture
def make_api(db_url: str, env: Path) -> Iterator[Callable[..., Api]]:
    """The end-to-end app (``tests/support/api.py``) on the test's own database, with the settings
    (data directory, master key) the ``staffel`` commands read from ``env``."""
    built: list[Api] = []

    def make(**overrides: Any) -> Api:
        settings = settings_for(db_url, data_dir=env / "data", **overrides)
        services = build_services(settings)
        app = create_app(settings, services)
        client = TestClient(app)
        client.__enter__()
        built.append(Api(app=app, services=services, client=client))
        return built[-1]

    yield make
    for api in reversed(built):
        api.client.__exit__(None, None, None)
        api.services.close()


@pytest.fixture
def api(make_api: Callable[..., Api]) -> Api:
    return make_api()


@pytest.fixture
def logs(capsys: pytest.CaptureFixture[str]) -> Iterator[pytest.CaptureFixture[str]]:
    """Production logging, captured (the test calls ``json_logs`` first thing: the logger binds
    the stderr of that moment); the defaults restored afterwards."""
    yield capsys
    structlog.reset_defaults()


def json_logs(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("json")
    capsys.readouterr()


def recorded_case(api: Api, subject: Subject) -> str:
    """The subject registered by the Agentur with every event of ``subject.events()``."""
    r = api.client.post("/cases", json=subject.registration(), headers=api.agentur)
    assert r.status_code == 201, r.text
    case_id = str(r.json()["case_id"])
    for event in subject.events():
        api.record(case_id, event)
    api.settle()
    return case_id


def erase(api: Api, case_id: str, headers: dict[str, str] = LEAD) -> Any:
    return api.client.post(f"/cases/{case_id}/erasure", json=ERASURE, headers=headers)


def get(api: Api, path: str, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    r = api.client.get(path, params=params or None, headers=headers)
    assert r.status_code == 200, (path, r.text)
    body: dict[str, Any] = r.json()
    return body


def read_models(api: Api, case_id: str) -> dict[str, Any]:
    """What staff and auditors read about the case over HTTP."""
    return {
        "case": get(api, f"/cases/{case_id}", api.agentur),
        "history": get(api, f"/cases/{case_id}/history", api.agentur),
        "caseload": get(api, "/cases", api.agentur, limit=200),
        "audit_events": get(api, "/audit/events", AUDITOR, case_id=case_id, limit=1000),
        "audit_state": get(api, f"/audit/cases/{case_id}/state", AUDITOR),
    }


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def entries_of(history: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e for e in history["entries"] if e["type"] == kind]


# -- before the erasure -------------------------------------------------------------------------


def test_personal_values_are_stored_sealed_while_caseworkers_read_them_in_clear(
    api: Api, db_url: str
) -> None:
    subject = Subject.new()
    case_id = recorded_case(api, subject)

    stored = stored_event_states(db_url, api.services.cases.recorder.events_table_name)  # type: ignore[attr-defined]

    assert found_in(stored, subject.personal()) == []
    assert found_in(stored, [subject.reference]) == [subject.reference]  # the search does find
    assert b'"box"' in stored or b"22626f7822" in stored  # sealed boxes (as hex in a dump)
    seen = read_models(api, case_id)
    person = seen["case"]["person"]
    assert (person["given_name"], person["family_name"]) == (
        subject.given.capitalize(),
        subject.family.capitalize(),
    )
    assert person["birth_date"] == subject.birth_date.isoformat()
    assert seen["case"]["bamf_file_number"] == subject.bamf
    shown = found_in(json.dumps(seen["history"], ensure_ascii=False), subject.personal())
    assert shown == [v for v in subject.personal() if v != subject.birth_date.strftime("%Y%m%d")]


# -- the erasure ----------------------------------------------------------------------------------


def test_after_erasure_no_personal_value_is_left_anywhere_and_the_log_still_verifies(
    make_api: Callable[..., Api],
    db_url: str,
    env: Path,
    logs: pytest.CaptureFixture[str],
) -> None:
    json_logs(logs)
    api = make_api()
    subject = Subject.new()
    case_id = recorded_case(api, subject)
    before = read_models(api, case_id)
    statistics = api.services.queries.statistics(org=AGENTUR, now=NOW)

    r = erase(api, case_id)

    assert r.status_code == 201, r.text
    assert r.json()["version"] == before["history"]["version"] + 1
    api.settle()
    after = read_models(api, case_id)
    assert get(api, "/audit/verify", AUDITOR)["ok"] is True
    output = [logs.readouterr()]
    export, printed = verified_export(logs, env)
    api.settle()
    output.append(logs.readouterr())
    stored = database_contents(db_url)
    logged = printed + "".join(o.out + o.err for o in output)

    # nowhere: database files or dump, read models, audit views, export, logs
    personal = subject.personal()
    for name, content in stored.items():
        assert found_in(content, personal) == [], f"erased values in {name}"
    for name, body in after.items():
        assert found_in(json.dumps(body, ensure_ascii=False), personal) == [], name
    assert found_in(export, personal) == []
    assert found_in(logged, personal) == []
    assert '"personal_data_erased"' in logged
    # ...where a search does find what stays
    assert any(found_in(content, [subject.reference]) for content in stored.values())
    assert found_in(export, [subject.reference]) == [subject.reference]
    assert_markers_in_place_of_the_values(after)
    assert_the_facts_stay(before, after)
    assert api.services.queries.statistics(org=AGENTUR, now=NOW) == statistics
    assert get(api, "/cases", api.agentur, q=subject.family)["items"] == []


def verified_export(capsys: pytest.CaptureFixture[str], folder: Path) -> tuple[str, str]:
    """``staffel audit verify`` passes; ``staffel audit export``, checked by the offline verifier
    (a copy of the file alone, in a fresh interpreter), passes too. Returns the export and what
    else the commands printed."""
    code, out, err = run(capsys, "audit", "verify")
    assert code == EXIT_OK, out + err
    assert "no problems" in out
    printed = out + err
    code, export, err = run(capsys, "audit", "export")
    assert code == EXIT_OK, err
    log_file = folder / "log.jsonl"
    log_file.write_text(export, "utf-8")
    checker = shutil.copy(verifier.audit_verify.__file__, folder)
    offline = subprocess.run(
        [sys.executable, "-I", checker, str(log_file)], capture_output=True, text=True, check=False
    )
    assert offline.returncode == 0, offline.stdout + offline.stderr
    return export, printed + err + offline.stdout


def assert_markers_in_place_of_the_values(after: dict[str, Any]) -> None:
    case, history = after["case"], after["history"]
    assert case["person"]["given_name"] == case["person"]["family_name"] == MARKER
    assert case["person"]["birth_date"] is None
    assert case["competences"]["notes"] == MARKER
    assert [s["description"] for s in case["steps"]] == [MARKER]
    notes = entries_of(history, "NoteRecorded")
    assert [n["data"]["text"] for n in notes] == [MARKER, MARKER]
    assert all(MARKER in n["summary"] for n in notes)
    assert MARKER in entries_of(history, "CaseRegistered")[0]["summary"]
    assert MARKER in after["audit_state"]["events"][0]["summary"]
    listed = [i for i in after["caseload"]["items"] if i["case_id"] == case["case_id"]]
    assert len(listed) == 1
    assert MARKER in json.dumps(listed[0], ensure_ascii=False)


def assert_the_facts_stay(before: dict[str, Any], after: dict[str, Any]) -> None:
    """Types, dates, organisations, legal statuses and hashes are what they were."""
    case, history = after["case"], after["history"]
    kept = ("version", "type", "recorded_at", "occurred_on", "org", "hash", "prev_hash")
    assert [{k: e[k] for k in kept} for e in history["entries"][:-1]] == [
        {k: e[k] for k in kept} for e in before["history"]["entries"]
    ]
    assert [e["hash"] for e in after["audit_events"]["events"][:-1]] == [
        e["hash"] for e in before["audit_events"]["events"]
    ]
    erased = history["entries"][-1]
    assert (erased["type"], erased["data"]["ground"]) == ("PersonalDataErased", "subject_request")
    assert erased["data"]["reason"] == ERASURE["reason"]
    assert case["erased_on"] == erased["occurred_on"]
    for key in ("holder", "legal_status", "legal_basis", "residence_municipality"):
        assert case[key] == before["case"][key], key
    # the measures stay, their provider (free text) erased
    assert case["measures"] == [{**m, "provider": MARKER} for m in before["case"]["measures"]]
    assert [n["data"]["category"] for n in entries_of(history, "NoteRecorded")] == [
        "family",
        "health",
    ]
    assert case["competences"]["german_level"] == "A2"
    assert [s["due_on"] for s in case["steps"]] == ["2026-06-30"]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_no_old_copy_stays_in_the_sqlite_file_where_sqlite_keeps_deleted_content_by_default(
    make_api: Callable[..., Api], db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Builds of SQLite without ``SQLITE_SECURE_DELETE`` (Debian's has it) leave deleted and
    replaced rows in the file until their space is reused: a summary is replaced on every event,
    so its earlier copies would keep the names after the erasure.

    The write-ahead log is compacted after the commit of the batch that applied the erasure, so
    for a moment the views show the erasure while the files still hold the pages from before it
    (another projection's compaction may have copied them into the database file): ``settle``
    waits for that compaction too. Slowed down here, as on a machine under load."""
    connect = sqlite3.connect
    compact_log = SQLiteViewStore.compact_log

    def slow_compact_log(store: SQLiteViewStore) -> None:
        time.sleep(0.3)
        compact_log(store)

    def connect_as_elsewhere(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        conn: sqlite3.Connection = connect(*args, **kwargs)
        conn.execute("PRAGMA secure_delete = OFF")
        return conn

    monkeypatch.setattr(sqlite3, "connect", connect_as_elsewhere)
    monkeypatch.setattr(SQLiteViewStore, "compact_log", slow_compact_log)
    api = make_api()
    subject = Subject.new()
    case_id = recorded_case(api, subject)
    api.record(case_id, {"type": "StepCompleted", "step_id": "s1", "completed_on": "2026-05-04"})

    assert erase(api, case_id).status_code == 201
    api.settle()

    for name, content in database_contents(db_url).items():
        assert found_in(content, subject.personal()) == [], f"erased values in {name}"


def test_an_erased_case_takes_no_more_events_nor_a_second_erasure_and_its_key_is_never_made_again(
    api: Api,
) -> None:
    subject = Subject.new()
    case_id = recorded_case(api, subject)
    assert erase(api, case_id).status_code == 201
    head = api.head()
    cases = api.services.cases
    keys = cases.keys
    assert isinstance(keys, CaseKeys)

    note = api.client.post(
        f"/cases/{case_id}/events", json={"type": "NoteRecorded", "text": "x"}, headers=api.agentur
    )
    recognized = api.client.post(f"/cases/{case_id}/events", json=RECOGNIZED, headers=api.agentur)
    offer = api.client.post(
        f"/cases/{case_id}/handover",
        json={"to_org": JOBCENTER, "reason": "Umzug"},
        headers=api.agentur,
    )
    again = erase(api, case_id)

    for refused in (note, recognized, offer, again):
        assert problem_of(refused, 409)["type"].endswith("case-erased"), refused.text
    assert api.head() == head
    # the tombstone: no key, and none is made again, not even by a save that brings one
    assert keys.is_erased(UUID(case_id))
    assert keys.stored_keys([UUID(case_id)]) == {UUID(case_id): None}
    with pytest.raises(CaseErasedError):
        keys.seal(UUID(case_id), "staffel:Case.NoteRecorded", "text", "neu")
    # the recorders store a key that comes with a save (here: as a bundle's key would) beside
    # the events; a tombstone already there wins
    cases.recorder.insert_events([], case_keys=keys.adopt(UUID(case_id), b"k" * 32))
    assert keys.stored_keys([UUID(case_id)]) == {UUID(case_id): None}
    assert keys.erase(UUID(case_id)) is False


def matching_rows(store: Any, case_ids: list[str]) -> list[dict[str, Any]]:
    """The matching projection's rows of ``case_ids`` in its active generation."""
    table = schema.table("match_cases", store.active_generation("matching"))
    marks = ", ".join(["%s"] * len(case_ids))
    with store.cursor() as curs:
        curs.execute(
            store.sql(f"SELECT * FROM {table} WHERE case_id IN ({marks}) ORDER BY case_id"),
            case_ids,
        )
        return [{**row, "doc": json.loads(row["doc"])} for row in curs.fetchall()]


def test_projections_rebuild_over_erased_cases_to_the_views_they_had(
    api: Api, db_url: str, env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    subjects = [Subject.new() for _ in range(3)]
    case_ids = [recorded_case(api, s) for s in subjects]
    for case_id in case_ids[:2]:
        assert erase(api, case_id).status_code == 201
    api.record(case_ids[2], {"type": "NoteRecorded", "text": "nach den Löschungen"})
    api.settle()
    store = build_view_store(api.services.cases)
    incremental = read_views(store, case_ids)
    incremental_matching = matching_rows(store, case_ids)
    old = {p.name: store.active_generation(p.name) for p in PROJECTIONS}

    code, out, err = run(capsys, "replay")

    assert code == EXIT_OK, out + err
    new = {p.name: store.active_generation(p.name) for p in PROJECTIONS}
    assert all(new[name] != old[name] for name in new)
    rebuilt = read_views(store, case_ids)
    assert rebuilt.history == incremental.history
    assert rebuilt.docs == incremental.docs
    assert rebuilt.handovers == incremental.handovers
    assert matching_rows(store, case_ids) == incremental_matching
    erased = [s.personal() for s in subjects[:2]]
    text = json.dumps(
        [rebuilt.history, rebuilt.summaries, incremental_matching], ensure_ascii=False
    )
    assert [found_in(text, values) for values in erased] == [[], []]
    assert found_in(text, subjects[2].personal()[:2]) == subjects[2].personal()[:2]
    for name, content in database_contents(db_url).items():
        assert [found_in(content, values) for values in erased] == [[], []], name


# -- an open handover ---------------------------------------------------------------------------


def test_erasure_during_an_open_offer_withdraws_it_in_the_same_save_and_the_receiver_cannot_accept(
    api: Api,
) -> None:
    subject = Subject.new()
    case_id = recorded_case(api, subject)
    api.record(case_id, RECOGNIZED)
    offer = api.wait_for_offer(case_id)
    read = api.history(case_id)  # the Jobcenter reads what it would acknowledge
    assert found_in(json.dumps(read, ensure_ascii=False), [subject.family]) == [subject.family]
    head = api.head()

    r = erase(api, case_id)

    assert r.status_code == 201, r.text
    saved = api.services.cases.recorder.select_notifications(start=head + 1, limit=10)
    stored = [n for n in saved if str(n.originator_id) == str(case_id)]
    assert [n.topic for n in stored] == [
        "staffel:Case.HandoverWithdrawn",
        "staffel:Case.PersonalDataErased",
    ]
    # in the same save: the BAMF file number's uniqueness index released
    assert [n.topic for n in saved if n not in stored] == ["staffel:BamfFileNumberIndex.Released"]
    assert [n.originator_version for n in stored] == [read["version"] + 1, read["version"] + 2]
    assert r.json()["version"] == read["version"] + 2
    api.settle()
    waiting = get(api, "/handovers", api.jobcenter, direction="incoming", state="offered")
    assert [i for i in waiting["items"] if i["case_id"] == case_id] == []
    incoming = get(api, "/handovers", api.jobcenter, direction="incoming", limit=200)
    assert [i["state"] for i in incoming["items"] if i["case_id"] == case_id] == ["withdrawn"]
    outgoing = get(api, "/handovers", api.agentur, direction="outgoing", limit=200)
    withdrawn = [i for i in outgoing["items"] if i["case_id"] == case_id]
    assert [(i["offer_version"], i["state"]) for i in withdrawn] == [
        (offer["offer_version"], "withdrawn")
    ]
    accepted = api.client.post(
        f"/cases/{case_id}/handover/accept",
        json={"version": read["version"], "digest": read["digest"]},
        headers=api.jobcenter,
    )
    assert problem_of(accepted, 409)["type"].endswith("case-erased")
    case = api.services.cases.get_case(UUID(case_id))
    assert (case.holder, case.handover) == (AGENTUR, None)
    history = get(api, f"/cases/{case_id}/history", api.agentur)
    assert found_in(json.dumps(history, ensure_ascii=False), subject.personal()) == []


# -- who may erase, and how ----------------------------------------------------------------------


def test_only_a_team_lead_or_admin_of_the_holder_may_erase(api: Api) -> None:
    case_id = recorded_case(api, Subject.new())
    head = api.head()
    refused = {
        "caseworker": auth("cw", AGENTUR, "caseworker"),
        "auditor": AUDITOR,
        "auditor who is also team lead": auth("tl-pruefer", AGENTUR, ["team_lead", "auditor"]),
        "team lead elsewhere": auth("tl-jobcenter", JOBCENTER, "team_lead"),
        "admin elsewhere": auth("admin-jobcenter", JOBCENTER, "admin"),
        "volunteer": auth("pate", "drk-heinsberg", "volunteer"),
    }

    for who, headers in refused.items():
        # each: `who` is refused; another organisation as for no case (issue 13)
        problem_of(erase(api, case_id, headers), 404 if "elsewhere" in who else 403)
        assert api.head() == head, who

    assert erase(api, case_id, auth("admin", AGENTUR, "admin")).status_code == 201
    other = recorded_case(api, Subject.new())
    assert erase(api, other, LEAD).status_code == 201


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"reason": "Antrag"}, "ground"),
        ({"ground": "because", "reason": "Antrag"}, "ground"),
        ({"ground": "subject_request"}, "reason"),
        ({"ground": "subject_request", "reason": ""}, "reason"),
        ({"ground": "subject_request", "reason": "x" * 501}, "reason"),
        ({"ground": "subject_request", "reason": "Antrag", "name": "Tesfaye"}, "name"),
    ],
)
def test_a_bad_erasure_request_is_refused_naming_the_field(
    api: Api, body: dict[str, Any], field: str
) -> None:
    case_id = recorded_case(api, Subject.new())
    head = api.head()

    r = api.client.post(f"/cases/{case_id}/erasure", json=body, headers=LEAD)

    problem = problem_of(r, 422)
    assert field in [e["field"].split(".")[-1] for e in problem["errors"]], problem
    assert api.head() == head


def test_a_repeated_erasure_request_with_its_idempotency_key_gets_the_first_answer(
    api: Api,
) -> None:
    case_id = recorded_case(api, Subject.new())
    headers = {**LEAD, "Idempotency-Key": "loeschung-ds-2026-17"}

    first = api.client.post(f"/cases/{case_id}/erasure", json=ERASURE, headers=headers)
    head = api.head()
    again = api.client.post(f"/cases/{case_id}/erasure", json=ERASURE, headers=headers)
    other_body = api.client.post(
        f"/cases/{case_id}/erasure",
        json={**ERASURE, "ground": "retention_expired"},
        headers=headers,
    )

    assert first.status_code == 201, first.text
    assert (again.status_code, again.json()) == (201, first.json())
    assert problem_of(other_body, 422)["type"].endswith("idempotency-key-reused")
    assert api.head() == head
    without_key = erase(api, case_id)
    assert problem_of(without_key, 409)["type"].endswith("case-erased")
