"""Issue 16: a write that named no version is not a conflict. Many threads of one process and a
second process record notes on ONE case without a version: none is refused, every note is stored
exactly once, in one gap-free version sequence whose chain verifies. A stale version still is."""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from adapters.chain_check import verify_case
from adapters.settings import Settings
from bootstrap import build_case_application
from domain.actor import acting_as
from domain.errors import VersionConflictError
from tests.cases.test_concurrency import notes
from tests.support.store import HOLDER, MakeApp, note, register

THREADS, PER_THREAD = 6, 4
OTHER_THREADS = 3  # in the second process


def write_notes(database_url: str, case_id: str, prefix: str, threads: int) -> None:
    """``threads`` threads, each recording ``PER_THREAD`` notes; any error fails the caller."""
    from uuid import UUID

    app = build_case_application(Settings(database_url=database_url))
    barrier = threading.Barrier(threads)

    def write(i: int) -> None:
        barrier.wait()
        with acting_as(HOLDER):
            for n in range(PER_THREAD):
                app.record(UUID(case_id), "NoteRecorded", note(f"{prefix}{i}-{n}"))

    try:
        with ThreadPoolExecutor(threads) as pool:
            for future in [pool.submit(write, i) for i in range(threads)]:
                future.result()
    finally:
        app.close()


def test_many_writers_without_a_version_on_one_case_all_succeed(
    make_app: MakeApp, backend: str
) -> None:
    app = make_app()
    case_id = register(app).id
    other = multiprocessing.get_context("spawn").Process(
        target=write_notes, args=(backend, str(case_id), "p", OTHER_THREADS)
    )
    other.start()
    write_notes(backend, str(case_id), "t", THREADS)  # raises on a VersionConflictError
    other.join(120)
    assert other.exitcode == 0, "the second process's writers failed"

    expected = [f"{p}{i}-{n}" for p, k in (("t", THREADS), ("p", OTHER_THREADS))
                for i in range(k) for n in range(PER_THREAD)]  # fmt: skip
    written = list(notes(app, case_id))
    assert sorted(written) == sorted(expected)  # each exactly once
    versions = [e.originator_version for e in app.events.get(case_id)]
    assert versions == list(range(1, len(expected) + 2))
    assert verify_case(app, case_id) == []
    for prefix, i in [("t", i) for i in range(THREADS)] + [("p", i) for i in range(OTHER_THREADS)]:
        mine = [t for t in written if t.startswith(f"{prefix}{i}-")]
        assert mine == [f"{prefix}{i}-{n}" for n in range(PER_THREAD)]  # each writer's in order


def test_a_stale_version_among_concurrent_writers_is_still_refused(make_app: MakeApp) -> None:
    app = make_app()
    case_id = register(app).id
    with acting_as(HOLDER):
        app.record(case_id, "NoteRecorded", note("moved on"))
        with pytest.raises(VersionConflictError) as conflict:
            app.record(case_id, "NoteRecorded", note("stale"), expected_version=1)
    assert conflict.value.current_version == 2
    assert list(notes(app, case_id)) == ["moved on"]


def test_writers_of_one_case_in_one_process_queue_instead_of_colliding(
    make_app: MakeApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In one process the writers of a case take turns (a lock per case): no save collides, so
    every note is saved by exactly one run of its command."""
    app = make_app()
    case_id = register(app).id
    saves = [0]
    original = app.save

    def save(*objs: Any, **kwargs: Any) -> Any:
        saves[0] += 1
        return original(*objs, **kwargs)

    monkeypatch.setattr(app, "save", save)
    barrier = threading.Barrier(THREADS)

    def write(i: int) -> None:
        barrier.wait()
        with acting_as(HOLDER):
            for n in range(PER_THREAD):
                app.record(case_id, "NoteRecorded", note(f"{i}-{n}"))

    with ThreadPoolExecutor(THREADS) as pool:
        for future in [pool.submit(write, i) for i in range(THREADS)]:
            future.result()
    assert saves[0] == THREADS * PER_THREAD
    assert len(list(notes(app, case_id))) == THREADS * PER_THREAD
