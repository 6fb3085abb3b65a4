"""Running a projection: one generation of it fed batch by batch from its tracking position
(``ProjectionWorker``), its generations planned (``ensure_generation``), its lag measured, and
read-your-writes waits. The background thread that keeps every projection current is
``workers/supervisor.py``. ADR 0004.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from eventsourcing.persistence import Notification
from eventsourcing.postgres import PostgresApplicationRecorder

from adapters.keystore import opened
from adapters.views.store import PostgresViewStore, SQLiteViewStore, ViewStoreMixin
from domain.aggregates.case_events import CaseEvent
from domain.application import StaffelApplication
from projections.base import Batch, Projection

BATCH_SIZE = 500


def build_view_store(app: StaffelApplication) -> ViewStoreMixin:
    recorder_class = (
        PostgresViewStore
        if isinstance(app.recorder, PostgresApplicationRecorder)
        else SQLiteViewStore
    )
    store = cast(ViewStoreMixin, app.factory.tracking_recorder(recorder_class))
    store.ensure_registry()
    return store


@dataclass
class Lag:
    projection: str
    generation: int
    position: int
    head: int
    seconds: float

    @property
    def behind(self) -> int:
        return self.head - self.position


class ProjectionWorker:
    """Feeds one generation of one projection, batch by batch, from its tracking position."""

    def __init__(
        self,
        app: StaffelApplication,
        store: ViewStoreMixin,
        projection: Projection[Any],
        generation: int,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        self.app, self.store, self.projection = app, store, projection
        self.generation, self.batch_size = generation, batch_size
        self._position: int | None = None  # where this worker's last batch left the tracking

    @property
    def position(self) -> int:
        """The tracking position: read from the store once, then the end of each batch this
        worker applied (a round of the supervisor asks no question per projection). Should
        another runner have moved it meanwhile, the compare-and-set refuses the next batch
        (``apply_batch``) and the position is read again."""
        if self._position is None:
            self._position = self.store.position(self.projection.name, self.generation)
        return self._position

    def step(self) -> int:
        """Process the next batch; return how many notifications it covered (0: caught up)."""
        start = self.position
        return self.apply(read_batch(self.app, start, self.batch_size), start)

    def apply(self, batch: Batch, start: int) -> int:
        """Apply ``batch`` (``read_batch`` from ``start``, this worker's position); return its
        length. When another runner got there first the batch is refused (nothing written) and
        the next step re-reads from the position that runner left: still its length, so a
        caller keeps stepping rather than waiting."""
        if not batch:
            return 0
        end = batch[-1][1]
        applied = self.store.apply_batch(self.projection, self.generation, batch, end, start)
        self._position = end if applied else None
        return len(batch)

    def catch_up(self, progress: Callable[[int], None] | None = None) -> int:
        total = 0
        while n := self.step():
            total += n
            if progress:
                progress(n)
        return total


def step_together(
    app: StaffelApplication,
    workers: Sequence[ProjectionWorker],
    batch_size: int = BATCH_SIZE,
    applied: Callable[[ProjectionWorker, int, float], None] | None = None,
    read: Callable[[StaffelApplication, int, int], Batch] | None = None,
) -> int:
    """One batch for each worker. Workers at the same position get the same events, so each
    batch is read, decoded and opened once for all of them (the projections only read it).
    On PostgreSQL (with more pool connections than workers) the workers apply their batches
    concurrently, each in its own transaction
    (its rows and its tracking record): one projection's statements run in the database while
    the next one folds its batch. The first error is raised once all are done.
    ``applied(worker, events, seconds)``: told after each worker's batch; ``read``: instead of
    ``read_batch`` (benchmarks time both)."""
    batches: dict[int, Batch] = {}
    jobs = []
    for worker in workers:
        position = worker.position
        if position not in batches:
            batches[position] = (read or read_batch)(app, position, batch_size)
        jobs.append((worker, batches[position], position))

    def apply(worker: ProjectionWorker, batch: Batch, position: int) -> int:
        started = time.perf_counter()
        n = worker.apply(batch, position)
        if applied is not None:
            applied(worker, n, time.perf_counter() - started)
        return n

    busy = [job for job in jobs if job[1]]
    if len(busy) <= 1 or _pool_size(app) <= len(busy):
        return sum(apply(*job) for job in jobs)
    with ThreadPoolExecutor(len(busy), thread_name_prefix="staffel-apply") as pool:
        futures = [pool.submit(apply, *job) for job in busy]
    return sum(future.result() for future in futures)


def _pool_size(app: StaffelApplication) -> int:
    """Connections the store's pool may open (0 on SQLite): concurrent applies each hold one
    for their transaction, and the runner must leave the others room (a pool of one is
    configured in tests of dropped connections)."""
    if not isinstance(app.recorder, PostgresApplicationRecorder):
        return 0
    return int(getattr(app.recorder.datastore.pool, "max_size", 0) or 0)


def read_batch(app: StaffelApplication, position: int, limit: int) -> Batch:
    """Up to ``limit`` events after ``position``, decoded and opened, with their positions."""
    notifications: Sequence[Notification] = app.recorder.select_notifications(
        start=position + 1, limit=limit
    )
    events = opened(app, [app.mapper.to_domain_event(n) for n in notifications])
    return [(e, n.id) for e, n in zip(events, notifications, strict=True)]


def newest_worker(
    app: StaffelApplication, store: ViewStoreMixin, projection: Projection[Any]
) -> ProjectionWorker:
    """The worker of the projection's newest generation: the one being rebuilt for a new version
    when there is one (it is not swapped in here), else the active one."""
    active, rebuild = ensure_generation(store, projection)
    return ProjectionWorker(app, store, projection, active if rebuild is None else rebuild)


def ensure_generation(store: ViewStoreMixin, projection: Projection[Any]) -> tuple[int, int | None]:
    """The active generation to serve and, when the code's version differs, one to rebuild."""
    generations = store.generations(projection.name)
    active = [g for g in generations if g["state"] == "active"]
    if not active:
        return store.new_generation(projection.name, projection.version, active=True), None
    current = active[-1]
    if current["version"] == projection.version:
        return int(current["generation"]), None
    building = [
        g for g in generations if g["state"] == "building" and g["version"] == projection.version
    ]
    rebuild = (
        int(building[-1]["generation"])
        if building
        else store.new_generation(projection.name, projection.version)
    )
    return int(current["generation"]), rebuild


def lag(app: StaffelApplication, store: ViewStoreMixin, projection: Projection[Any]) -> Lag:
    generation = store.active_generation(projection.name) or 0
    position = store.position(projection.name, generation) if generation else 0
    head = app.recorder.max_notification_id() or 0
    seconds = 0.0
    if head > position:
        first = app.recorder.select_notifications(start=position + 1, limit=1)
        if first:
            event = cast(CaseEvent, app.mapper.to_domain_event(first[0]))
            recorded_at = event.timestamp
            seconds = max(0.0, (datetime.now(UTC) - recorded_at).total_seconds())
    return Lag(projection.name, generation, position, head, seconds)


class Reached:
    """The highest position each set of projections is known to have processed, in this
    process: positions only grow (a rebuilt generation is swapped in only once it has caught
    up), so a read whose caller's write is at or below it needs no query and no wait."""

    def __init__(self) -> None:
        self._known: dict[tuple[str, ...], int] = {}

    def at_least(self, names: Sequence[str], position: int) -> bool:
        return self._known.get(tuple(names), 0) >= position

    def saw(self, names: Sequence[str], position: int) -> None:
        key = tuple(names)
        if position > self._known.get(key, 0):  # a lost race of two threads costs one query
            self._known[key] = position


def wait_for(
    store: ViewStoreMixin,
    position: int,
    timeout: float,
    names: Sequence[str],
    reached: Reached | None = None,
) -> bool:
    """Block until the named projections have processed ``position`` (read-your-writes): one
    query per look, none when ``reached`` already knows."""
    reached = reached or Reached()
    if reached.at_least(names, position):
        return True
    deadline = time.monotonic() + timeout
    delay = 0.002
    while True:
        reached.saw(names, store.reached(names))
        if reached.at_least(names, position):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
        delay = min(delay * 2, 0.05)


def run_once(app: StaffelApplication, projection: Projection[Any], store: ViewStoreMixin) -> Any:
    """Catch one projection up synchronously (tests, replay)."""
    active, _ = ensure_generation(store, projection)
    return ProjectionWorker(app, store, projection, active).catch_up()
