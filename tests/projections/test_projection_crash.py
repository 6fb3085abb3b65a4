"""A ``staffel project`` worker process is killed with SIGKILL at random points while a writer
records 5,000 case events; after the last restart it catches up, and the views hold every event
exactly once and equal both a rebuild from scratch and a pure fold over the stored events."""

from __future__ import annotations

import os
import random
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from adapters.settings import Settings
from adapters.views.store import ViewStoreMixin
from domain.aggregates.bamf_index import BamfFileNumberIndex
from domain.aggregates.case import Case
from domain.application import StaffelApplication
from domain.sealing import sealing_with
from projections.registry import PROJECTIONS
from tests.support.processes import ProjectWorker, wait_until
from tests.support.projections import (
    RandomChooser,
    World,
    assert_views_equal_fold,
    build_app,
    count_history,
    expected_views,
    fresh_database_url,
    read_views,
    rebuild,
    register,
    run_command,
    stored_case_events,
    valid_commands,
)
from workers.projections import build_view_store

EVENTS = 5_000
MIN_KILLS = 22
WRITE_SECONDS = 16.0  # the writer spreads its events over about this long


@dataclass
class Writer:
    """Records ``EVENTS`` case events at a steady pace, several aggregates per save."""

    app: StaffelApplication
    seed: int
    recorded: int = 0
    error: BaseException | None = None
    thread: threading.Thread = field(init=False)

    def __post_init__(self) -> None:
        self.thread = threading.Thread(target=self._run, daemon=True, name="crash-writer")

    def _run(self) -> None:
        try:
            self._write()
        except BaseException as e:
            self.error = e

    def _write(self) -> None:
        with sealing_with(self.app.keys):
            self._write_sealed()

    def _write_sealed(self) -> None:
        chooser, world = RandomChooser(self.seed), World.fresh()
        rng = chooser.random
        open_cases: list[Case] = []
        started = time.monotonic()
        while self.recorded < EVENTS:
            cases: list[Case] = []
            indexes: list[BamfFileNumberIndex] = []
            for _ in range(rng.randint(2, 8)):
                budget = EVENTS - self.recorded - sum(_pending(c) for c in cases)
                if budget <= 0:
                    break
                if open_cases and rng.random() < 0.4:
                    case = open_cases.pop(rng.randrange(len(open_cases)))
                else:
                    case, index = register(world, chooser, with_bamf=rng.random() < 0.3)
                    indexes += [index] if index else []
                _record(case, world, chooser, min(budget - _pending(case), rng.randint(1, 8)))
                cases.append(case)
            recorded = sum(_pending(c) for c in cases)
            self.app.save(*cases, *indexes)
            self.recorded += recorded
            open_cases += [c for c in cases if not c.closed or rng.random() < 0.5]
            ahead = self.recorded / EVENTS * WRITE_SECONDS - (time.monotonic() - started)
            if ahead > 0:
                time.sleep(ahead)

    @property
    def done(self) -> bool:
        return not self.thread.is_alive()


def _pending(case: Case) -> int:
    return len(case.pending_events)


def _record(case: Case, world: World, chooser: RandomChooser, n: int) -> None:
    """Run commands until ``n`` more events are pending on ``case`` (never more)."""
    target = _pending(case) + n
    while _pending(case) < target:
        commands = valid_commands(case)
        if target - _pending(case) == 1 and len(commands) > 1:
            commands = [c for c in commands if c != "accept"]  # accepting records two events
        run_command(case, chooser.choice(commands), world, chooser)


def _runner_env(url: str, tmp_path: Path) -> dict[str, str]:
    """Production settings for ``staffel project``; no organisation serves the test's
    municipalities, so the handover policy it also runs never records an offer."""
    orgs = tmp_path / "orgs.toml"
    orgs.write_text("# no organisations\n", "utf-8")
    return {
        **os.environ,
        "STAFFEL_DATABASE_URL": url,
        "STAFFEL_ORGS_FILE": str(orgs),
        "STAFFEL_JWT_SECRET": "crash-test-secret-crash-test-secret",
        "STAFFEL_DATA_DIR": str(tmp_path / "data"),
        # the master key of the test's own application (``build_app``: the default data dir)
        "STAFFEL_MASTER_KEY_FILE": str(Settings().master_key_path.resolve()),
        "PYTHONUNBUFFERED": "1",
    }


def _positions(store: ViewStoreMixin) -> dict[str, int]:
    positions = {}
    for projection in PROJECTIONS:
        generation = store.active_generation(projection.name)
        positions[projection.name] = (
            store.position(projection.name, generation) if generation else 0
        )
    return positions


def test_a_runner_killed_at_random_points_applies_every_event_exactly_once(
    backend: str, tmp_path: Path
) -> None:
    url = fresh_database_url(backend, tmp_path)
    app = build_app(url)
    store = build_view_store(app)
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    env = _runner_env(url, tmp_path)
    writer = Writer(app, seed)
    kills: list[tuple[dict[str, int], int]] = []  # (positions, head) at each kill
    runner: ProjectWorker | None = None
    try:
        writer.thread.start()
        while len(kills) < MIN_KILLS or not writer.done:
            assert len(kills) < 200, f"writer stalled (seed {seed})"
            runner = ProjectWorker(env, tmp_path / f"runner-{len(kills)}.log")
            if rng.random() < 0.15:  # sometimes while it is still starting up
                time.sleep(rng.uniform(0.1, 0.8))
            else:
                assert wait_until(runner.ready, 30), runner.log.read_text()
                time.sleep(rng.uniform(0.0, 0.5))
            kills.append((_positions(store), app.recorder.max_notification_id() or 0))
            runner.kill()
        assert writer.error is None, f"writer failed (seed {seed}): {writer.error!r}"
        assert writer.recorded == EVENTS

        runner = ProjectWorker(env, tmp_path / "runner-final.log")
        assert wait_until(runner.ready, 30), runner.log.read_text()
        head = app.recorder.max_notification_id() or 0
        caught_up = wait_until(lambda: set(_positions(store).values()) == {head}, 90, 0.1)
        assert caught_up, f"not caught up to {head}: {_positions(store)} (seed {seed})"
        runner.stop()
    finally:
        if runner is not None:
            runner.stop()
        writer.thread.join(timeout=30)

    try:
        # The kills fell on a worker that was making progress and had work left to do.
        assert len(kills) >= MIN_KILLS
        assert len({positions["case_history"] for positions, _ in kills}) >= 5, kills
        # how many kills find the runner behind depends on the machine's load; one is the claim
        assert sum(1 for positions, head in kills if 0 < min(positions.values()) < head) >= 1

        events = stored_case_events(app)
        assert len(events) == EVENTS
        generations = {p.name: store.active_generation(p.name) or 0 for p in PROJECTIONS}
        counts = count_history(store, generations["case_history"])
        assert sorted(counts) == sorted(
            (str(e.originator_id), e.originator_version) for e, _ in events
        )
        assert set(counts.values()) == {1}, "a history entry was applied twice"

        case_ids = {str(e.originator_id) for e, _ in events}
        views = read_views(store, case_ids, generations)
        assert_views_equal_fold(views, expected_views(events, case_ids))
        rebuilt = read_views(store, case_ids, rebuild(app, store))
        assert views.history == rebuilt.history
        assert views.summaries == rebuilt.summaries
        assert views.handovers == rebuilt.handovers
    finally:
        app.close()
