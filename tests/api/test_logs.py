"""Structured logs: one JSON line per request with its context, and no personal data anywhere,
not even when a request fails on our side."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
import structlog
from fastapi.testclient import TestClient

from adapters.logging import configure_logging
from tests.support.api import (
    AGENTUR,
    ASSESSED,
    AUDIT,
    JOBCENTER,
    RECOGNIZED,
    Api,
    auth,
    person,
    registration,
)


@pytest.fixture
def json_logs(capsys: pytest.CaptureFixture[str]) -> Iterator[pytest.CaptureFixture[str]]:
    """Production logging (JSON lines on stderr), captured; the defaults restored afterwards.
    The test calls ``start_json_logs`` first thing: the logger binds the stderr of that moment."""
    yield capsys
    structlog.reset_defaults()


def start_json_logs(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("json")
    capsys.readouterr()


def someone() -> dict[str, Any]:
    """A person whose name and birth date appear nowhere else."""
    born = date(1950, 1, 1) + timedelta(days=secrets.randbelow(20_000))
    return person(
        given_name="Gv" + secrets.token_hex(6),
        family_name="Fm" + secrets.token_hex(6),
        birth_date=born.isoformat(),
    )


def traces_of(p: dict[str, Any]) -> list[str]:
    born = date.fromisoformat(p["birth_date"])
    return [
        p["given_name"].casefold(),
        p["family_name"].casefold(),
        born.isoformat(),
        born.strftime("%d.%m.%Y"),
        born.strftime("%Y%m%d"),
        repr(born),
    ]


def lines_of(captured: str) -> list[dict[str, Any]]:
    """Every line on stderr is a JSON object (production format)."""
    lines = []
    for raw in captured.splitlines():
        if raw.strip():
            doc = json.loads(raw)
            assert isinstance(doc, dict), raw
            lines.append(doc)
    return lines


def test_a_whole_scenario_logs_requests_but_no_personal_data(
    api: Api, json_logs: pytest.CaptureFixture[str]
) -> None:
    start_json_logs(json_logs)
    people = [someone() for _ in range(3)]
    case_ids = []
    for i, p in enumerate(people):
        r = api.client.post(
            "/cases",
            json=registration(person=p),
            headers={**api.agentur, "X-Request-ID": f"e2e-register-{i}"},
        )
        assert r.status_code == 201, r.text
        assert r.headers["X-Request-ID"] == f"e2e-register-{i}"
        case_ids.append(r.json()["case_id"])
    first, second, third = case_ids
    api.record(first, ASSESSED)
    api.record(first, {"type": "NoteRecorded", "text": f"Gespräch mit {people[0]['family_name']}"})
    api.record(first, RECOGNIZED)
    api.wait_for_offer(first)
    history = api.history(first)
    accepted = api.client.post(
        f"/cases/{first}/handover/accept",
        json={"version": history["version"], "digest": history["digest"]},
        headers=api.jobcenter,
    )
    assert accepted.status_code == 201, accepted.text
    # reads that carry names in the query string, and the results
    holders = [api.jobcenter, api.agentur, api.agentur]
    for p, headers in zip(people, holders, strict=True):
        found = api.client.get(
            "/cases",
            params={"q": p["family_name"], "min_position": accepted.json()["position"]},
            headers=headers,
        )
        assert found.status_code == 200, found.text
        assert len(found.json()["items"]) == 1
    auditor = auth("pruefer", AUDIT, "auditor")
    assert api.client.get(f"/cases/{second}", headers=auditor).status_code == 200
    # refusals: a duplicate, a bad body full of personal data, a stranger, a stale write
    duplicate = registration(person=people[2], bamf_file_number=None)
    bad = {**duplicate, "person": {**people[2], "nationality": people[2]["given_name"]}}
    assert api.client.post("/cases", json=bad, headers=api.agentur).status_code == 422
    stranger = auth("neugierig", "agentur-saarland")
    assert api.client.get(f"/cases/{third}", headers=stranger).status_code == 404  # as for none
    stale = {**api.agentur, "If-Match": "1"}
    api.record(third, {"type": "NoteRecorded", "text": "erstens"})
    r = api.client.post(
        f"/cases/{third}/events", json={"type": "NoteRecorded", "text": "x"}, headers=stale
    )
    assert r.status_code == 409
    api.settle()
    captured = json_logs.readouterr()

    text = (captured.err + captured.out).casefold()
    for p in people:
        for trace in traces_of(p):
            assert trace.casefold() not in text, f"{trace!r} is in the log"

    lines = lines_of(captured.err)
    requests = [line for line in lines if line.get("event") == "request"]
    assert len(requests) >= 15
    for line in requests:
        assert {"request_id", "method", "path", "status", "duration_ms", "actor", "org"} <= set(
            line
        )
        assert "case_id" in line
        assert line["level"] == "info"
        assert line["timestamp"]
    registered = [line for line in requests if str(line["request_id"]).startswith("e2e-register-")]
    assert [(r["method"], r["path"], r["status"]) for r in registered] == [
        ("POST", "/cases", 201)
    ] * 3
    assert {r["actor"] for r in registered} == {"cw-agentur"}
    assert {r["org"] for r in registered} == {AGENTUR}
    accept = [line for line in requests if line["path"] == "/cases/{case_id}/handover/accept"]
    assert accept
    assert accept[0]["case_id"] == first
    assert accept[0]["org"] == JOBCENTER
    assert accept[0]["status"] == 201
    assert accept[0]["actor"] == "cw-jobcenter"
    statuses = {(line["path"], line["status"]) for line in requests}
    assert ("/cases/{case_id}", 404) in statuses
    assert ("/cases/{case_id}/events", 409) in statuses
    assert ("/cases", 422) in statuses
    assert {line["request_id"] for line in requests if line["case_id"] == first}
    # the policy's offer is logged too, with ids only
    assert any(line.get("event") == "policy_offered" and line["case_id"] == first for line in lines)


def test_an_unexpected_error_logs_no_personal_data(
    api: Api, json_logs: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure on our side logs the exception, but never the locals of the frames it passed
    through: they hold the request body and the case's summary."""
    start_json_logs(json_logs)
    p = someone()
    case_id = api.register(person=p)["case_id"]
    api.settle()

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(api.services.cases, "register_case", broken)
    monkeypatch.setattr(api.services.access_log, "record", broken)
    client = TestClient(api.app, raise_server_exceptions=False)
    r = client.post("/cases", json=registration(person=p), headers=api.agentur)
    assert r.status_code == 500
    assert r.headers["content-type"].startswith("application/problem+json")
    assert p["family_name"] not in r.text
    r = client.get(f"/cases/{case_id}", headers=api.agentur)
    assert r.status_code == 500
    captured = json_logs.readouterr()
    text = (captured.err + captured.out).casefold()
    errors = [line for line in lines_of(captured.err) if line.get("event") == "unexpected_error"]
    assert len(errors) == 2
    assert all(line["error_type"] == "RuntimeError" for line in errors)
    # the type and where it arose are logged, not the message: messages can carry values
    assert all(line.get("where") for line in errors)
    assert "database went away" not in text
    for trace in traces_of(p):
        assert trace.casefold() not in text, f"{trace!r} is in the log"
