"""Staffel's event store against the bare eventsourcing library, on SQLite and PostgreSQL.

    .venv/bin/python bench/store.py [--quick]

One run measures, side by side on a temporary SQLite file and on a PostgreSQL database created for
the run (``STAFFEL_BENCH_POSTGRES_URL``, default ``postgresql://postgres@127.0.0.1:5432``; dropped
at the end):

* events recorded per second: get, one event, save, on a set of existing aggregates
  (Staffel: ``StaffelApplication.record(case_id, "NoteRecorded", ...)``; bare: a minimal aggregate);
* a 200-event aggregate loaded per second with the aggregate cache off, without and with a
  snapshot (the bare side takes its snapshot at the version of Staffel's nearest snapshot).

Both sides get the same persistence environment (``adapters.settings.library_env``), the same
number of operations, the same cache and snapshot settings, their own tables (their own file on
SQLite, whose table names do not depend on the application's name), and fresh application
objects for every pair. Each measurement is warmed up, then repeated three times, each repetition
alternating the two sides in ten blocks so both meet the same background load; the table shows
the median repetition. Overhead is Staffel's extra time per operation over the bare library's:
``bare rate / Staffel rate - 1``.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from importlib.metadata import version as package_version
from itertools import cycle
from pathlib import Path
from typing import Any
from uuid import UUID

if __package__ in (None, ""):  # run as a script: make the project's packages importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from psycopg import sql

from adapters.database import GROUP_COMMIT_KEY
from adapters.settings import Settings, library_env
from bootstrap import build_case_application
from domain.actor import Actor, acting_as
from domain.application import StaffelApplication
from domain.values import LegalStatus, NoteCategory, Person

SERVER_URL = os.environ.get("STAFFEL_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432")
FLAG_PERCENT = 25.0
REPEATS = 3
BLOCKS = 10  # each repetition alternates the two sides in this many blocks
LOADED_EVENTS = 200
SNAPSHOT_INTERVAL = 50
RECORD_CACHE_SIZE = Settings.model_fields["aggregate_cache_size"].default
ACTOR = Actor("staff-bench-1", "aa-bench")
NOTE_TEXT = "Beratungsgespräch geführt, Unterlagen zur Anerkennung besprochen."
NOTE_CATEGORY = NoteCategory.COUNSELLING
# Keys of library_env() that only StaffelApplication reads; the bare side gets everything else.
STAFFEL_ONLY_KEYS = ("CASE_SNAPSHOT_INTERVAL", "HANDOVER_WORKING_DAYS")
# Since crypto-shredding (ADR 0008) Staffel seals the personal fields of case events; the other
# benches quote this in their context too.
SEALING = (
    "personal fields of case events sealed (AES-GCM, one key per case, ADR 0008) before the "
    "event is built; the bare library side does not seal"
)


@dataclass(frozen=True)
class Mode:
    name: str
    target_seconds: float  # aim for one timed repetition of the faster side to take this long
    warmup: int
    min_ops: int
    max_record_ops: int
    max_load_ops: int
    cases: int
    initial_notes: int


FULL = Mode("full", 1.5, 60, 100, 6000, 30000, 20, 4)
QUICK = Mode("quick", 0.15, 20, 20, 1000, 5000, 10, 4)


# -- the bare library side ------------------------------------------------------------------------


class Dog(Aggregate):
    """The minimal aggregate: created with a name, then notes with a text and a category."""

    @event("Registered")
    def __init__(self, name: str) -> None:
        self.name = name
        self.last_category = ""

    @event("NoteAdded")
    def add_note(self, text: str, category: str) -> None:
        self.last_category = category


class BareApplication(Application[UUID]):
    name = "BareBench"  # its own tables on PostgreSQL (barebench_events, barebench_snapshots)

    def __init__(self, env: dict[str, str], snapshot_interval: int = 0) -> None:
        super().__init__(env)
        if snapshot_interval:
            self.snapshotting_intervals = {Dog: snapshot_interval}  # type: ignore[misc]


# -- backends and configurations ------------------------------------------------------------------


@dataclass(frozen=True)
class Backend:
    label: str
    staffel_url: str  # Settings.database_url of the Staffel side
    bare_overrides: dict[str, str]  # where the bare side's tables live, if not beside Staffel's


@dataclass(frozen=True)
class Config:
    """One cache/snapshot configuration, applied identically to both sides."""

    cache_size: int
    snapshot_interval: int

    def settings(self, backend: Backend) -> Settings:
        return Settings(
            database_url=backend.staffel_url,
            aggregate_cache_size=self.cache_size,
            snapshot_interval=self.snapshot_interval,
        )

    def staffel(self, backend: Backend) -> StaffelApplication:
        return build_case_application(self.settings(backend))

    def bare_env(self, backend: Backend, *, snapshotting: bool | None = None) -> dict[str, str]:
        env = {
            k: v
            for k, v in library_env(self.settings(backend)).items()
            if k not in STAFFEL_ONLY_KEYS
        }
        env.update(backend.bare_overrides)
        env[GROUP_COMMIT_KEY] = "n"  # the library's own insert: one transaction per save
        if snapshotting:
            env["IS_SNAPSHOTTING_ENABLED"] = "y"
        return env

    def bare(self, backend: Backend, *, snapshotting: bool | None = None) -> BareApplication:
        return BareApplication(
            self.bare_env(backend, snapshotting=snapshotting), self.snapshot_interval
        )

    def describe(self) -> str:
        cache = (
            f"aggregate cache {self.cache_size} (fast-forward)" if self.cache_size else "cache off"
        )
        snaps = (
            f"snapshot every {self.snapshot_interval} events"
            if self.snapshot_interval
            else "no snapshot store"
        )
        return f"{cache}, {snaps}"


RECORD_CONFIG = Config(cache_size=RECORD_CACHE_SIZE, snapshot_interval=SNAPSHOT_INTERVAL)
LOAD_PLAIN = Config(cache_size=0, snapshot_interval=0)
LOAD_SNAPSHOT = Config(cache_size=0, snapshot_interval=SNAPSHOT_INTERVAL)


# -- measuring ----------------------------------------------------------------------------------


Op = Callable[[], None]


@dataclass
class Pair:
    key: str
    label: str
    unit: str
    ops: int = 0
    staffel: list[float] = field(default_factory=list)  # rates, one per repetition
    bare: list[float] = field(default_factory=list)
    note: str = ""

    @property
    def staffel_rate(self) -> float:
        return statistics.median(self.staffel)

    @property
    def bare_rate(self) -> float:
        return statistics.median(self.bare)

    @property
    def overhead(self) -> float:
        return (self.bare_rate / self.staffel_rate - 1.0) * 100.0


def run(op: Op, n: int) -> float:
    """Seconds for ``n`` calls of ``op``."""
    gc.collect()
    start = time.perf_counter()
    for _ in range(n):
        op()
    return time.perf_counter() - start


def measure(pair: Pair, staffel: Op, bare: Op, mode: Mode, max_ops: int) -> Pair:
    """Warm up, size the run from a timed pass (both sides, so both do the same work), then time
    ``REPEATS`` repetitions of the same number of operations on each side.

    A repetition runs each side in ``BLOCKS`` blocks, alternating sides block by block (and which
    side opens each block pair), so both meet the same background load on a shared machine."""
    run(staffel, mode.warmup)
    run(bare, mode.warmup)
    staffel_seconds, bare_seconds = run(staffel, mode.warmup), run(bare, mode.warmup)
    fastest = mode.warmup / min(staffel_seconds, bare_seconds)
    ops = max(mode.min_ops, min(max_ops, round(fastest * mode.target_seconds)))
    block = -(-ops // BLOCKS)  # ceiling: every block the same size
    pair.ops = block * BLOCKS
    for _ in range(REPEATS):
        seconds = {"staffel": 0.0, "bare": 0.0}
        for index in range(BLOCKS):
            sides = [("staffel", staffel), ("bare", bare)]
            for side, op in sides if index % 2 == 0 else reversed(sides):
                seconds[side] += run(op, block)
        pair.staffel.append(pair.ops / seconds["staffel"])
        pair.bare.append(pair.ops / seconds["bare"])
    return pair


def progress(message: str) -> None:
    print(f"  .. {message}", file=sys.stderr, flush=True)


# -- the workloads ------------------------------------------------------------------------------


def register_cases(app: StaffelApplication, count: int, notes: int) -> list[UUID]:
    ids = []
    with acting_as(ACTOR):
        for i in range(count):
            recorded = app.register_case(
                person=Person(f"Person{i}", "Bench", date(1990, 1, 1), "SY", ("ar",)),
                bamf_file_number=None,
                residence_municipality="Berlin",
                legal_status=LegalStatus.ASYLUM_SEEKER,
            )
            for _ in range(notes):
                app.record(recorded.id, "NoteRecorded", note_fields())
            ids.append(recorded.id)
    return ids


def register_dogs(app: BareApplication, count: int, notes: int) -> list[UUID]:
    ids = []
    for i in range(count):
        dog = Dog(name=f"Dog{i}")
        app.save(dog)
        for _ in range(notes):
            dog = app.repository.get(dog.id)
            dog.add_note(NOTE_TEXT, NOTE_CATEGORY.value)
            app.save(dog)
        ids.append(dog.id)
    return ids


def note_fields() -> dict[str, Any]:
    return {"text": NOTE_TEXT, "category": NOTE_CATEGORY}


def staffel_record(app: StaffelApplication, case_ids: list[UUID]) -> Op:
    ids = cycle(case_ids)
    fields = note_fields()

    def op() -> None:
        with acting_as(ACTOR):
            app.record(next(ids), "NoteRecorded", fields)

    return op


def bare_record(app: BareApplication, dog_ids: list[UUID]) -> Op:
    ids = cycle(dog_ids)

    def op() -> None:
        dog: Dog = app.repository.get(next(ids))
        dog.add_note(NOTE_TEXT, NOTE_CATEGORY.value)
        app.save(dog)

    return op


def loader(app: Application[UUID], aggregate_id: UUID, expected_version: int) -> Op:
    loaded: Aggregate = app.repository.get(aggregate_id)
    if loaded.version != expected_version:
        raise RuntimeError(f"loaded version {loaded.version}, expected {expected_version}")

    def op() -> None:
        app.repository.get(aggregate_id)

    return op


def bench_record(backend: Backend, mode: Mode, stack: ExitStack) -> Pair:
    staffel = stack.enter_context(RECORD_CONFIG.staffel(backend))
    bare = stack.enter_context(RECORD_CONFIG.bare(backend))
    case_ids = register_cases(staffel, mode.cases, mode.initial_notes)
    dog_ids = register_dogs(bare, mode.cases, mode.initial_notes)
    pair = Pair(
        "record",
        "events recorded (get, 1 event, save)",
        "events/s",
        note=(
            f"{mode.cases} aggregates registered with {mode.initial_notes} notes each, "
            f"recorded round-robin; {RECORD_CONFIG.describe()}"
        ),
    )
    return measure(
        pair,
        staffel_record(staffel, case_ids),
        bare_record(bare, dog_ids),
        mode,
        mode.max_record_ops,
    )


def build_long_case(backend: Backend) -> tuple[UUID, int]:
    """A case of ``LOADED_EVENTS`` events, recorded one by one with snapshotting on; returns its
    id and the version of its nearest (latest) snapshot."""
    builder = Config(cache_size=RECORD_CACHE_SIZE, snapshot_interval=SNAPSHOT_INTERVAL)
    with builder.staffel(backend) as app:
        (case_id,) = register_cases(app, 1, LOADED_EVENTS - 1)
        assert app.snapshots is not None
        snapshots = list(app.snapshots.get(case_id, desc=True, limit=1))
        return case_id, snapshots[0].originator_version if snapshots else 0


def build_long_dog(backend: Backend, snapshot_version: int) -> UUID:
    """The bare side's ``LOADED_EVENTS``-event aggregate, snapshotted at ``snapshot_version``."""
    builder = Config(cache_size=RECORD_CACHE_SIZE, snapshot_interval=0)
    with builder.bare(backend, snapshotting=True) as app:
        (dog_id,) = register_dogs(app, 1, LOADED_EVENTS - 1)
        if snapshot_version:
            app.take_snapshot(dog_id, version=snapshot_version)
        return dog_id


def bench_load(backend: Backend, mode: Mode, stack: ExitStack) -> tuple[Pair, Pair]:
    case_id, snapshot_version = build_long_case(backend)
    dog_id = build_long_dog(backend, snapshot_version)
    after = LOADED_EVENTS - snapshot_version
    plain = Pair(
        "load",
        f"{LOADED_EVENTS}-event aggregate loaded, no snapshot",
        "loads/s",
        note=f"repository.get, {LOAD_PLAIN.describe()}, fresh applications",
    )
    measure(
        plain,
        loader(stack.enter_context(LOAD_PLAIN.staffel(backend)), case_id, LOADED_EVENTS),
        loader(stack.enter_context(LOAD_PLAIN.bare(backend)), dog_id, LOADED_EVENTS),
        mode,
        mode.max_load_ops,
    )
    snapped = Pair(
        "load-snapshot",
        f"{LOADED_EVENTS}-event aggregate loaded, snapshot v{snapshot_version}",
        "loads/s",
        note=(
            f"repository.get, {LOAD_SNAPSHOT.describe()}; nearest snapshot at version "
            f"{snapshot_version} of {LOADED_EVENTS}, so {after} events replayed after it "
            "(Staffel: taken by the interval while recording; bare: app.take_snapshot at the "
            "same version); fresh applications"
        ),
    )
    measure(
        snapped,
        loader(stack.enter_context(LOAD_SNAPSHOT.staffel(backend)), case_id, LOADED_EVENTS),
        loader(
            stack.enter_context(LOAD_SNAPSHOT.bare(backend, snapshotting=True)),
            dog_id,
            LOADED_EVENTS,
        ),
        mode,
        mode.max_load_ops,
    )
    return plain, snapped


def bench_backend(backend: Backend, mode: Mode) -> list[Pair]:
    with ExitStack() as stack:
        progress(f"{backend.label}: recording")
        record = bench_record(backend, mode, stack)
        progress(f"{backend.label}: loading")
        return [record, *bench_load(backend, mode, stack)]


# -- PostgreSQL database for the run --------------------------------------------------------------


@contextmanager
def postgres_database() -> Iterator[str]:
    name = f"staffel_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(SERVER_URL + "/postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield f"{SERVER_URL}/{name}"
    finally:
        with psycopg.connect(SERVER_URL + "/postgres", autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


# -- context and report ---------------------------------------------------------------------------


def _proc(path: str, key: str) -> list[str]:
    try:
        lines = Path(path).read_text().splitlines()
    except OSError:
        return []
    return [line.split(":", 1)[1].strip() for line in lines if line.split(":")[0].strip() == key]


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def machine_context(pg_url: str, mode: Mode) -> list[tuple[str, str]]:
    models = _proc("/proc/cpuinfo", "model name")
    mem = _proc("/proc/meminfo", "MemTotal")
    ram = f"{int(mem[0].split()[0]) / 1024 / 1024:.1f} GiB" if mem else "unknown"
    with psycopg.connect(pg_url) as conn:
        server = conn.execute("SELECT version()").fetchone()
        fsync = conn.execute("SHOW fsync").fetchone()
        sync_commit = conn.execute("SHOW synchronous_commit").fetchone()
    settings = Settings(database_url="sqlite:///unused.db")
    return [
        ("date/time", datetime.now().astimezone().isoformat(timespec="seconds")),
        ("load average", f"{load_average()} at start (other processes skew the figures)"),
        ("CPU", f"{models[0] if models else platform.processor()} x {len(models)} (/proc/cpuinfo)"),
        ("os.cpu_count()", str(os.cpu_count())),
        ("RAM", ram),
        ("OS", platform.platform()),
        ("Python", sys.version.split()[0] + f" ({platform.python_implementation()})"),
        ("eventsourcing", package_version("eventsourcing")),
        ("psycopg", f"{psycopg.__version__} (libpq {psycopg.pq.version()}, {psycopg.pq.__impl__})"),
        ("PostgreSQL", str(server[0]) if server else "?"),
        (
            "PostgreSQL settings",
            f"fsync={fsync and fsync[0]}, synchronous_commit={sync_commit and sync_commit[0]}; "
            f"database {pg_url.rsplit('/', 1)[1]} (dropped after)",
        ),
        ("SQLite", f"{sqlite3.sqlite_version} (temporary file, WAL, one file per side)"),
        (
            "mode",
            f"{mode.name}: {REPEATS} repetitions per measurement, median shown; warm-up "
            f"{mode.warmup} ops per side; each repetition alternates the sides in {BLOCKS} blocks; "
            "ops sized so one repetition of the faster side takes "
            f"~{mode.target_seconds} s",
        ),
        ("record", RECORD_CONFIG.describe() + " (Settings defaults), both sides"),
        ("load", f"{LOAD_PLAIN.describe()} / {LOAD_SNAPSHOT.describe()}, both sides"),
        (
            "persistence env",
            "library_env(Settings) on both sides: PostgreSQL pool "
            f"{settings.postgres_pool_size}, pre-ping on, lock timeout "
            f"{settings.lock_timeout_seconds} s; cipher {'on' if settings.cipher_key else 'off'}, "
            f"compression {'on' if settings.compress else 'off'}",
        ),
        (
            "Staffel side",
            "StaffelApplication via build_case_application, acting_as per command, "
            "NoteRecorded(text, category); text is a personal field, sealed with the case's "
            "key (AES-GCM, ADR 0008) in every record, so Staffel's figures include sealing; "
            "loading replays the sealed boxes (the aggregate never opens them)",
        ),
        (
            "bare side",
            "eventsourcing Application (name BareBench) with a Dog aggregate, "
            "@event add_note(text, category); nothing sealed",
        ),
    ]


def _rate(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"


def report(
    context: list[tuple[str, str]], results: dict[str, list[Pair]], *, quick: bool = False
) -> bool:
    width = max(len(k) for k, _ in context)
    print("Staffel event store vs the bare eventsourcing library")
    print("=" * 54)
    for key, value in context:
        print(f"{key:<{width}}  {value}")
    print()

    backends = list(results)
    label_width = max(len(p.label) + len(p.unit) + 3 for pairs in results.values() for p in pairs)
    cell = 10 + 10 + 12  # Staffel, bare, overhead (with its flag column)
    head = f"{'':<{label_width}}" + "".join(f" | {b:^{cell}}" for b in backends)
    sub = f"{'measurement (median of 3)':<{label_width}}" + "".join(
        f" | {'Staffel':>10}{'bare':>10}{'overhead':>11} " for _ in backends
    )
    print(head.rstrip())
    print(sub.rstrip())
    print("-" * len(sub))
    flagged: list[str] = []
    for index, first in enumerate(results[backends[0]]):
        line = f"{first.label + ' (' + first.unit + ')':<{label_width}}"
        for backend in backends:
            pair = results[backend][index]
            mark = "!" if pair.overhead > FLAG_PERCENT else " "
            line += (
                f" | {_rate(pair.staffel_rate):>10}{_rate(pair.bare_rate):>10}"
                f"{pair.overhead:>+9.1f} %{mark}"
            )
            if pair.overhead > FLAG_PERCENT:
                flagged.append(f"{backend}: {pair.label} (+{pair.overhead:.1f} %)")
        print(line.rstrip())
    print()
    print(
        "overhead = bare rate / Staffel rate - 1 (Staffel's extra time per operation); "
        f"'!' marks a pair above {FLAG_PERCENT:.0f} %"
    )
    print()
    print("details: ops per repetition, per-op time (median), every repetition")
    for backend in backends:
        for pair in results[backend]:
            print(f"  {backend} / {pair.label}: {pair.ops} ops per side per repetition")
            print(f"      {pair.note}")
            for side, rates in (("Staffel", pair.staffel), ("bare", pair.bare)):
                reps = ", ".join(_rate(r) for r in rates)
                per_op = 1e6 / statistics.median(rates)
                print(f"      {side:<8} {per_op:>9.1f} µs/op   runs: {reps} {pair.unit}")
    print()
    if flagged:
        print(f"FLAGGED (Staffel overhead above {FLAG_PERCENT:.0f} %):")
        for item in flagged:
            print(f"  - {item}")
    else:
        print(f"No pair above {FLAG_PERCENT:.0f} % overhead.")
    if quick:
        print("(--quick is a smoke run: counts this small are noisy; quote only a full run)")
    return bool(flagged)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="small counts, for a CI smoke run")
    args = parser.parse_args(argv)
    mode = QUICK if args.quick else FULL
    started = time.perf_counter()
    results: dict[str, list[Pair]] = {}
    with tempfile.TemporaryDirectory(prefix="staffel-bench-") as tmp, postgres_database() as pg:
        context = machine_context(pg, mode)
        sqlite_backend = Backend(
            "SQLite", f"sqlite:///{tmp}/staffel.db", {"SQLITE_DBNAME": f"{tmp}/bare.db"}
        )
        postgres_backend = Backend("PostgreSQL", pg, {})
        for backend in (sqlite_backend, postgres_backend):
            results[backend.label] = bench_backend(backend, mode)
    report(context, results, quick=args.quick)
    print(
        f"\n(total run time {time.perf_counter() - started:.0f} s; "
        f"load average at the end {load_average()})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
