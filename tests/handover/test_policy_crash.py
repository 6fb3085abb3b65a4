"""The handover policy runs in a ``staffel project`` worker process, which is killed with SIGKILL
at random points while 500 recognitions are recorded (cases registered by the Agentur with a
residence in Kreis Heinsberg). After a final restart and catch-up every case has exactly one
``HandoverOffered`` to Jobcenter Kreis Heinsberg: none twice, none missing."""

from __future__ import annotations

import os
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from uuid import UUID

from adapters.settings import Settings
from adapters.views.store import ViewStoreMixin
from bootstrap import build_case_application
from domain.actor import Actor, acting_as
from domain.aggregates import case_events as ev
from domain.application import StaffelApplication
from domain.values import Protection
from tests.support.federation import (
    AGENTUR,
    HEINSBERG_PLACES,
    JOBCENTER,
    ORGS_FILE,
    new_secret,
    notifications_of,
    register,
)
from tests.support.processes import ProjectWorker, wait_until
from workers.handover_policy import TRACKING_KEY
from workers.projections import build_view_store

CASES = 500
MIN_KILLS = 10
WRITE_SECONDS = 8.0  # the writer spreads its recognitions over about this long
HOLDER = Actor("cw-agentur", AGENTUR)


@dataclass
class Writer:
    """Registers ``CASES`` cases and recognises each, at a steady pace, in a thread."""

    app: StaffelApplication
    rng: random.Random
    case_ids: list[UUID] = field(default_factory=list)
    error: BaseException | None = None
    thread: threading.Thread = field(init=False)

    def __post_init__(self) -> None:
        self.thread = threading.Thread(target=self._run, daemon=True, name="recognitions")

    def _run(self) -> None:
        try:
            started = time.monotonic()
            for i in range(CASES):
                case_id = register(self.app, HOLDER, self.rng.choice(HEINSBERG_PLACES)).id
                with acting_as(HOLDER):
                    self.app.record(
                        case_id,
                        "AsylumRecognized",
                        {"protection": self.rng.choice(list(Protection)),
                         "decided_on": date(2026, 1 + i % 12, 1 + i % 28)},
                    )  # fmt: skip
                self.case_ids.append(case_id)
                ahead = (i + 1) / CASES * WRITE_SECONDS - (time.monotonic() - started)
                if ahead > 0:
                    time.sleep(ahead)
        except BaseException as e:
            self.error = e

    @property
    def done(self) -> bool:
        return not self.thread.is_alive()


def policy_position(store: ViewStoreMixin) -> int:
    return store.max_tracking_id(TRACKING_KEY) or 0


def test_a_policy_killed_at_random_points_offers_every_case_exactly_once(
    backend: str, tmp_path: Path
) -> None:
    app = build_case_application(Settings(database_url=backend, data_dir=tmp_path / "data"))
    store = build_view_store(app)
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    env = {
        **os.environ,
        "STAFFEL_DATABASE_URL": backend,
        "STAFFEL_DATA_DIR": str(tmp_path / "data"),
        "STAFFEL_ORGS_FILE": str(ORGS_FILE),
        "STAFFEL_JWT_SECRET": new_secret(),
        "STAFFEL_DEMO": "false",
        "PYTHONUNBUFFERED": "1",
    }
    writer = Writer(app, rng)

    def progress_from(start: int) -> Callable[[], bool]:
        def advanced() -> bool:
            position = policy_position(store)
            return position > start or (
                writer.done and position == app.recorder.max_notification_id()
            )

        return advanced

    kills: list[tuple[int, int]] = []  # (policy position, head) at each kill
    worker: ProjectWorker | None = None
    try:
        writer.thread.start()
        while len(kills) < MIN_KILLS or not writer.done:
            assert len(kills) < 100, f"writer stalled (seed {seed})"
            worker = ProjectWorker(env, tmp_path / f"worker-{len(kills)}.log")
            if rng.random() < 0.2:  # sometimes while it is still starting up
                time.sleep(rng.uniform(0.05, 1.0))
            else:  # once it has committed a batch, somewhere in one of the next
                assert wait_until(worker.ready, 30), worker.log.read_text()
                wait_until(progress_from(policy_position(store)), 20)
                time.sleep(rng.uniform(0.0, 0.5))
            kills.append((policy_position(store), app.recorder.max_notification_id() or 0))
            worker.kill()
        assert writer.error is None, f"writer failed (seed {seed}): {writer.error!r}"
        assert len(writer.case_ids) == CASES

        worker = ProjectWorker(env, tmp_path / "worker-final.log")

        def caught_up() -> bool:
            head = app.recorder.max_notification_id() or 0
            return policy_position(store) == head and (app.recorder.max_notification_id() == head)

        assert wait_until(caught_up, 90, 0.1), f"policy did not catch up (seed {seed})"
        time.sleep(0.3)  # nothing further is offered once it has caught up
        assert caught_up(), f"seed {seed}"
        worker.stop()
    finally:
        if worker is not None:
            worker.stop()
        writer.thread.join(timeout=30)

    try:
        # the kills fell on a worker that was making progress and had work left to do
        assert len({position for position, _ in kills}) >= 3, kills
        assert sum(1 for position, head in kills if 0 < position < head) >= 3, kills

        offers = list(notifications_of(app, ev.HandoverOffered.TOPIC))
        per_case = Counter(e.originator_id for e in offers)
        twice = {case_id: n for case_id, n in per_case.items() if n > 1}
        missing = set(writer.case_ids) - set(per_case)
        assert not twice, f"offered more than once: {twice} (seed {seed})"
        assert not missing, f"{len(missing)} cases never offered (seed {seed})"
        assert set(per_case) == set(writer.case_ids)
        assert {(e.to_org, e.triggered_by_version, e.org) for e in offers} == {
            (JOBCENTER, 2, AGENTUR)
        }
    finally:
        app.close()
