"""Optimistic concurrency: two writers of one case. A writer that named the version it read
(If-Match) and lost gets a VersionConflictError carrying the current version; one that named none
runs its command again on the fresh state. Nothing is lost, nothing is written twice."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import Recording

from adapters.chain_check import verify_case
from adapters.keystore import opened
from domain.actor import acting_as
from domain.aggregates.case_events import NoteRecorded
from domain.application import StaffelApplication
from domain.errors import VersionConflictError
from tests.support.store import HOLDER, JOBCENTER, MakeApp, note, register


def notes(app: StaffelApplication, case_id: UUID) -> Iterator[str]:
    for event in opened(app, list(app.events.get(case_id))):
        if isinstance(event, NoteRecorded):
            assert isinstance(event.text, str)
            yield event.text


def interleave(app: StaffelApplication, monkeypatch: pytest.MonkeyPatch, meanwhile: Any) -> None:
    """Run ``meanwhile()`` once, after ``app`` has decided its next command but before it saves."""
    original = app.save
    pending = [meanwhile]

    def save(*objs: Any, **kwargs: Any) -> list[Recording[UUID]]:
        if pending:
            pending.pop()()
        return original(*objs, **kwargs)

    monkeypatch.setattr(app, "save", save)


@pytest.mark.parametrize("second_cache_size", [0, 1000])
def test_a_write_without_version_that_collides_runs_again_on_the_fresh_state(
    make_app: MakeApp, monkeypatch: pytest.MonkeyPatch, second_cache_size: int
) -> None:
    first, second = make_app(), make_app(aggregate_cache_size=second_cache_size)
    case_id = register(first).id
    assert second.get_case(case_id).version == 1  # the second instance has read the case

    def first_records() -> None:
        first.record(case_id, "NoteRecorded", note("first instance"))

    interleave(second, monkeypatch, first_records)
    with acting_as(HOLDER):  # its save collides with the first's; it reads again and retries
        retried = second.record(case_id, "NoteRecorded", note("second instance"))

    assert retried.version == 3
    for app in (first, second):
        assert list(notes(app, case_id)) == ["first instance", "second instance"]
        assert app.get_case(case_id).version == 3
        assert verify_case(app, case_id) == []


@pytest.mark.parametrize("second_cache_size", [0, 1000])
def test_a_write_with_its_version_that_collides_conflicts(
    make_app: MakeApp, monkeypatch: pytest.MonkeyPatch, second_cache_size: int
) -> None:
    first, second = make_app(), make_app(aggregate_cache_size=second_cache_size)
    case_id = register(first).id

    def first_records() -> None:
        first.record(case_id, "NoteRecorded", note("first instance"))

    interleave(second, monkeypatch, first_records)
    with acting_as(HOLDER), pytest.raises(VersionConflictError) as conflict:
        second.record(case_id, "NoteRecorded", note("second instance"), expected_version=1)

    assert (conflict.value.case_id, conflict.value.current_version) == (case_id, 2)
    assert list(notes(second, case_id)) == ["first instance"]


def test_a_handover_offer_racing_a_note_is_decided_again(
    make_app: MakeApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = make_app(), make_app()
    case_id = register(first).id

    def first_records() -> None:
        first.record(case_id, "NoteRecorded", note("recorded while the offer was decided"))

    interleave(second, monkeypatch, first_records)
    with acting_as(HOLDER):
        offered = second.offer_handover(case_id, to_org=JOBCENTER, reason="Umzug")

    assert offered.version == 3
    assert first.get_case(case_id).handover is not None
    assert [type(e).__name__ for e in first.events.get(case_id)] == [
        "CaseRegistered",
        "NoteRecorded",
        "HandoverOffered",
    ]


def test_a_stale_expected_version_is_refused_and_records_nothing(make_app: MakeApp) -> None:
    app = make_app()
    case_id = register(app).id
    with acting_as(HOLDER):
        app.record(case_id, "NoteRecorded", note("one"), expected_version=1)

        for stale in (1, 3):
            with pytest.raises(VersionConflictError) as conflict:
                app.record(case_id, "NoteRecorded", note("stale"), expected_version=stale)
            assert (conflict.value.case_id, conflict.value.current_version) == (case_id, 2)
        with pytest.raises(VersionConflictError):
            app.offer_handover(case_id, to_org=JOBCENTER, reason="x", expected_version=1)

        recorded = app.record(case_id, "NoteRecorded", note("two"), expected_version=2)

    assert recorded.version == 3
    assert list(notes(app, case_id)) == ["one", "two"]
    assert verify_case(app, case_id) == []


def test_concurrent_writers_with_retries_lose_and_duplicate_nothing(make_app: MakeApp) -> None:
    writers, per_writer = 3, 4
    apps = [make_app(aggregate_cache_size=i % 2 * 100) for i in range(writers)]
    case_id = register(apps[0]).id
    barrier = threading.Barrier(writers)
    conflicts = [0] * writers

    def write(i: int) -> None:
        barrier.wait()
        with acting_as(HOLDER):
            for n in range(per_writer):
                while True:
                    try:
                        apps[i].record(case_id, "NoteRecorded", note(f"w{i}-{n}"))
                        break
                    except VersionConflictError:
                        conflicts[i] += 1

    with ThreadPoolExecutor(writers) as pool:
        for future in [pool.submit(write, i) for i in range(writers)]:
            future.result()

    written = list(notes(apps[0], case_id))
    assert sorted(written) == sorted(f"w{i}-{n}" for i in range(writers) for n in range(per_writer))
    versions = [e.originator_version for e in apps[0].events.get(case_id)]
    assert versions == list(range(1, writers * per_writer + 2))
    assert verify_case(apps[0], case_id) == []
    for i in range(writers):  # each writer's own notes stay in its order
        assert [t for t in written if t.startswith(f"w{i}-")] == [
            f"w{i}-{n}" for n in range(per_writer)
        ]
