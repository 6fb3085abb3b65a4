"""Two staff of the receiving Jobcenter answer the same offer at once, one accepting and one
rejecting, through two application instances on the same database (two API processes): exactly
one answer is recorded, the other is refused with a conflict; never both."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from adapters.settings import Settings
from bootstrap import build_case_application
from domain.actor import Actor, acting_as
from domain.aggregates import case_events as ev
from domain.aggregates.case import Case
from domain.aggregates.case_errors import CaseRuleError
from domain.application import StaffelApplication
from domain.errors import VersionConflictError
from domain.values import NoteCategory, Protection
from domain.writes import Recorded
from tests.support.federation import (
    AGENTUR,
    JOBCENTER,
    PROBLEM,
    Deployment,
    open_deployment,
    register,
    stored_events,
)

HOLDER = Actor("cw-agentur", AGENTUR)
ACCEPTING = Actor("cw-jobcenter-1", JOBCENTER)
REJECTING = Actor("cw-jobcenter-2", JOBCENTER)
ROUNDS = 12
CONFLICTS = (VersionConflictError, CaseRuleError)


def offered_case(app: StaffelApplication) -> UUID:
    case_id = register(app, HOLDER, "Erkelenz").id
    with acting_as(HOLDER):
        app.record(case_id, "NoteRecorded", {"text": "Termin", "category": NoteCategory.GENERAL})
        app.record(
            case_id,
            "AsylumRecognized",
            {"protection": Protection.REFUGEE, "decided_on": date(2026, 4, 20)},
        )
        app.offer_handover(case_id, to_org=JOBCENTER, reason="anerkannt")
    return case_id


def at_once(*calls: Callable[[], Any]) -> list[Any]:
    """Run ``calls`` in threads released together; each one's result or exception."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int, call: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            results[i] = call()
        except Exception as e:
            results[i] = e

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def answers_after_offer(app: StaffelApplication, case_id: UUID) -> list[str]:
    topics = [e.topic for e in stored_events(app, case_id)]
    offered = topics.index(ev.HandoverOffered.TOPIC)
    return topics[offered + 1 :]


@pytest.fixture
def two_apps(backend: str) -> Iterator[tuple[StaffelApplication, StaffelApplication]]:
    apps = [build_case_application(Settings(database_url=backend)) for _ in range(2)]
    yield apps[0], apps[1]
    for app in apps:
        app.close()


def test_concurrent_accept_and_reject_one_wins_the_other_conflicts(
    two_apps: tuple[StaffelApplication, StaffelApplication],
) -> None:
    first, second = two_apps
    outcomes: dict[str, int] = {"accepted": 0, "rejected": 0, "version_conflict": 0, "rule": 0}
    for round_ in range(ROUNDS):
        case_id = offered_case(first)
        # both read the offered case (and cache it), as two caseworkers would
        case_a, case_b = first.get_case(case_id), second.get_case(case_id)
        assert (case_a.version, case_a.digest) == (case_b.version, case_b.digest)
        accepting, rejecting = (first, second) if round_ % 2 else (second, first)

        def accept(
            app: StaffelApplication = accepting, case_id: UUID = case_id, read: Case = case_a
        ) -> Recorded:
            with acting_as(ACCEPTING):
                return app.accept_handover(case_id, version=read.version, digest=read.digest)

        def reject(app: StaffelApplication = rejecting, case_id: UUID = case_id) -> Recorded:
            with acting_as(REJECTING):
                return app.reject_handover(case_id, reason="nicht zuständig")

        accepted, rejected = at_once(accept, reject)

        won = [r for r in (accepted, rejected) if isinstance(r, Recorded)]
        lost = [r for r in (accepted, rejected) if isinstance(r, Exception)]
        assert len(won) == 1, (accepted, rejected)
        assert len(lost) == 1, (accepted, rejected)
        assert isinstance(lost[0], CONFLICTS), repr(lost[0])
        after = answers_after_offer(first, case_id)
        holder = first.get_case(case_id).holder
        if isinstance(accepted, Recorded):
            assert after == [ev.HandoverAccepted.TOPIC, ev.JurisdictionChanged.TOPIC]
            assert holder == JOBCENTER
            outcomes["accepted"] += 1
        else:
            assert after == [ev.HandoverRejected.TOPIC]
            assert holder == AGENTUR
            outcomes["rejected"] += 1
        kind = "version_conflict" if isinstance(lost[0], VersionConflictError) else "rule"
        outcomes[kind] += 1
    assert outcomes["accepted"] + outcomes["rejected"] == ROUNDS, outcomes


def test_concurrent_accept_and_reject_over_http_one_gets_201_the_other_409(
    backend: str, tmp_path: Path
) -> None:
    one, two = (open_deployment(backend, tmp_path / name) for name in ("one", "two"))
    try:
        for round_ in range(4):
            case_id = offered_case(one.app)
            two.app.get_case(case_id)  # warm both caches
            _http_round(one, two, case_id, swap=bool(round_ % 2))
    finally:
        one.close()
        two.close()


def _http_round(one: Deployment, two: Deployment, case_id: UUID, *, swap: bool) -> None:
    case = one.app.get_case(case_id)
    acceptor, rejecter = (two, one) if swap else (one, two)

    def accept() -> Any:
        return acceptor.client.post(
            f"/cases/{case_id}/handover/accept",
            json={"version": case.version, "digest": case.digest},
            headers=acceptor.auth(ACCEPTING.id, JOBCENTER),
        )

    def reject() -> Any:
        return rejecter.client.post(
            f"/cases/{case_id}/handover/reject",
            json={"reason": "nicht zuständig"},
            headers=rejecter.auth(REJECTING.id, JOBCENTER),
        )

    responses = at_once(accept, reject)

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201, 409], [r.text for r in responses]
    loser = next(r for r in responses if r.status_code == 409)
    assert loser.headers["content-type"].startswith(PROBLEM)
    after = answers_after_offer(one.app, case_id)
    assert after in (
        [ev.HandoverAccepted.TOPIC, ev.JurisdictionChanged.TOPIC],
        [ev.HandoverRejected.TOPIC],
    ), after
