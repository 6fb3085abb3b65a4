"""Gathered rounds (issue 16): under a steady stream of writes the projections' rounds start
``gather`` seconds apart, so each round's fixed work (the log read, a tracking row per follower,
a transaction per projection) is shared by more events. A reader waiting for a position ends
the wait, in this process or, on PostgreSQL, in another; a backlog and a trickle are never held
up. The gathering here is 10 s long and every look lasts a few: what is gathered could not be
applied meanwhile, what is not held up is applied well inside it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any
from uuid import UUID

import pytest

from domain.actor import Actor, acting_as
from domain.application import StaffelApplication
from domain.values import LegalStatus, NoteCategory, Person
from projections.registry import PROJECTIONS
from tests.conftest import create_database
from tests.support.projections import build_app
from workers.projections import build_view_store, wait_for
from workers.supervisor import GATHER_FROM, Supervisor

GATHER = 10.0  # seconds: far longer than any look below
NAMES = [p.name for p in PROJECTIONS]
ACTOR = Actor(id="cw-1", org="agentur-aachen-dueren")


@contextmanager
def running(app: StaffelApplication, **kwargs: Any) -> Iterator[Supervisor]:
    supervisor = Supervisor(app, poll_interval=0.05, gather=GATHER, **kwargs).start()
    try:
        yield supervisor
    finally:
        supervisor.stop()


def registered(app: StaffelApplication) -> UUID:
    with acting_as(ACTOR):
        return app.register_case(
            person=Person("Amina", "Haddad", date(1994, 3, 2), "SY"),
            bamf_file_number=None,
            residence_municipality="Aachen",
            legal_status=LegalStatus.ASYLUM_SEEKER,
        ).id


def notes(app: StaffelApplication, case_id: UUID, n: int) -> int:
    """``n`` notes on the case; the last one's position."""
    position = 0
    with acting_as(ACTOR):
        for i in range(n):
            recorded = app.record(
                case_id, "NoteRecorded", {"text": f"Notiz {i}", "category": NoteCategory.GENERAL}
            )
            position = recorded.position
    return position


def applied_within(app: StaffelApplication, position: int, seconds: float) -> bool:
    """Whether the projections reach ``position`` within ``seconds``, looked at from outside
    (the store's tracking rows): a look that does not ask the runner to hurry."""
    return wait_for(build_view_store(app), position, seconds, NAMES)


def a_gathering_round(app: StaffelApplication) -> tuple[UUID, int]:
    """A case whose events (more than ``GATHER_FROM``) are written before the runner starts,
    so its first round applies them all at once: a round of a steady stream."""
    case_id = registered(app)
    return case_id, notes(app, case_id, GATHER_FROM + 5)


def test_after_a_round_of_a_steady_stream_the_next_waits_until_a_reader_asks(
    app: StaffelApplication,
) -> None:
    case_id, first = a_gathering_round(app)
    with running(app) as supervisor:
        assert applied_within(app, first, 5.0)
        position = notes(app, case_id, 1)
        assert not applied_within(app, position, 2.0)  # gathered, not lost: see below
        started = time.monotonic()
        assert supervisor.wait_for(position, timeout=5.0)  # the reader's wait ends the gathering
        assert time.monotonic() - started < 5.0


def test_a_trickle_of_writes_is_applied_at_once(app: StaffelApplication) -> None:
    case_id = registered(app)
    first = notes(app, case_id, GATHER_FROM // 5)
    with running(app):
        assert applied_within(app, first, 5.0)
        position = notes(app, case_id, 1)
        assert applied_within(app, position, 5.0)


def test_a_backlog_is_applied_batch_after_batch_without_waiting(app: StaffelApplication) -> None:
    case_id = registered(app)
    backlog = notes(app, case_id, 3 * GATHER_FROM)
    with running(app, batch_size=GATHER_FROM + 10):  # full batches, then a small last one
        assert applied_within(app, backlog, 5.0)


@pytest.mark.postgres
def test_a_reader_in_another_process_ends_the_leaders_gathering(postgres_server: str) -> None:
    """Two applications on one PostgreSQL database, as two processes have: the first leads, the
    second stands by; a reader of the second waits for a write, and the leader's round starts.
    (SQLite serves one process: its readers are the leader's.)"""
    url = create_database("staffel_gather")
    leader_app, reader_app = build_app(url), build_app(url)
    try:
        case_id, first = a_gathering_round(leader_app)
        with running(leader_app) as leader:
            assert applied_within(leader_app, first, 5.0)
            assert leader.leading
            standby = Supervisor(reader_app, poll_interval=0.05, gather=GATHER)
            try:
                position = notes(reader_app, case_id, 1)
                assert not standby.leading
                started = time.monotonic()
                assert standby.wait_for(position, timeout=5.0)
                assert time.monotonic() - started < 5.0
            finally:
                standby.stop()
    finally:
        leader_app.close()
        reader_app.close()
