"""Concurrent writers through the HTTP API: a stale If-Match is a 409, never a 500; a write without
If-Match is re-run, never a 409; an offer is either accepted or rejected, never both; an
Idempotency-Key records once."""

from __future__ import annotations

import secrets
from collections import Counter
from typing import Any, TypeVar

from httpx import Response

from tests.support.api import (
    AGENTUR,
    JOBCENTER,
    Api,
    auth,
    note,
    poster,
    problem_of,
    race,
    registration,
)

T = TypeVar("T")
ROUNDS = 6


def statuses(responses: list[Response]) -> list[int]:
    return sorted(r.status_code for r in responses)


def test_same_if_match_one_wins_one_conflicts(api: Api) -> None:
    case_id = api.register()["case_id"]
    writers = [auth("cw-a", AGENTUR), auth("cw-b", AGENTUR)]
    path = f"/cases/{case_id}/events"
    version = 1
    for round_ in range(ROUNDS):
        responses = race(
            *(
                poster(api, path, note(f"{who}{round_}"), {**h, "If-Match": str(version)})
                for who, h in zip("ab", writers, strict=True)
            )
        )
        assert statuses(responses) == [201, 409], [r.text for r in responses]
        won = next(r for r in responses if r.status_code == 201).json()
        lost = problem_of(next(r for r in responses if r.status_code == 409), 409)
        assert won["version"] == version + 1
        assert lost["current_version"] in (version, version + 1)
        version += 1
    history = api.history(case_id, writers[0], min_position=api.head())
    assert history["version"] == len(history["entries"]) == 1 + ROUNDS


def test_concurrent_writes_without_if_match_all_succeed(api: Api) -> None:
    """No If-Match: a write that collides runs again on the new state (issue 16), never a 409."""
    case_id = api.register()["case_id"]
    head = api.head()
    writers = [auth(f"cw-{i}", AGENTUR) for i in range(4)]
    for round_ in range(3):
        responses = race(
            *(
                poster(api, f"/cases/{case_id}/events", note(f"{round_}-{i}"), h)
                for i, h in enumerate(writers)
            )
        )
        assert statuses(responses) == [201] * len(writers), [r.text for r in responses]
        assert len({r.json()["version"] for r in responses}) == len(writers)
    # every 201 is exactly one event, and nothing else was written
    assert api.recorded_since(head) == 3 * len(writers)
    history = api.history(case_id, writers[0], min_position=api.head())
    assert history["version"] == 1 + 3 * len(writers)


def test_concurrent_accept_and_reject_one_wins(api: Api) -> None:
    outcomes: Counter[str] = Counter()
    for _ in range(ROUNDS):
        case_id = api.offered_case()
        read = api.history(case_id)
        accepting, rejecting = auth("jc-accept", JOBCENTER), auth("jc-reject", JOBCENTER)
        accept, reject = race(
            poster(
                api,
                f"/cases/{case_id}/handover/accept",
                {"version": read["version"], "digest": read["digest"]},
                accepting,
            ),
            poster(
                api, f"/cases/{case_id}/handover/reject", {"reason": "nicht zuständig"}, rejecting
            ),
        )
        assert statuses([accept, reject]) == [201, 409], (accept.text, reject.text)
        loser = accept if accept.status_code == 409 else reject
        assert problem_of(loser, 409)["detail"]
        auditor = auth("pruefer", "audit-office", "auditor")  # after a rejection only they read
        history = api.history(case_id, auditor, min_position=api.head())
        types = [e["type"] for e in history["entries"]]
        if accept.status_code == 201:
            outcomes["accepted"] += 1
            assert types[-2:] == ["HandoverAccepted", "JurisdictionChanged"]
            assert "HandoverRejected" not in types
            holder = JOBCENTER
        else:
            outcomes["rejected"] += 1
            assert types[-1] == "HandoverRejected"
            assert "HandoverAccepted" not in types
            holder = AGENTUR
        case = api.client.get(
            f"/cases/{case_id}", params={"min_position": api.head()}, headers=auditor
        ).json()
        assert case["holder"] == holder
    assert sum(outcomes.values()) == ROUNDS


def test_concurrent_identical_requests_with_one_idempotency_key(api: Api) -> None:
    case_id = api.register()["case_id"]
    for round_ in range(ROUNDS):
        head = api.head()
        headers = {**api.agentur, "Idempotency-Key": f"k-{round_}-{secrets.token_hex(4)}"}
        body = note(f"genau einmal {round_}")
        responses = race(*(poster(api, f"/cases/{case_id}/events", body, headers) for _ in "abc"))
        assert statuses(responses) == [201, 201, 201], [r.text for r in responses]
        assert len({r.text for r in responses}) == 1, [r.text for r in responses]
        assert api.recorded_since(head) == 1
    history = api.history(case_id, api.agentur, min_position=api.head())
    assert history["version"] == 1 + ROUNDS


def test_concurrent_registrations_with_one_idempotency_key(api: Api) -> None:
    for round_ in range(3):
        head = api.head()
        headers = {**api.agentur, "Idempotency-Key": f"reg-{round_}-{secrets.token_hex(4)}"}
        body: dict[str, Any] = registration()
        responses = race(*(poster(api, "/cases", body, headers) for _ in "abc"))
        assert statuses(responses) == [201, 201, 201], [r.text for r in responses]
        assert len({r.text for r in responses}) == 1, [r.text for r in responses]
        assert api.recorded_since(head) == 2  # the case and its BAMF index entry, once


def test_concurrent_registrations_of_one_bamf_number(api: Api) -> None:
    body = registration()
    writers = [auth(f"cw-{i}", AGENTUR) for i in range(3)]
    responses = race(*(poster(api, "/cases", body, h) for h in writers))
    assert statuses(responses) == [201, 409, 409], [r.text for r in responses]
    winner = next(r for r in responses if r.status_code == 201).json()["case_id"]
    for r in responses:
        if r.status_code == 409:
            assert problem_of(r, 409)["existing_case_id"] == winner
