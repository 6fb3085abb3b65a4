"""For any sequence of valid commands, the views built incrementally (in batches of random sizes,
with the worker running between writes) equal a rebuild from scratch and a pure fold over the
stored events. One database per backend for the whole property; each example compares only its
own (randomly identified) cases."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TypeVar

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.strategies import DataObject

from domain.aggregates.bamf_index import BamfFileNumberIndex
from domain.aggregates.case import Case
from domain.sealing import sealing_with
from projections.registry import PROJECTIONS
from tests.support.projections import (
    World,
    assert_views_equal_fold,
    build_app,
    catch_up_active,
    expected_views,
    fresh_database_url,
    read_views,
    rebuild,
    register,
    run_command,
    stored_case_events,
    valid_commands,
)
from workers.projections import ProjectionWorker, build_view_store

T = TypeVar("T")
TEXT = st.text(
    st.characters(codec="utf-8", exclude_characters="\x00"),  # no surrogates in UTF-8
    max_size=12,
)


class DrawChooser:
    """Values for commands, drawn by Hypothesis (so failing sequences shrink)."""

    def __init__(self, data: DataObject) -> None:
        self.data = data

    def choice(self, options: Sequence[T]) -> T:
        return self.data.draw(st.sampled_from(options))

    def integer(self, low: int, high: int) -> int:
        return self.data.draw(st.integers(low, high))

    def text(self) -> str:
        return self.data.draw(TEXT)

    def day(self) -> date:
        return self.data.draw(st.dates(date(2024, 1, 1), date(2026, 12, 31)))


def test_incremental_views_equal_a_rebuild_and_a_pure_fold(backend: str, tmp_path: Path) -> None:
    app = build_app(fresh_database_url(backend, tmp_path))
    store = build_view_store(app)
    active = catch_up_active(app, store)

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(data=st.data())
    def incremental_equals_rebuild_and_fold(data: DataObject) -> None:
        chooser, world = DrawChooser(data), World.fresh()
        start = app.recorder.max_notification_id() or 0
        batch_sizes = {p.name: data.draw(st.integers(1, 6), label=p.name) for p in PROJECTIONS}
        step_every = data.draw(st.integers(1, 4), label="step_every")
        cases: list[Case] = []
        dirty: list[Case | BamfFileNumberIndex] = []
        saves = 0
        with sealing_with(app.keys):
            for _ in range(data.draw(st.integers(1, 30), label="commands")):
                if not cases or (len(cases) < 3 and chooser.integer(0, 5) == 0):
                    case, index = register(world, chooser, with_bamf=chooser.choice((True, False)))
                    cases.append(case)
                    dirty += [case] if index is None else [case, index]
                else:
                    case = cases[chooser.integer(0, len(cases) - 1)]
                    run_command(case, chooser.choice(valid_commands(case)), world, chooser)
                    if all(d is not case for d in dirty):
                        dirty.append(case)
                if chooser.choice((True, False)):  # several aggregates per save, sometimes
                    app.save(*dirty)
                    dirty, saves = [], saves + 1
                    if saves % step_every == 0:
                        for p in PROJECTIONS:
                            worker = ProjectionWorker(
                                app, store, p, active[p.name], batch_sizes[p.name]
                            )
                            worker.step()
            if dirty:
                app.save(*dirty)
        for p in PROJECTIONS:
            ProjectionWorker(app, store, p, active[p.name], batch_sizes[p.name]).catch_up()

        ids = [str(c.id) for c in cases]
        incremental = read_views(store, ids, active)
        rebuilt_generations = rebuild(app, store)
        try:
            rebuilt = read_views(store, ids, rebuilt_generations)
        finally:
            for name, generation in rebuilt_generations.items():
                store.drop_generation(name, generation)
        expected = expected_views(stored_case_events(app, start), ids)

        assert {(c["case_id"], c["version"]) for c in incremental.history} == {
            (str(c.id), v) for c in cases for v in range(1, c.version + 1)
        }
        assert incremental.history == rebuilt.history
        assert incremental.summaries == rebuilt.summaries
        assert incremental.handovers == rebuilt.handovers
        assert_views_equal_fold(incremental, expected)
        # the follow-ups (ADR 0017): the same rows incrementally, rebuilt and by the pure fold
        assert incremental.follow_ups == rebuilt.follow_ups == expected.follow_ups

    try:
        incremental_equals_rebuild_and_fold()
    finally:
        app.close()
