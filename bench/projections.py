"""The projections against the acceptance figures of issue 3, in one run.

    .venv/bin/python bench/projections.py [--quick]

1. Catch-up speed, on SQLite and PostgreSQL: a store of N case events (bulk-populated through
   ``StaffelApplication.save``, many aggregates per call) is projected from position 0 by
   ``ProjectionWorker.catch_up`` for each projection (three rounds into fresh tables, the order
   rotated), beside the bare library's read-and-decode speed over the same notifications
   (``recorder.select_notifications`` in pages of 500 and ``mapper.to_domain_event`` on each)
   measured before and after every catch-up. Target: catch-up at least 30 % of read-and-decode.
2. Lag under a sustained load, on PostgreSQL: writer threads record events through
   ``StaffelApplication.record`` on existing cases, open loop at a paced total rate, from a separate
   process (the API's role; ``--writer thread`` puts them beside the supervisor instead), while a
   ``Supervisor`` (its own application object, woken by LISTEN/NOTIFY) follows live in
   this process. Lag of an event: from ``record`` returning in the writer to the commit of the
   view batch that holds it, for the slowest of the projections (timed by wrapping the
   supervisor's ``apply_batch``; both processes read CLOCK_MONOTONIC). Also the read-your-writes
   wait a client sees (``wait_for`` on sampled writes). Target: p99 < 250 ms.
3. History read latency, on PostgreSQL: with 100,000 cases stored (a few events each) and one
   case of 200 events recorded in between, ``CaseQueries.history`` of that case, timed per call.
   Target: p99 < 10 ms.

PostgreSQL databases are created for the run (``STAFFEL_BENCH_POSTGRES_URL``, default
``postgresql://postgres@127.0.0.1:5432``) and dropped at the end; SQLite uses a temporary file.
"""

from __future__ import annotations

import argparse
import gc
import math
import multiprocessing
import os
import queue
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Protocol
from uuid import UUID

import psycopg

if __package__ in (None, ""):  # run as a script: make the project's packages importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adapters.settings import Settings
from adapters.views.queries import CaseQueries
from adapters.views.store import ViewStoreMixin
from bench.store import QUICK as STORE_QUICK_MODE
from bench.store import SEALING, machine_context, postgres_database
from bootstrap import build_case_application
from domain.actor import Actor, acting_as
from domain.aggregates.case import STAFF_COMMANDS, Case
from domain.application import StaffelApplication
from domain.sealing import sealing_with
from domain.values import (
    Cefr,
    LanguageSkill,
    LegalStatus,
    MeasureKind,
    NoteCategory,
    Person,
    PlacementKind,
    Plan,
    QualificationRecognition,
    WorkExperience,
)
from projections.base import Projection
from projections.registry import PROJECTIONS
from workers.projections import (
    BATCH_SIZE,
    ProjectionWorker,
    build_view_store,
    ensure_generation,
    wait_for,
)
from workers.supervisor import Supervisor

ACTOR = Actor("staff-bench-1", "aa-bench")
PAGE = 500  # the bare read's page size: the runner's batch size
CATCH_UP_TARGET = 30.0  # percent of the bare read-and-decode speed
LAG_TARGET_MS = 250.0
HISTORY_TARGET_MS = 10.0
WRITER_THREADS = 3  # the load comes from several clients at once, each paced
RW_SAMPLE_INTERVAL = 0.05  # seconds between two sampled read-your-writes waits
# Rows of bench/store.py's machine context that describe the machine, not that benchmark.
CONTEXT_KEYS = (
    "date/time",
    "CPU",
    "os.cpu_count()",
    "RAM",
    "OS",
    "Python",
    "eventsourcing",
    "psycopg",
    "PostgreSQL",
    "PostgreSQL settings",
)


@dataclass(frozen=True)
class Mode:
    name: str
    catch_up_events: int  # part 1: events in the store
    catch_up_rounds: int  # part 1: catch-ups of each projection
    events_per_case: int  # part 1: registration + this many - 1 events per case
    cases_per_save: int  # part 1
    lag_rate: float  # part 2: events per second
    lag_seconds: float  # part 2
    lag_cases: int  # part 2: cases the writer records on, round-robin
    history_cases: int  # part 3
    history_cases_per_save: int  # part 3
    long_case_events: int  # part 3
    history_reads: int  # part 3


FULL = Mode("full", 100_000, 3, 5, 50, 300.0, 30.0, 500, 100_000, 100, 200, 1000)
QUICK = Mode("quick", 5_000, 3, 5, 50, 300.0, 5.0, 200, 5_000, 100, 200, 200)


def progress(message: str) -> None:
    print(f"  .. {message}", file=sys.stderr, flush=True)


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..100) of ``values``."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def _rate(value: float) -> str:
    return f"{value:,.0f}"


# -- populating the store -------------------------------------------------------------------------

DAY = date(2025, 3, 3)
GIVEN_NAMES = ("Amina", "Yusuf", "Olena", "Bilal", "Mariam", "Dawit", "Sara", "Omar")
Step = tuple[str, dict[str, Any]]


def extra_event(k: int, i: int) -> Step:
    """The ``k``-th event after registration (k >= 1) of the ``i``-th case: a realistic mix of
    the staff events, with distinct references so every command's guard passes."""
    kind = (k - 1 + i) % 6
    if kind == 0:
        return "CompetenceAssessed", {
            "instrument": "MYSKILLS",
            "assessed_on": DAY,
            "german_level": Cefr.A2,
            "languages": (LanguageSkill("ar", Cefr.C2), LanguageSkill("en", Cefr.B1)),
            "school_years": 10,
            "school_certificate": None,
            "vocational_training": (),
            "work_experience": (WorkExperience("Elektriker", 3),),
            "qualification_recognition": QualificationRecognition.APPLIED,
            "support_need": i % 3 == 0,
            "notes": None,
        }
    if kind == 1:
        return "StepAgreed", {
            "step_id": f"s{k}",
            "description": "Lebenslauf erstellen und Zeugnisse übersetzen lassen",
            "due_on": DAY + timedelta(days=30),
            "plan": Plan.KOOPERATIONSPLAN,
        }
    if kind == 2:
        return "MeasureStarted", {
            "measure_id": f"m{k}",
            "kind": MeasureKind.INTEGRATION_COURSE,
            "provider": "VHS Berlin-Mitte",
            "starts_on": DAY,
            "ends_on": None,
        }
    if kind == 3:
        return "NoteRecorded", note_fields(k)
    if kind == 4:
        return "MentorAssigned", {
            "volunteer_id": f"v{k}",
            "organisation": "Patenschaften e.V.",
            "assigned_on": DAY,
        }
    return "PlacementMade", {
        "placement_id": f"p{k}",
        "kind": PlacementKind.INTERNSHIP,
        "employer": "Bäckerei Schmidt",
        "starts_on": DAY,
        "wage_subsidy": None,
        "offer_id": None,
    }


def note_fields(k: int) -> dict[str, Any]:
    return {
        "text": f"Beratungsgespräch {k} geführt, Unterlagen zur Anerkennung besprochen.",
        "category": NoteCategory.COUNSELLING,
    }


def new_case(i: int) -> Case:
    return Case.register(
        person=Person(
            GIVEN_NAMES[i % len(GIVEN_NAMES)], f"Muster{i}", date(1990, 1, 1), "SY", ("ar",)
        ),
        bamf_file_number=None,
        residence_municipality="Berlin",
        legal_status=LegalStatus.ASYLUM_SEEKER,
        registered_on=DAY + timedelta(days=i % 365),
    )


def apply_step(case: Case, step: Step) -> None:
    event_type, fields = step
    STAFF_COMMANDS[event_type](case, **fields)


@dataclass
class Populated:
    case_ids: list[UUID]
    events: int
    seconds: float
    long_case: UUID | None = None

    @property
    def rate(self) -> float:
        return self.events / self.seconds


def populate(
    app: StaffelApplication,
    cases: int,
    events_of: Callable[[int], int],
    per_save: int,
    long_case_events: int = 0,
) -> Populated:
    """Register ``cases`` cases, the ``i``-th with ``events_of(i)`` events in all, ``per_save``
    cases per ``app.save``. With ``long_case_events``, one more case whose events are spread
    evenly over the saves (recorded over time, so its rows are not adjacent)."""
    saves = math.ceil(cases / per_save)
    ids: list[UUID] = []
    events = 0
    long_case: Case | None = None
    started = time.perf_counter()
    # the aggregates are built here, outside the application's command methods: seal their
    # personal fields with the application's per-case keys, as its commands do (ADR 0008)
    with acting_as(ACTOR), sealing_with(app.keys):
        if long_case_events:
            long_case = new_case(cases)
        for s in range(saves):
            batch = []
            for i in range(s * per_save, min(cases, (s + 1) * per_save)):
                case = new_case(i)
                for k in range(1, events_of(i)):
                    apply_step(case, extra_event(k, i))
                batch.append(case)
            if long_case is not None:
                due = round((s + 1) * (long_case_events - 1) / saves)
                while long_case.version < due + 1:
                    apply_step(long_case, extra_event(long_case.version, cases))
                batch.append(long_case)
            events += sum(len(c.pending_events) for c in batch)
            app.save(*batch)
            ids += [c.id for c in batch if c is not long_case]
    seconds = time.perf_counter() - started
    return Populated(ids, events, seconds, long_case.id if long_case is not None else None)


# -- part 1: catch-up ------------------------------------------------------------------------------


@dataclass
class CatchUp:
    backend: str
    populated: Populated
    bare: list[tuple[int, float]] = field(default_factory=list)  # (events, seconds) per run
    # projection name -> (events, seconds) per round
    projections: dict[str, list[tuple[int, float]]] = field(default_factory=dict)

    @property
    def bare_rate(self) -> float:
        return statistics.median(n / s for n, s in self.bare)


def read_and_decode(app: StaffelApplication) -> tuple[int, float]:
    """The bare library: every notification from position 1, in pages, decoded."""
    gc.collect()
    count, position = 0, 0
    started = time.perf_counter()
    while True:
        notifications = app.recorder.select_notifications(start=position + 1, limit=PAGE)
        if not notifications:
            break
        for notification in notifications:
            app.mapper.to_domain_event(notification)
        count += len(notifications)
        position = notifications[-1].id
    return count, time.perf_counter() - started


def catch_up(
    app: StaffelApplication, store: ViewStoreMixin, projection: Projection[Any], generation: int
) -> tuple[int, float]:
    """``generation`` of ``projection`` (fresh tables) caught up from position 0."""
    worker = ProjectionWorker(app, store, projection, generation)
    assert worker.position == 0, "the catch-up must start from position 0"
    gc.collect()
    started = time.perf_counter()
    events = worker.catch_up()
    return events, time.perf_counter() - started


def settle(url: str) -> None:
    """PostgreSQL: ``VACUUM (ANALYZE)`` after a bulk load, so no autovacuum or analyze of the
    fresh rows runs under a measurement (a running deployment's autovacuum keeps up)."""
    if Settings(database_url=url).is_postgres:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("VACUUM (ANALYZE)")


def bench_catch_up(label: str, url: str, mode: Mode) -> CatchUp:
    """Each projection caught up ``catch_up_rounds`` times into fresh tables, the order rotated
    every round, a bare read-and-decode after each. The first round's generations stay active
    (part 2 follows from there); later rounds' tables are dropped."""
    with build_case_application(Settings(database_url=url)) as app:
        progress(f"{label}: populating {mode.catch_up_events:,} events")
        populated = populate(
            app,
            mode.catch_up_events // mode.events_per_case,
            lambda _: mode.events_per_case,
            mode.cases_per_save,
        )
        settle(url)
        result = CatchUp(label, populated, projections={p.name: [] for p in PROJECTIONS})
        store = build_view_store(app)
        result.bare.append(read_and_decode(app))
        for round_ in range(mode.catch_up_rounds):
            shift = round_ % len(PROJECTIONS)
            for projection in (*PROJECTIONS[shift:], *PROJECTIONS[:shift]):
                progress(f"{label}: catch-up {projection.name} (round {round_ + 1})")
                if round_ == 0:
                    generation, _ = ensure_generation(store, projection)
                else:
                    generation = store.new_generation(projection.name, projection.version)
                result.projections[projection.name].append(
                    catch_up(app, store, projection, generation)
                )
                if round_ > 0:
                    store.drop_generation(projection.name, generation)
                result.bare.append(read_and_decode(app))
        return result


def report_catch_up(results: list[CatchUp], mode: Mode) -> list[str]:
    missed = []
    print(
        f"1. Catch-up from position 0 ({mode.catch_up_events:,} events: "
        f"{mode.catch_up_events // mode.events_per_case:,} cases of {mode.events_per_case} events,"
        f" batch size {BATCH_SIZE}; target >= {CATCH_UP_TARGET:.0f} % of read-and-decode)"
    )
    print(
        f"   each projection {mode.catch_up_rounds} times into fresh tables (order rotated), "
        "a bare read-and-decode before and after each; medians, every run listed; "
        "PostgreSQL: VACUUM (ANALYZE) after populating"
    )
    header = f"   {'backend':<11} {'what':<36} {'events':>9} {'seconds':>8} {'events/s':>9}"
    print(header)
    print("   " + "-" * (len(header) - 3))
    for r in results:
        p = r.populated
        what = f"populate (app.save, {mode.cases_per_save} cases/call)"
        print(f"   {r.backend:<11} {what:<36} {p.events:>9,} {p.seconds:>8.2f} {_rate(p.rate):>9}")
        runs = ", ".join(_rate(n / s) for n, s in r.bare)
        print(
            f"   {'':<11} {'bare read-and-decode':<36} {r.bare[0][0]:>9,}"
            f" {statistics.median(s for _, s in r.bare):>8.2f} {_rate(r.bare_rate):>9}"
            f"   runs: {runs}"
        )
        for name, rounds in r.projections.items():
            rate = statistics.median(n / s for n, s in rounds)
            share = rate / r.bare_rate * 100
            flag = "ok" if share >= CATCH_UP_TARGET else "MISSED"
            runs = ", ".join(_rate(n / s) for n, s in rounds)
            print(
                f"   {'':<11} {'catch-up ' + name:<36} {rounds[0][0]:>9,}"
                f" {statistics.median(s for _, s in rounds):>8.2f} {_rate(rate):>9}"
                f"   = {share:5.2f} % of bare  {flag}   runs: {runs}"
            )
            if share < CATCH_UP_TARGET:
                missed.append(f"catch-up {r.backend} {name}: {share:.2f} % < {CATCH_UP_TARGET} %")
    return missed


# -- part 2: lag under load ------------------------------------------------------------------------


class Sink(Protocol):
    def put(self, item: Any, /) -> None: ...


class Gate(Protocol):
    def wait(self, timeout: float | None = None, /) -> bool: ...


def now() -> float:
    """CLOCK_MONOTONIC: one clock for the writer process and this one."""
    return time.clock_gettime(time.CLOCK_MONOTONIC)


def run_writers(
    url: str, case_ids: list[str], rate: float, planned: int, threads: int, out: Sink, go: Gate
) -> None:
    """The load: ``planned`` NoteRecorded events at ``rate`` per second (open loop: event ``i`` is
    due at ``start + i / rate``), by ``threads`` writer threads with their own cases. Reports
    ``("ready",)``, then ``("written", position, time)`` per event as ``record`` returns, then
    ``("done", start)`` or ``("error", message)``."""
    try:
        with build_case_application(Settings(database_url=url)) as app:
            ids = [UUID(c) for c in case_ids]
            for case_id in ids:  # warm the aggregate cache, as a running service has it
                app.get_case(case_id)
            out.put(("ready",))
            go.wait(None)
            start = now()
            failures: list[str] = []

            def write(j: int) -> None:
                own = ids[j::threads]
                try:
                    with acting_as(ACTOR):
                        for n, i in enumerate(range(j, planned, threads)):
                            delay = start + i / rate - now()
                            if delay > 0:
                                time.sleep(delay)
                            recorded = app.record(
                                own[n % len(own)], "NoteRecorded", note_fields(1000 + i)
                            )
                            out.put(("written", recorded.position, now()))
                except Exception as e:
                    failures.append(f"{type(e).__name__}: {e}")

            workers = [
                threading.Thread(target=write, args=(j,), name=f"bench-writer-{j}")
                for j in range(threads)
            ]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
            out.put(("error", failures[0]) if failures else ("done", start))
    except Exception as e:
        out.put(("error", f"{type(e).__name__}: {e}"))


@dataclass
class LagResult:
    writer: str
    planned: int
    written: list[tuple[int, float]]  # (position, time record() returned), in arrival order
    write_seconds: float
    lags_ms: list[float]
    missing: int
    rw_waits_ms: list[float]
    rw_timeouts: int
    batches: dict[str, int]
    supervisor_errors: int


def bench_lag(url: str, mode: Mode, case_ids: list[UUID], writer_kind: str) -> LagResult:
    """A ``Supervisor`` in this process follows a writer running in its own process
    (the API's role; ``writer_kind == "process"``) or in threads of this process."""
    planned = int(mode.lag_rate * mode.lag_seconds)
    ids = [str(c) for c in case_ids[: mode.lag_cases]]
    args = (url, ids, mode.lag_rate, planned, WRITER_THREADS)
    out: Any
    go: Any
    if writer_kind == "process":
        context = multiprocessing.get_context("spawn")
        out, go = context.Queue(), context.Event()
        writer: Any = context.Process(target=run_writers, args=(*args, out, go), daemon=True)
    else:
        out, go = queue.Queue(), threading.Event()
        writer = threading.Thread(target=run_writers, args=(*args, out, go), daemon=True)
    writer.start()

    with build_case_application(Settings(database_url=url)) as app:
        supervisor = Supervisor(app)
        store = supervisor.store
        names = [p.name for p in supervisor.projections]
        commits: dict[str, list[tuple[int, float]]] = {name: [] for name in names}
        apply_batch = store.apply_batch

        def timed_apply_batch(
            projection: Projection[Any], generation: int, batch: Any, position: int, *rest: Any
        ) -> bool:
            applied = apply_batch(projection, generation, batch, position, *rest)
            commits[projection.name].append((position, now()))
            return applied

        store.apply_batch = timed_apply_batch  # type: ignore[method-assign,assignment]
        supervisor.start()
        head = app.recorder.max_notification_id() or 0
        if not wait_for(store, head, 120.0, names):
            raise RuntimeError("the supervisor did not catch up before the load")
        message = out.get(timeout=120)
        if message[0] != "ready":
            raise RuntimeError(f"the writer failed: {message}")
        for name in names:
            commits[name].clear()

        written: list[tuple[int, float]] = []
        rw_waits: list[float] = []
        rw_timeouts = 0
        done = threading.Event()

        def sample_read_your_writes() -> None:
            """What a client asking to read its own write would wait: the latest write, every
            ``RW_SAMPLE_INTERVAL`` (so the sampler never falls behind nor loads the process)."""
            nonlocal rw_timeouts
            last = 0
            while not done.wait(RW_SAMPLE_INTERVAL):
                if not written or written[-1][0] == last:
                    continue
                position, saved_at = written[-1]
                last = position
                if wait_for(store, position, 5.0, names):
                    rw_waits.append((now() - saved_at) * 1000)
                else:
                    rw_timeouts += 1

        progress(f"PostgreSQL: writing {planned:,} events at {mode.lag_rate:.0f}/s")
        sampler = threading.Thread(target=sample_read_your_writes, name="bench-sampler")
        sampler.start()
        go.set()
        while True:
            message = out.get(timeout=mode.lag_seconds + 60)
            if message[0] == "written":
                written.append((message[1], message[2]))
            elif message[0] == "done":
                write_started = message[1]
                break
            else:
                done.set()
                raise RuntimeError(f"the writer failed: {message[1]}")
        done.set()
        sampler.join()
        writer.join(timeout=30)
        write_seconds = max(t for _, t in written) - write_started
        wait_for(store, max(p for p, _ in written), 30.0, names)
        supervisor.stop()

    lags: list[float] = []
    missing = 0
    committed = {name: [p for p, _ in commits[name]] for name in names}
    for position, saved_at in written:
        visible: list[float] = []
        for name in names:
            index = bisect_left(committed[name], position)
            if index < len(committed[name]):
                visible.append(commits[name][index][1])
        if len(visible) < len(names):
            missing += 1
            continue
        lags.append(max(0.0, max(visible) - saved_at) * 1000)
    return LagResult(
        writer_kind,
        planned,
        written,
        write_seconds,
        lags,
        missing,
        rw_waits,
        rw_timeouts,
        {name: len(c) for name, c in commits.items()},
        supervisor.errors,
    )


def _stats_ms(values: Sequence[float]) -> str:
    if not values:
        return "no samples"
    return (
        f"p50 {percentile(values, 50):7.1f}  p95 {percentile(values, 95):7.1f}  "
        f"p99 {percentile(values, 99):7.1f}  max {max(values):7.1f} ms"
    )


def report_lag(r: LagResult, mode: Mode) -> list[str]:
    missed = []
    achieved = len(r.written) / r.write_seconds if r.write_seconds else 0.0
    where = "a separate process" if r.writer == "process" else "the supervisor's process"
    print(
        f"2. Lag under load, PostgreSQL (target p99 < {LAG_TARGET_MS:.0f} ms)\n"
        f"   writer: {WRITER_THREADS} threads in {where}, "
        f"StaffelApplication.record NoteRecorded on "
        f"{mode.lag_cases} cases (own cases per thread), open loop paced at "
        f"{mode.lag_rate:.0f} events/s for {mode.lag_seconds:.0f} s\n"
        f"   reader: Supervisor ({len(PROJECTIONS)} projections: "
        f"{', '.join(p.name for p in PROJECTIONS)}; own application, woken by LISTEN/NOTIFY, "
        "poll 0.2 s)"
    )
    print(
        f"   write rate achieved        {achieved:,.1f} events/s "
        f"({len(r.written):,} of {r.planned:,} events in {r.write_seconds:.1f} s)"
    )
    print(f"   save -> visible in views   {_stats_ms(r.lags_ms)}  ({len(r.lags_ms):,} events)")
    print(
        f"   read-your-writes wait_for  {_stats_ms(r.rw_waits_ms)}  "
        f"({len(r.rw_waits_ms):,} writes sampled every {RW_SAMPLE_INTERVAL * 1000:.0f} ms, "
        f"{r.rw_timeouts} timeouts)"
    )
    batches = ", ".join(f"{name} {n:,}" for name, n in r.batches.items())
    print(
        f"   batches committed          {batches}; events never visible: {r.missing}; "
        f"supervisor errors: {r.supervisor_errors}"
    )
    if r.missing or not r.lags_ms:
        missed.append(f"lag: {r.missing} events never became visible")
    elif percentile(r.lags_ms, 99) >= LAG_TARGET_MS:
        missed.append(f"lag p99 {percentile(r.lags_ms, 99):.1f} ms >= {LAG_TARGET_MS:.0f} ms")
    if achieved < 0.95 * mode.lag_rate:
        missed.append(f"write rate {achieved:.1f}/s below the planned {mode.lag_rate:.0f}/s")
    print(
        "   visible = the commit of the view batch holding the event, for the slowest of the "
        "projections; wait_for polls with backoff 5..50 ms"
    )
    return missed


# -- part 3: history reads -------------------------------------------------------------------------


@dataclass
class HistoryResult:
    populated: Populated
    catch_ups: list[tuple[str, int, float]]
    entries: int
    reads_ms: list[float]


def history_events(i: int) -> int:
    return 1 + i % 4  # 1 to 4 events: 2.5 per case on average


def bench_history(url: str, mode: Mode) -> HistoryResult:
    with build_case_application(Settings(database_url=url)) as app:
        progress(f"PostgreSQL: populating {mode.history_cases:,} cases")
        populated = populate(
            app,
            mode.history_cases,
            history_events,
            mode.history_cases_per_save,
            long_case_events=mode.long_case_events,
        )
        assert populated.long_case is not None
        settle(url)
        store = build_view_store(app)
        catch_ups = []
        for projection in PROJECTIONS:
            progress(f"PostgreSQL: catch-up {projection.name} ({populated.events:,} events)")
            generation, _ = ensure_generation(store, projection)
            events, seconds = catch_up(app, store, projection, generation)
            catch_ups.append((projection.name, events, seconds))
        head = app.recorder.max_notification_id() or 0
        assert wait_for(store, head, 1.0, [p.name for p in PROJECTIONS])
        settle(url)
        queries = CaseQueries(store)
        case_id = str(populated.long_case)
        history = queries.history(case_id)
        if history is None or len(history.entries) != mode.long_case_events:
            raise RuntimeError(f"the long case's history is {history and len(history.entries)}")
        for _ in range(50):  # warm-up
            queries.history(case_id)
        progress(f"PostgreSQL: {mode.history_reads} history reads")
        gc.collect()
        reads = []
        for _ in range(mode.history_reads):
            started = time.perf_counter()
            queries.history(case_id)
            reads.append((time.perf_counter() - started) * 1000)
        return HistoryResult(populated, catch_ups, len(history.entries), reads)


def report_history(r: HistoryResult, mode: Mode) -> list[str]:
    p = r.populated
    print(
        f"3. History read, PostgreSQL ({mode.history_cases:,} cases of 1 to 4 events plus one "
        f"case of {mode.long_case_events} events spread over the log: {p.events:,} events; "
        f"target p99 < {HISTORY_TARGET_MS:.0f} ms)"
    )
    print(
        f"   populate                   {p.events:,} events in {p.seconds:.1f} s "
        f"({_rate(p.rate)} events/s, {mode.history_cases_per_save} cases per app.save)"
    )
    print("   VACUUM (ANALYZE) after populating and after the catch-ups")
    for name, events, seconds in r.catch_ups:
        print(
            f"   catch-up {name:<17} {events:,} events in {seconds:.1f} s "
            f"({_rate(events / seconds)} events/s)"
        )
    print(
        f"   CaseQueries.history        {_stats_ms(r.reads_ms)}  "
        f"({len(r.reads_ms):,} calls, {r.entries} entries each, mean "
        f"{statistics.fmean(r.reads_ms):.2f} ms)"
    )
    p99 = percentile(r.reads_ms, 99)
    return [f"history p99 {p99:.2f} ms >= {HISTORY_TARGET_MS:.0f} ms"] if p99 >= 10 else []


# -- the run ---------------------------------------------------------------------------------------


def load_average() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def print_context(pg_url: str, mode: Mode) -> None:
    rows = [(k, v) for k, v in machine_context(pg_url, STORE_QUICK_MODE) if k in CONTEXT_KEYS]
    rows += [
        (
            "load average",
            load_average() + " (1, 5, 15 min) at the start: other processes on these 2 cores; "
            "the later readings include this run's own processes and PostgreSQL",
        ),
        ("SQLite", f"{sqlite3.sqlite_version} (temporary file)"),
        (
            "mode",
            f"{mode.name}: catch-up on {mode.catch_up_events:,} events; lag at "
            f"{mode.lag_rate:.0f}/s for {mode.lag_seconds:.0f} s; history with "
            f"{mode.history_cases:,} cases, {mode.history_reads:,} reads",
        ),
        (
            "settings",
            "Settings defaults (snapshot every 50, aggregate cache 1000 fast-forward, "
            "pool 5); projections batch size "
            f"{BATCH_SIZE}, supervisor poll interval 0.2 s",
        ),
        (
            "sealing",
            f"{SEALING}: populate seals through the application's keys; each projection batch "
            "opens them (one key query per batch), the bare read-and-decode does not",
        ),
    ]
    width = max(len(k) for k, _ in rows)
    print("Staffel projections: catch-up, lag, history reads")
    print("=" * 49)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    print(flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="small counts (under a minute)")
    parser.add_argument(
        "--writer",
        choices=("process", "thread"),
        default="process",
        help="part 2's load: from a separate process (default) or threads beside the supervisor",
    )
    args = parser.parse_args(argv)
    mode = QUICK if args.quick else FULL
    started = time.perf_counter()
    missed: list[str] = []
    with (
        tempfile.TemporaryDirectory(prefix="staffel-bench-") as tmp,
        postgres_database() as pg,
        postgres_database() as pg_history,
    ):
        print_context(pg, mode)
        catch_ups = [
            bench_catch_up("SQLite", f"sqlite:///{tmp}/staffel.db", mode),
            bench_catch_up("PostgreSQL", pg, mode),
        ]
        missed += report_catch_up(catch_ups, mode)
        print(f"   (load average after part 1: {load_average()})\n", flush=True)
        lag = bench_lag(pg, mode, catch_ups[1].populated.case_ids, args.writer)
        missed += report_lag(lag, mode)
        print(f"   (load average after part 2: {load_average()})\n", flush=True)
        missed += report_history(bench_history(pg_history, mode), mode)
        print(f"   (load average after part 3: {load_average()})\n", flush=True)
    if missed:
        print("MISSED:")
        for item in missed:
            print(f"  - {item}")
    else:
        print("All targets met.")
    print(
        f"\n(total run time {time.perf_counter() - started:.0f} s; "
        f"load average at the end {load_average()})"
    )
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
