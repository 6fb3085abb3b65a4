"""Placements and mentor assignments change a case and an offer (or a volunteer) in one
transaction: under concurrent requests, never more placements than positions, never more mentees
than the capacity. Once per backend."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from functools import partial
from typing import Any, TypeVar
from uuid import uuid4

import pytest

from adapters.settings import Settings, library_env
from domain.actor import acting_as
from domain.aggregates import case_events as ce
from domain.aggregates import offer_events as oe
from domain.aggregates.offer_errors import AlreadyPlacedError, OfferStateError
from domain.aggregates.volunteer_errors import VolunteerAtCapacityError
from domain.application import StaffelApplication
from domain.errors import ConcurrentChangeError, PartnerNotFoundError, ReferenceMismatchError
from domain.values import OfferState, PlacementKind
from domain.writes import IdempotencyKey
from tests.support.partners import AGENCY, ON, employer, offer, person, volunteer
from tests.support.store import MakeApp

T = TypeVar("T")
PEOPLE = 8


def race(calls: list[Callable[[], T]]) -> list[T | Exception]:
    """Run ``calls`` at the same moment, one thread each; each result or exception."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], T]) -> T | Exception:
        barrier.wait(timeout=10)
        try:
            with acting_as(AGENCY):
                return call()
        except Exception as e:
            return e

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


@pytest.fixture
def apps(make_app: MakeApp) -> list[StaffelApplication]:
    """Two application objects on one store: like two server processes (own caches)."""
    return [make_app(), make_app()]


def outcome(result: object) -> str:
    return "placed" if not isinstance(result, Exception) else type(result).__name__


@pytest.mark.parametrize("positions", [1, 3])
def test_concurrent_placements_never_exceed_the_positions(
    apps: list[StaffelApplication], positions: int
) -> None:
    app = apps[0]
    post = offer(app, employer(app).id, positions=positions).id
    people = [person(app) for _ in range(PEOPLE)]
    results = race([
        partial(apps[i % 2].place, c, post, placement_id="p1", starts_on=ON)
        for i, c in enumerate(people)
    ])  # fmt: skip

    counts = Counter(outcome(r) for r in results)
    assert counts["placed"] == positions, counts
    assert set(counts) <= {"placed", "OfferStateError", "ConcurrentChangeError"}, results
    stored = list(app.events.get(post))
    taken = [e for e in stored if isinstance(e, oe.PositionTaken)]
    assert len(taken) == positions
    assert [type(e) for e in stored][-1] is oe.OfferFilled
    assert [e.free_after for e in taken] == list(range(positions - 1, -1, -1))
    placed = [c for c in people if any(isinstance(e, ce.PlacementMade) for e in app.events.get(c))]
    assert sorted(placed) == sorted(e.case_id for e in taken)  # the same people on both sides
    assert app.get_offer(post).state is OfferState.FILLED


def test_concurrent_mentor_assignments_never_exceed_the_capacity(
    apps: list[StaffelApplication],
) -> None:
    app = apps[0]
    mentor = volunteer(app, capacity=2).id
    people = [person(app) for _ in range(6)]
    results = race([partial(apps[i % 2].assign_mentor, c, mentor) for i, c in enumerate(people)])

    counts = Counter(outcome(r) for r in results)
    assert counts["placed"] == 2, counts
    assert set(counts) <= {"placed", "VolunteerAtCapacityError", "ConcurrentChangeError"}
    assert len(app.get_volunteer(mentor).mentees) == 2
    loser = next(c for c, r in zip(people, results, strict=True) if isinstance(r, Exception))
    with acting_as(AGENCY), pytest.raises(VolunteerAtCapacityError):
        app.assign_mentor(loser, mentor)


def test_a_placement_named_in_a_staff_event_takes_the_same_path(
    apps: list[StaffelApplication],
) -> None:
    app = apps[0]
    post = offer(app, employer(app).id, positions=2).id
    case_id, second, third = person(app), person(app), person(app)
    fields: dict[str, Any] = {
        "placement_id": "p1", "kind": PlacementKind.JOB, "employer": "Firma", "starts_on": ON,
        "wage_subsidy": None, "offer_id": str(post),
    }  # fmt: skip
    with acting_as(AGENCY):
        with pytest.raises(ReferenceMismatchError):
            app.record(case_id, "PlacementMade", {**fields, "kind": PlacementKind.INTERNSHIP})
        with pytest.raises(PartnerNotFoundError):
            app.record(case_id, "PlacementMade", {**fields, "offer_id": str(uuid4())})
        app.record(case_id, "PlacementMade", fields)
        with pytest.raises(AlreadyPlacedError):
            app.place(case_id, post, placement_id="p2", starts_on=ON)
        app.record(second, "PlacementMade", fields)
        with pytest.raises(OfferStateError):  # filled
            app.record(third, "PlacementMade", fields)
        app.record(third, "PlacementMade", {**fields, "offer_id": "o-4711"})  # outside offer
    assert app.get_offer(post).placed == (case_id, second)


def test_a_retried_placement_takes_one_position(apps: list[StaffelApplication]) -> None:
    app = apps[0]
    post = offer(app, employer(app).id, positions=2).id
    case_id = person(app)
    key = IdempotencyKey(f"k-{uuid4().hex}", "hash")
    with acting_as(AGENCY):
        first = app.place(case_id, post, placement_id="p1", starts_on=ON, idempotency=key)
        again = app.place(case_id, post, placement_id="p1", starts_on=ON, idempotency=key)
    assert first == again
    assert app.get_offer(post).free == 1


def test_a_stream_of_collisions_ends_in_a_conflict(
    apps: list[StaffelApplication], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every save losing its race (simulated): the placement gives up with a 409, not a loop."""
    app, rival = apps
    post = offer(app, employer(app).id, positions=50).id
    case_id = person(app)
    original = app.save

    def save(*objs: Any, **kwargs: Any) -> Any:
        with acting_as(AGENCY):  # another placement on the offer commits first, every time
            rival.place(person(rival), post, placement_id="p1", starts_on=date(2026, 7, 1))
        return original(*objs, **kwargs)

    monkeypatch.setattr(app, "save", save)
    with acting_as(AGENCY), pytest.raises(ConcurrentChangeError):
        app.place(case_id, post, placement_id="p1", starts_on=ON)
    assert case_id not in app.get_offer(post).placed


def test_mentoring_goes_on_after_a_placement(apps: list[StaffelApplication]) -> None:
    app = apps[0]
    post = offer(app, employer(app).id).id
    mentor = volunteer(app, capacity=1).id
    case_id = person(app)
    with acting_as(AGENCY):
        app.assign_mentor(case_id, mentor)
        app.place(case_id, post, placement_id="p1", starts_on=ON)
        assert app.get_case(case_id).mentors == (str(mentor),)
        app.record(case_id, "MentorReleased", {"volunteer_id": str(mentor), "released_on": ON})
    assert app.get_volunteer(mentor).mentees == ()
    assert app.get_case(case_id).mentors == ()


def test_the_partners_live_in_the_cases_store(make_app: MakeApp, backend: str) -> None:
    """The library names an application after its class: ours must keep the name the case stores
    of earlier versions were written under ("Staffel", by the former ``StaffelApplication``), so a
    store written before employers existed is the same store, tables and tracking."""
    assert StaffelApplication.name == "Staffel"
    before = StaffelApplication(env=library_env(Settings(database_url=backend)))
    try:
        case_id = person(before)
    finally:
        before.close()
    after = make_app()
    assert after.get_case(case_id).holder == AGENCY.org
