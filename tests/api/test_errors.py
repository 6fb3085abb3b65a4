"""Bad input is a 4xx ``application/problem+json`` naming the field, never a 500 and never a
partial write; bad tokens are a 401 problem."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import jwt
import pytest

from tests.support.api import (
    AGENTUR,
    SECRET,
    Api,
    note,
    person,
    problem_of,
    registration,
    token,
)


def without(mapping: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if k != key}


# (what, method, path, request keyword arguments, status, field named); {case} is a real case
BAD_INPUT: list[tuple[str, str, str, dict[str, Any], int, str]] = [
    (
        "missing birth date",
        "POST",
        "/cases",
        {"json": registration(person=without(person(), "birth_date"))},
        422,
        "person.birth_date",
    ),
    (
        "German date format",
        "POST",
        "/cases",
        {"json": registration(person=person(birth_date="07.03.1994"))},
        422,
        "person.birth_date",
    ),
    (
        "birth date in the future",
        "POST",
        "/cases",
        {"json": registration(person=person(birth_date="2999-01-01"))},
        422,
        "person.birth_date",
    ),
    (
        "unknown legal status",
        "POST",
        "/cases",
        {"json": registration(legal_status="citizen")},
        422,
        "legal_status",
    ),
    (
        "malformed BAMF number",
        "POST",
        "/cases",
        {"json": registration(bamf_file_number="ABC")},
        422,
        "bamf_file_number",
    ),
    (
        "extra top-level field",
        "POST",
        "/cases",
        {"json": {**registration(), "shoe_size": 42}},
        422,
        "shoe_size",
    ),
    (
        "extra person field",
        "POST",
        "/cases",
        {"json": registration(person=person(religion="x"))},
        422,
        "person.religion",
    ),
    (
        "office of another organisation",
        "POST",
        "/cases",
        {"json": registration(office="St. Wendel")},
        422,
        "office",
    ),
    (
        "unknown event type",
        "POST",
        "/cases/{case}/events",
        {"json": {"type": "Teleported"}},
        422,
        "type",
    ),
    (
        "handover event through /events",
        "POST",
        "/cases/{case}/events",
        {"json": {"type": "HandoverAccepted", "version": 1, "digest": "0" * 64}},
        422,
        "type",
    ),
    (
        "event without a type",
        "POST",
        "/cases/{case}/events",
        {"json": {"text": "keine Art"}},
        422,
        "type",
    ),
    (
        "decision in the future",
        "POST",
        "/cases/{case}/events",
        {"json": {"type": "AsylumRecognized", "protection": "refugee", "decided_on": "2999-01-01"}},
        422,
        "decided_on",
    ),
    (
        "extra event field",
        "POST",
        "/cases/{case}/events",
        {"json": {**note(), "mood": "gut"}},
        422,
        "mood",
    ),
    (
        "nested field wrong",
        "POST",
        "/cases/{case}/events",
        {
            "json": {
                "type": "CompetenceAssessed",
                "instrument": "MYSKILLS",
                "assessed_on": "2026-02-10",
                "languages": [{"language": "ti", "level": "Z9"}],
            }
        },
        422,
        "languages.0.level",
    ),
    (
        "invalid UUID in the path (event)",
        "POST",
        "/cases/not-a-uuid/events",
        {"json": note()},
        422,
        "case_id",
    ),
    ("invalid UUID in the path (read)", "GET", "/cases/12345", {}, 422, "case_id"),
    (
        "invalid UUID in the path (accept)",
        "POST",
        "/cases/xyz/handover/accept",
        {"json": {"version": 1, "digest": "0" * 64}},
        422,
        "case_id",
    ),
    (
        "malformed JSON",
        "POST",
        "/cases",
        {"content": b'{"person": {"given_name": ', "headers": {"Content-Type": "application/json"}},
        422,
        "body",
    ),
    (
        "malformed JSON event",
        "POST",
        "/cases/{case}/events",
        {"content": b"{type: Note}", "headers": {"Content-Type": "application/json"}},
        422,
        "body",
    ),
    ("a list, not an object", "POST", "/cases/{case}/events", {"json": [note()]}, 422, "body"),
    (
        "If-Match not a version",
        "POST",
        "/cases/{case}/events",
        {"json": note(), "headers": {"If-Match": "yesterday"}},
        422,
        "If-Match",
    ),
    (
        "acknowledgement without a digest",
        "POST",
        "/cases/{case}/handover/accept",
        {"json": {"version": 1}},
        422,
        "digest",
    ),
    (
        "offer to an unknown organisation",
        "POST",
        "/cases/{case}/handover",
        {"json": {"to_org": "nowhere", "reason": "x"}},
        422,
        "to_org",
    ),
    (
        "empty reason",
        "POST",
        "/cases/{case}/handover/reject",
        {"json": {"reason": ""}},
        422,
        "reason",
    ),
    ("limit too large", "GET", "/cases", {"params": {"limit": 1000}}, 422, "limit"),
    ("unknown handover filter", "GET", "/cases", {"params": {"handover": "lost"}}, 422, "handover"),
    ("forged cursor", "GET", "/cases", {"params": {"cursor": "e30"}}, 422, "cursor"),
    (
        "unknown queue direction",
        "GET",
        "/handovers",
        {"params": {"direction": "sideways"}},
        422,
        "direction",
    ),
    (
        "negative min_position",
        "GET",
        "/cases",
        {"params": {"min_position": -3}},
        422,
        "min_position",
    ),
    # refusals of a rule, not of the shape: still a problem, still nothing written
    (
        "a case that does not exist",
        "POST",
        "/cases/00000000-0000-4000-8000-000000000000/events",
        {"json": note()},
        404,
        "",
    ),
    (
        "accept with nothing offered",
        "POST",
        "/cases/{case}/handover/accept",
        {"json": {"version": 1, "digest": "0" * 64}},
        409,
        "",
    ),
    (
        "step completed that was never agreed",
        "POST",
        "/cases/{case}/events",
        {"json": {"type": "StepCompleted", "step_id": "s-1", "completed_on": "2026-01-05"}},
        409,
        "",
    ),
]


def test_bad_input_is_a_problem_naming_the_field_and_writes_nothing(api: Api) -> None:
    case_id = api.register()["case_id"]
    api.settle()
    head = api.head()
    for what, method, path, kwargs, status, field in BAD_INPUT:
        headers = {**api.agentur, **kwargs.get("headers", {})}
        request = {k: v for k, v in kwargs.items() if k != "headers"}
        r = api.client.request(method, path.format(case=case_id), headers=headers, **request)
        assert r.status_code == status, (what, r.status_code, r.text)
        body = problem_of(r, status)
        if field:
            fields = [e["field"] for e in body["errors"]]
            assert field in fields, (what, body)
            assert field in body["detail"], (what, body)
        assert api.head() == head, f"{what}: something was written"
    # after all that, the case is untouched
    assert api.history(case_id, api.agentur)["version"] == 1


def test_unknown_event_type_lists_the_catalogue(api: Api) -> None:
    case_id = api.register()["case_id"]
    r = api.client.post(
        f"/cases/{case_id}/events", json={"type": "Teleported"}, headers=api.agentur
    )
    body = problem_of(r, 422)
    assert body["errors"][0]["field"] == "type"
    assert "NoteRecorded" in body["detail"]
    assert "Teleported" in body["detail"]


def b64url(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    return {
        "sub": "cw-agentur",
        "name": "cw",
        "org": AGENTUR,
        "roles": ["caseworker"],
        "iat": now,
        "exp": now + 600,
        **overrides,
    }


BAD_TOKENS: list[tuple[str, dict[str, str]]] = [
    ("missing", {}),
    ("empty bearer", {"Authorization": "Bearer "}),
    ("basic scheme", {"Authorization": "Basic Y3c6cGFzc3dvcmQ="}),
    ("expired", {"Authorization": f"Bearer {token('cw', AGENTUR, 'caseworker', ttl=-60)}"}),
    (
        "alg none",
        {"Authorization": f"Bearer {b64url({'alg': 'none', 'typ': 'JWT'})}.{b64url(claims())}."},
    ),
    (
        "alg none, upper case",
        {"Authorization": f"Bearer {b64url({'alg': 'NONE', 'typ': 'JWT'})}.{b64url(claims())}."},
    ),
    (
        "wrongly signed",
        {"Authorization": "Bearer " + jwt.encode(claims(), "another-secret-" * 3, "HS256")},
    ),
    (
        "right secret, other algorithm",
        {"Authorization": "Bearer " + jwt.encode(claims(), SECRET, "HS512")},
    ),
    (
        "signature of another token",
        {
            "Authorization": "Bearer "
            + ".".join(
                [
                    *jwt.encode(
                        claims(org="audit-office", roles=["auditor"]), SECRET, "HS256"
                    ).split(".")[:2],
                    jwt.encode(claims(), SECRET, "HS256").split(".")[2],
                ]
            )
        },
    ),
    ("malformed", {"Authorization": "Bearer not-a-token"}),
    ("malformed, three parts", {"Authorization": "Bearer a.b.c"}),
    ("no expiry", {"Authorization": "Bearer " + jwt.encode(without(claims(), "exp"), SECRET)}),
    (
        "no organisation",
        {"Authorization": "Bearer " + jwt.encode(without(claims(), "org"), SECRET)},
    ),
    ("unknown role", {"Authorization": "Bearer " + jwt.encode(claims(roles=["root"]), SECRET)}),
    ("roles not a list", {"Authorization": "Bearer " + jwt.encode(claims(roles=7), SECRET)}),
    ("org not a string", {"Authorization": "Bearer " + jwt.encode(claims(org=["a"]), SECRET)}),
]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/cases", None),
        ("POST", "/cases", registration()),
        ("GET", "/cases/{case}", None),
        ("GET", "/cases/{case}/history", None),
        ("POST", "/cases/{case}/events", note()),
        ("GET", "/handovers", None),
    ],
)
def test_bad_tokens_get_401(api: Api, method: str, path: str, body: dict[str, Any] | None) -> None:
    case_id = api.register()["case_id"]
    api.settle()
    head = api.head()
    reads = len(api.services.access_log.entries(case_id=case_id))
    for what, headers in BAD_TOKENS:
        r = api.client.request(method, path.format(case=case_id), json=body, headers=headers)
        problem = problem_of(r, 401)
        assert r.headers["WWW-Authenticate"].startswith("Bearer"), what
        assert "Rahel" not in r.text, what
        assert problem["type"].endswith("/unauthenticated"), what
    assert api.head() == head
    assert len(api.services.access_log.entries(case_id=case_id)) == reads
    # and the good token still works
    ok = api.client.request(method, path.format(case=case_id), json=body, headers=api.agentur)
    assert ok.status_code in (200, 201), ok.text


def test_expired_token_says_so(api: Api) -> None:
    expired = {"Authorization": f"Bearer {token('cw', AGENTUR, 'caseworker', ttl=-60)}"}
    assert "expired" in problem_of(api.client.get("/cases", headers=expired), 401)["detail"]


def test_health_needs_no_token(api: Api) -> None:
    assert api.client.get("/healthz").status_code == 200
    assert api.client.get("/readyz").status_code == 200
    assert api.client.get("/metrics").status_code == 200


def test_unknown_path_and_method_are_problems(api: Api) -> None:
    problem_of(api.client.get("/nowhere", headers=api.agentur), 404)
    problem_of(api.client.delete("/cases", headers=api.agentur), 405)
