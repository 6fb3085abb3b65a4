"""The background thread beside HTTP: it keeps every projection current and steps the
processes that follow the same log (the handover policy, the federation outbox), each from its
own tracking position, in one loop.

Live following pulls from the tracking positions whenever it is woken: by PostgreSQL's
LISTEN/NOTIFY on the events table's channel (the connection is supervised and re-opened when it
drops: nothing is lost because the pull starts from the tracking record), by the in-process
writer, or by a short poll interval (SQLite has no notifications). ADR 0004.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any, Protocol

import psycopg
import structlog
from eventsourcing.postgres import PostgresApplicationRecorder

from adapters.views.store import ViewStoreMixin
from domain.application import StaffelApplication
from projections.base import Projection
from projections.registry import PROJECTIONS
from workers.leader import Lead, lead_for, record_holder
from workers.projections import (
    BATCH_SIZE,
    ProjectionWorker,
    Reached,
    build_view_store,
    ensure_generation,
    step_together,
    wait_for,
)

log = structlog.get_logger("staffel.projections")

# A round that applied at least this many events (and did not fill its batch) was one of a
# steady stream of writes: the next round gathers (``Supervisor.gather``). Fewer: the next
# round starts when woken, as soon as an event is written.
GATHER_FROM = 8


class Process(Protocol):
    """A follower of the log that is not a projection (the handover policy, the outbox): it
    acts on the events after its own tracking position and keeps no generations."""

    def step(self) -> int:
        """Handle the next batch; return how much it did (0: nothing to do)."""
        ...


class Waker:
    """Wakes the runner when new events are recorded; on PostgreSQL through LISTEN/NOTIFY.
    ``hurry``: set when a reader waits for a position (in this process, or in another one on
    PostgreSQL through a second channel), so a gathering round starts at once."""

    def __init__(self, app: StaffelApplication) -> None:
        self.event = threading.Event()
        self.hurry = threading.Event()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self._recorder: PostgresApplicationRecorder | None = None
        recorder = app.recorder
        if isinstance(recorder, PostgresApplicationRecorder):
            self._recorder = recorder
            self._thread = threading.Thread(
                target=self._listen,
                args=(app, recorder.channel_name),
                daemon=True,
                name="staffel-listen",
            )
            self._thread.start()

    @staticmethod
    def _hurry_channel(channel: str) -> str:
        return f"{channel}_hurry"

    def ask_to_hurry(self, elsewhere: bool) -> None:
        """A reader waits for a position: this process's runner starts its next round at once;
        ``elsewhere`` (another process leads), on PostgreSQL, the leader's too (a ``NOTIFY``)."""
        self.hurry.set()
        if self._recorder is None or not elsewhere:
            return
        channel = self._hurry_channel(self._recorder.channel_name)
        try:
            with self._recorder.datastore.get_connection() as conn:
                conn.execute(psycopg.sql.SQL("NOTIFY {}").format(psycopg.sql.Identifier(channel)))
        except Exception as e:  # a hint only: the reader waits as before, a gathering longer
            log.warning("hurry_not_sent", error_type=type(e).__name__)

    def _listen(self, app: StaffelApplication, channel: str) -> None:
        env = app.env
        conninfo = psycopg.conninfo.make_conninfo(
            dbname=env.get("POSTGRES_DBNAME"),
            host=env.get("POSTGRES_HOST"),
            port=env.get("POSTGRES_PORT"),
            user=env.get("POSTGRES_USER"),
            password=env.get("POSTGRES_PASSWORD") or None,
        )
        while not self._stopped.is_set():
            try:
                with psycopg.connect(conninfo, autocommit=True) as conn:
                    hurry = self._hurry_channel(channel)
                    for name in (channel, hurry):
                        conn.execute(
                            psycopg.sql.SQL("LISTEN {}").format(psycopg.sql.Identifier(name))
                        )
                    self.event.set()  # pull once: something may have arrived while disconnected
                    while not self._stopped.is_set():
                        for notice in conn.notifies(timeout=0.5, stop_after=1):
                            (self.hurry if notice.channel == hurry else self.event).set()
            except psycopg.Error as e:
                log.warning("listen_connection_lost", error_type=type(e).__name__)
                self.event.set()
                self._stopped.wait(0.5)

    def wait(self, timeout: float) -> None:
        self.event.wait(timeout)
        self.event.clear()

    def stop(self) -> None:
        self._stopped.set()
        self.event.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


class LeadLostError(Exception):
    """The lead's connection broke: another process may lead now; this one stands by."""


class Supervisor:
    """Keeps every projection current in a background thread and steps the processes beside
    them; survives database errors by restarting from the tracking positions; rebuilds a
    projection whose version changed and swaps the new generation in when it has caught up.

    Of all the supervisors on one database only the one holding the lead (``workers/leader.py``)
    runs; the others stand by, trying for the lead every poll interval, and take over when the
    leader dies. ADR 0004."""

    def __init__(
        self,
        app: StaffelApplication,
        projections: Sequence[Projection[Any]] = PROJECTIONS,
        poll_interval: float = 0.2,
        batch_size: int = BATCH_SIZE,
        store: ViewStoreMixin | None = None,
        processes: Sequence[Process] = (),
        lead: Lead | None = None,
        gather: float = 0.0,
    ) -> None:
        """``processes``: the followers of the log that are not projections, stepped each round
        after the projections. ``lead``: this process's claim to lead (default: on the
        application's database, ``lead_for``). ``gather``: seconds from the start of a round
        that applied ``GATHER_FROM`` events or more, without filling its batch, to the start of
        the next; a reader of this process waiting for its write starts the next at once."""
        self.app, self.projections = app, projections
        self.store = store or build_view_store(app)
        self._names = [p.name for p in projections]
        self._reached = Reached()
        self.processes = processes
        self.poll_interval, self.batch_size, self.gather = poll_interval, batch_size, gather
        self._largest = 0  # the largest batch a worker applied in the round under way
        self.lead = lead or lead_for(app)
        self.leading = False  # this process holds the lead and runs the workers
        # False: this process runs no workers by configuration (``staffel serve --no-workers``)
        self.enabled = True
        self.waker = Waker(app)
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self.errors = 0  # since the start, for metrics
        self._failures = 0  # in a row: the backoff grows with these, not with ``errors``
        self._lead_elsewhere = False  # the last attempt found another process leading
        # rounds ended: a batch's work ends after its commit (the log compacted after an erasure)
        self.rounds = 0
        self._round_ended = threading.Condition()
        self._generations_checked = -float("inf")

    def wake(self) -> None:
        self.waker.event.set()

    def start(self) -> Supervisor:
        self._thread = threading.Thread(target=self.run, daemon=True, name="staffel-projections")
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        self.waker.hurry.set()
        self.waker.stop()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._resign()

    @property
    def running(self) -> bool:
        """This process's share of the work is going: the runner thread is alive (leading or
        standing by), or the process runs no workers by configuration (``--no-workers``)."""
        if not self.enabled:
            return True
        return self._thread is not None and self._thread.is_alive()

    def run(self) -> None:
        while not self._stopped.is_set():
            if not self._take_lead():
                self._end_round()  # a standby's round: nothing of this process is under way
                # another process leads: look again in a poll interval; the lead was ours but
                # could not be recorded (a dropped connection): again soon, as after a failure
                soon = self._failures and not self._lead_elsewhere
                self._stopped.wait(min(5.0, 0.2 * self._failures) if soon else self.poll_interval)
                continue
            try:
                self._run_workers()
            except LeadLostError:
                self._resign()
                log.warning("lead_lost")
            except Exception as e:  # a dropped connection, a locked database: retry from tracking
                self.errors += 1
                self._failures += 1
                # no message or traceback text: a refused row's values could be personal data
                log.error("projection_runner_failed", error_type=type(e).__name__)
                # give the lead up: a standby whose store works may take over meanwhile (and
                # the next attempt, here or there, starts from the tracking positions)
                self._resign()
                self._stopped.wait(min(5.0, 0.2 * self._failures))

    def _take_lead(self) -> bool:
        if self.leading:
            return True
        self._lead_elsewhere = not self.lead.acquire()
        if self._lead_elsewhere:
            return False
        try:
            record_holder(self.store)
        except Exception as e:  # recorded on the next attempt; the lead is what matters
            log.warning("lead_not_recorded", error_type=type(e).__name__)
            self._failures += 1
            self.lead.release()
            return False
        self.leading = True
        log.info("lead_taken")
        return True

    def _resign(self) -> None:
        self.leading = False
        self.lead.release()

    def _end_round(self) -> None:
        with self._round_ended:
            self.rounds += 1
            self._round_ended.notify_all()

    def _run_workers(self) -> None:
        workers = self._workers()
        for process in self.processes:  # others may have led meanwhile: positions read anew
            if (tracked := getattr(process, "tracked", None)) is not None:
                tracked.forget()
        while not self._stopped.is_set():
            if not self.lead.held():
                raise LeadLostError()
            started, self._largest = time.monotonic(), 0
            busy = self._step(workers) + sum(p.step() for p in self.processes)
            self._failures = 0
            self._end_round()
            if GATHER_FROM <= self._largest < self.batch_size:
                self._gather(started + self.gather)
            if not busy:
                rebuilt = [w for w in workers if self._is_rebuild(w) and self._activate(w)]
                if rebuilt or (self._generations_due() and self._generations_changed(workers)):
                    return  # re-plan the workers against the new generations
                self.waker.wait(self.poll_interval)

    def _step(self, workers: list[ProjectionWorker]) -> int:
        """One batch for each worker, each batch read once (``step_together``)."""
        return step_together(self.app, workers, self.batch_size, self._applied)

    def _applied(self, worker: ProjectionWorker, events: int, seconds: float) -> None:
        self._largest = max(self._largest, events)

    def _gather(self, until: float) -> None:
        """Under a steady stream of writes, let events gather until ``until`` before the next
        round. Each round pays the same fixed work, whatever it finds: a read of the log and
        a tracking row per follower, a transaction per projection. Back to back, rounds found
        about a hundred events each at 700 writes/s (issue 16). A reader of this process
        waiting for a position ends the wait (``wait_for``; from another process through
        PostgreSQL's ``NOTIFY``). A backlog (a full batch) is never held up."""
        left = until - time.monotonic()
        if left > 0 and not self._stopped.is_set():
            self.waker.hurry.wait(left)
        self.waker.hurry.clear()

    def _workers(self) -> list[ProjectionWorker]:
        self._plan: dict[str, int] = {}
        self._rebuilds: set[tuple[str, int]] = set()
        workers = []
        for projection in self.projections:
            active, rebuild = ensure_generation(self.store, projection)
            self._plan[projection.name] = active
            workers.append(
                ProjectionWorker(self.app, self.store, projection, active, self.batch_size)
            )
            if rebuild is not None:
                self._rebuilds.add((projection.name, rebuild))
                workers.append(
                    ProjectionWorker(self.app, self.store, projection, rebuild, self.batch_size)
                )
        return workers

    def _is_rebuild(self, worker: ProjectionWorker) -> bool:
        return (worker.projection.name, worker.generation) in self._rebuilds

    def _activate(self, worker: ProjectionWorker) -> bool:
        log.info(
            "projection_swapped", projection=worker.projection.name, generation=worker.generation
        )
        self.store.activate(worker.projection.name, worker.generation)
        return True

    def _generations_due(self) -> bool:
        """Whether to look for generations swapped elsewhere (``staffel projections rebuild``):
        at most once a poll interval, not after every write that left the workers idle (a
        query per projection each time)."""
        now = time.monotonic()
        if now - self._generations_checked < self.poll_interval:
            return False
        self._generations_checked = now
        return True

    def _generations_changed(self, workers: list[ProjectionWorker]) -> bool:
        return any(self.store.active_generation(name) != gen for name, gen in self._plan.items())

    def wait_for(self, position: int, timeout: float, names: Sequence[str] | None = None) -> bool:
        """Read-your-writes: block until the projections (all, or ``names``) have processed
        ``position``; at once, without a query, when this process already saw them there. A
        round gathering events starts at once (``_gather``)."""
        if self.gather and not self._reached.at_least(names or self._names, position):
            self.waker.ask_to_hurry(elsewhere=not self.leading)
        return wait_for(self.store, position, timeout, names or self._names, self._reached)

    def has_reached(self, position: int) -> bool:
        """Every projection is known to have processed ``position`` (no query)."""
        return self._reached.at_least(self._names, position)

    def finish_round(self, timeout: float) -> bool:
        """Block until the round under way has ended. A batch's rows and tracking position are
        visible at its commit, but its work ends after it: once an erasure was applied, the
        store compacts SQLite's write-ahead log, and until then the files still hold the pages
        from before the erasure. Positions seen reached, then this: the files are as the views."""
        if self._thread is None or not self._thread.is_alive():
            return True
        with self._round_ended:
            seen = self.rounds
            self.waker.hurry.set()  # a gathering round starts now
            self.wake()
            return self._round_ended.wait_for(lambda: self.rounds > seen, timeout)
