"""``staffel replay``: rebuilds into a new generation while reads are served, swaps it in, drops
the old tables; a running supervisor follows the new generation; an interrupted replay resumes
its building generation instead of starting another."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.views.queries import CaseQueries
from cli.main import main
from domain.application import StaffelApplication
from projections.registry import PROJECTIONS
from tests.support.projections import (
    RandomChooser,
    World,
    assert_active_views_equal_fold,
    build_app,
    catch_up_active,
    fresh_database_url,
    is_postgres,
    save_random_cases,
    table_names,
)
from workers.projections import ProjectionWorker, build_view_store
from workers.supervisor import Supervisor

TABLES = {"case_history": ("case_history",), "case_summary": ("case_summary", "handovers")}


@pytest.fixture
def url(backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = fresh_database_url(backend, tmp_path)
    monkeypatch.setenv("STAFFEL_DATABASE_URL", url)  # for ``staffel replay``
    return url


@pytest.fixture
def app(url: str) -> Iterator[StaffelApplication]:
    app = build_app(url)
    yield app
    app.close()


def _states(app: StaffelApplication) -> dict[str, dict[int, str]]:
    store = build_view_store(app)
    return {
        p.name: {int(g["generation"]): g["state"] for g in store.generations(p.name)}
        for p in PROJECTIONS
    }


def test_replay_while_serving_swaps_in_a_new_generation_that_the_supervisor_then_follows(
    app: StaffelApplication, url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    store = build_view_store(app)
    queries = CaseQueries(store)
    world, chooser = World.fresh(), RandomChooser(11)
    cases, position = save_random_cases(app, world, chooser, n=20, events=10)
    ids = [str(c.id) for c in cases]
    now = datetime.now(UTC)

    def snapshot() -> tuple[Any, ...]:
        return (
            [queries.history(case_id) for case_id in ids],
            [queries.summary(case_id) for case_id in ids],
            queries.search(limit=200).items,
            [queries.handovers(org=org, direction="incoming", now=now) for org in world.orgs],
            [queries.statistics(org=org, now=now) for org in world.orgs],
        )

    supervisor = Supervisor(app, poll_interval=0.1).start()
    try:
        assert supervisor.wait_for(position, timeout=5)
        before = snapshot()
        assert all(h is not None for h in before[0])
        assert len(before[2]) == len(cases)

        reads: list[bool] = []
        errors: list[BaseException] = []
        done = threading.Event()

        def read_while_replaying() -> None:
            while not done.is_set():
                try:
                    reads.append(snapshot() == before)
                except Exception as e:
                    errors.append(e)

        reader = threading.Thread(target=read_while_replaying)
        reader.start()
        try:
            assert main(["replay"]) == 0
        finally:
            done.set()
            reader.join()
        assert errors == []
        assert reads
        assert all(reads), f"{reads.count(False)} of {len(reads)} reads differed"
        assert snapshot() == before

        assert _states(app) == {p.name: {1: "dropped", 2: "active"} for p in PROJECTIONS}
        tables = table_names(store, is_postgres(url))
        for name, bases in TABLES.items():
            assert {f"{b}_g2" for b in bases} <= tables, name
            assert not {f"{b}_g1" for b in bases} & tables, name
        out = capsys.readouterr().out
        assert "case_history: generation 2 active (replaced [1])" in out
        assert "case_summary: generation 2 active (replaced [1])" in out

        # The supervisor follows the new generation.
        _, position = save_random_cases(app, world, chooser, events=2, cases=cases[:3])
        assert supervisor.wait_for(position, timeout=5)
        for case in cases[:3]:
            history, summary = queries.history(str(case.id)), queries.summary(str(case.id))
            assert history is not None
            assert summary is not None
            assert history.version == summary["version"] == case.version
    finally:
        supervisor.stop()
    assert_active_views_equal_fold(app, store)


def test_an_interrupted_replay_resumes_its_building_generation(
    app: StaffelApplication, capsys: pytest.CaptureFixture[str]
) -> None:
    store = build_view_store(app)
    _, head = save_random_cases(app, World.fresh(), RandomChooser(12), n=6, events=5)
    assert catch_up_active(app, store) == {
        "case_history": 1,
        "case_summary": 1,
        "matching": 1,
        "follow_ups": 1,
    }

    # A replay that stopped after its first batch: generation 2 is building, partly filled.
    for projection in PROJECTIONS:
        generation = store.new_generation(projection.name, projection.version)
        assert generation == 2
        assert ProjectionWorker(app, store, projection, generation, batch_size=7).step() == 7
        assert store.position(projection.name, generation) == 7 < head
    assert _states(app) == {p.name: {1: "active", 2: "building"} for p in PROJECTIONS}

    assert main(["replay"]) == 0
    out = capsys.readouterr().out
    assert "case_history: generation 2 active (replaced [1])" in out
    assert "case_summary: generation 2 active (replaced [1])" in out
    assert _states(app) == {p.name: {1: "dropped", 2: "active"} for p in PROJECTIONS}
    assert {p.name: store.position(p.name, 2) for p in PROJECTIONS} == {
        p.name: head for p in PROJECTIONS
    }
    assert_active_views_equal_fold(app, store)

    # One projection alone.
    assert main(["replay", "--projection", "case_summary"]) == 0
    assert _states(app) == {
        "case_history": {1: "dropped", 2: "active"},
        "case_summary": {1: "dropped", 2: "dropped", 3: "active"},
        "matching": {1: "dropped", 2: "active"},
        "follow_ups": {1: "dropped", 2: "active"},
    }
    assert_active_views_equal_fold(app, store)


def test_reads_never_fail_while_generations_are_swapped_in_and_dropped(
    app: StaffelApplication, capsys: pytest.CaptureFixture[str]
) -> None:
    store = build_view_store(app)
    queries = CaseQueries(store)
    cases, _ = save_random_cases(app, World.fresh(), RandomChooser(13), n=4, events=3)
    catch_up_active(app, store)
    ids = [str(c.id) for c in cases]
    expected = [(queries.history(case_id), queries.summary(case_id)) for case_id in ids]
    failures: list[BaseException] = []
    reads = [0]
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            for case_id, want in zip(ids, expected, strict=True):
                try:
                    got = (queries.history(case_id), queries.summary(case_id))
                except Exception as e:
                    failures.append(e)
                    continue
                reads[0] += 1
                if got != want:
                    failures.append(AssertionError(f"{case_id} read differently"))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for _ in range(15):
            assert main(["replay"]) == 0
    finally:
        done.set()
        reader.join()
    assert failures == []
    assert reads[0] >= 100
    dropped = dict.fromkeys(range(1, 16), "dropped")
    assert _states(app) == {p.name: {**dropped, 16: "active"} for p in PROJECTIONS}
