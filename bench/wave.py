"""A June-2022-style wave of Rechtskreiswechsel, end to end on PostgreSQL (issue 5's acceptance).

    .venv/bin/python bench/wave.py [--cases N] [--quick] [--batch B] [--sample S] [--cache-size C]

On a PostgreSQL database created for the run (``STAFFEL_BENCH_POSTGRES_URL``, default
``postgresql://postgres@127.0.0.1:5432``; dropped at the end), with one ``StaffelApplication``
(``build_case_application``, "today" fixed at 1 June 2022) and the demo organisations:

0. setup, not part of the wave: N cases registered, held by the Agentur für Arbeit Aachen-Düren,
   residence in the municipalities of Kreis Heinsberg (all served by jobcenter-heinsberg), each
   with a BAMF file number: ``Case.register`` + ``BamfFileNumberIndex.point`` built directly and
   saved B cases per ``app.save``. The projections and the handover policy then follow these
   registrations, as they would have done live before the wave.
1. AsylumRecognized for every case. A sample of S cases one at a time through
   ``StaffelApplication.record`` (the path ``POST /cases/{id}/events`` takes), the rest batched:
   ``get_cases`` (one read for the batch), ``recognize_asylum``, B cases per ``app.save``.
2. The handover policy offers: ``PolicyWorker.step`` (as the service runs it) until it has caught
   up with the log. Each step reads its cases at once and saves all its offers, each with its
   idempotency record, in one transaction.
3. jobcenter-heinsberg accepts every offer with the case's current version and digest. A sample
   of S cases one at a time through ``StaffelApplication.accept_handover`` (what
   ``POST /cases/{id}/handover/accept`` does; the version and digest are read beforehand,
   untimed, as the caseworker's earlier GET), the rest batched: ``get_cases``,
   ``case.accept_handover``, B cases per ``app.save``.
4. The projections catch up as the service's runner feeds them (``step_together``): each batch
   read and decoded once, then applied by every projection (concurrently on PostgreSQL).

Each phase's CPU seconds are printed (this process, PostgreSQL, other processes): on a shared
machine the wall times say little without them.

The wave is phases 1 to 4; the phases run one after the other in one process (in the service the
projections and the policy follow concurrently in a thread of the same process). The report gives
per phase count, seconds and rate; end to end, cases handed over per second, and the time for
100,000 cases extrapolated linearly from the per-case cost of each phase, for the run as measured
and for the all-batched and all-one-at-a-time variants of phases 1 and 3. Target: 100,000 cases
within 3 minutes (issue 16).
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TextIO
from uuid import UUID

if __package__ in (None, ""):  # run as a script: make the project's packages importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import structlog

from adapters.logging import configure_logging
from adapters.orgs import Organisations
from adapters.settings import Settings
from adapters.views import schema
from adapters.views.store import ViewStoreMixin
from bench.api import CLOCK_TICKS, CpuMeter, CpuSnapshot
from bench.store import QUICK as STORE_QUICK_MODE
from bench.store import load_average, machine_context, postgres_database
from bootstrap import build_case_application
from domain.actor import Actor, acting_as
from domain.aggregates.bamf_index import BamfFileNumberIndex
from domain.aggregates.case import Case
from domain.application import StaffelApplication
from domain.sealing import sealing_with
from domain.values import LegalStatus, Person, Protection
from projections.base import Batch
from projections.registry import PROJECTIONS
from workers.handover_policy import PolicyWorker
from workers.projections import (
    BATCH_SIZE,
    ProjectionWorker,
    ensure_generation,
    read_batch,
    step_together,
)
from workers.projections import build_view_store as build_store

WAVE_DAY = date(2022, 6, 1)  # "today" of the application: offers and acceptances on this day
DECIDED_FROM = date(2022, 5, 2)  # recognitions decided in May 2022: SGB II from 1 June (month rule)
AGENTUR = "agentur-aachen-dueren"
JOBCENTER = "jobcenter-heinsberg"
AGENTUR_STAFF = Actor("staff-bench-aa", AGENTUR)
JOBCENTER_STAFF = Actor("staff-bench-jc", JOBCENTER)
OFFICE = "Integration Point Heinsberg"
TARGET_CASES = 100_000
TARGET_SECONDS = 180.0  # issue 16 (issue 5 asked for 10 minutes)
DEFAULT_CASES = 20_000
QUICK_CASES = 1_000
DEFAULT_BATCH = 100
POLICY_BATCH = 200  # PolicyWorker's default: notifications read per step
EVENTS_PER_CASE = 5  # registered, recognized, offered, accepted, jurisdiction changed
GIVEN_NAMES = ("Rahel", "Yonas", "Amira", "Omar", "Farida", "Mariam", "Nadia", "Mamadou", "Leyla")
FAMILY_NAMES = ("Tesfaye", "Haile", "Haddad", "Khalil", "Rahimi", "Jalali", "Ibrahim", "Diallo")
NATIONALITIES = (("SY", ("ar",)), ("AF", ("fa", "ps")), ("IQ", ("ar", "ku")), ("ER", ("ti",)))
PROTECTIONS = (
    Protection.REFUGEE,
    Protection.SUBSIDIARY_PROTECTION,
    Protection.REFUGEE,
    Protection.ASYLUM_ENTITLED,
    Protection.DEPORTATION_BAN,
)
# Rows of bench/store.py's machine context that describe the machine, not that benchmark.
CONTEXT_KEYS = (
    "date/time",
    "load average",
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


def progress(message: str) -> None:
    print(f"  .. {message}", file=sys.stderr, flush=True)


def chunks(items: Sequence[UUID], size: int) -> Iterator[Sequence[UUID]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _rate(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"


def _duration(seconds: float) -> str:
    minutes, rest = divmod(seconds, 60)
    return f"{seconds:,.0f} s ({int(minutes)} min {rest:02.0f} s)"


@dataclass
class Timing:
    """One measured piece of work: ``count`` units (cases, unless ``unit`` says otherwise)."""

    label: str
    count: int
    seconds: float
    unit: str = "cases"
    note: str = ""

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    @property
    def per_case(self) -> float:
        return self.seconds / self.count if self.count else 0.0


@dataclass
class Phase:
    number: str
    label: str
    cases: int
    total: Timing
    parts: list[Timing] = field(default_factory=list)
    in_wave: bool = True
    # parts[0] and parts[1] are the same command one case at a time and batched
    alternatives: bool = False
    cpu: tuple[float, float, float] | None = None  # CPU seconds: this process, PostgreSQL, others


@dataclass
class Run:
    cases: int
    batch: int
    sample: int
    cache_size: int
    snapshot_interval: int
    postgres: bool = True  # the wave always runs on PostgreSQL
    phases: list[Phase] = field(default_factory=list)
    checks: list[tuple[str, int, int]] = field(default_factory=list)  # (what, found, expected)

    def phase(self, number: str) -> Phase:
        return next(p for p in self.phases if p.number == number)

    @property
    def wave_seconds(self) -> float:
        return sum(p.total.seconds for p in self.phases if p.in_wave)


class Stopwatch:
    def __init__(self, *, collect: bool = True) -> None:
        """``collect``: run the garbage collector first (not inside another stopwatch's span)."""
        if collect:
            gc.collect()
        self.started = time.perf_counter()

    def timing(self, label: str, count: int, unit: str = "cases", note: str = "") -> Timing:
        return Timing(label, count, time.perf_counter() - self.started, unit, note)


# -- the wave -------------------------------------------------------------------------------------


def bamf_number(i: int) -> str:
    return f"{8_000_000 + i}-{(475, 423, 438, 224)[i % 4]}"


def new_case(i: int, municipalities: Sequence[str]) -> Case:
    nationality, languages = NATIONALITIES[i % len(NATIONALITIES)]
    return Case.register(
        person=Person(
            GIVEN_NAMES[i % len(GIVEN_NAMES)],
            f"{FAMILY_NAMES[i % len(FAMILY_NAMES)]}{i}",
            date(1980, 1, 1) + timedelta(days=i % 9000),
            nationality,
            languages,
        ),
        bamf_file_number=bamf_number(i),
        residence_municipality=municipalities[i % len(municipalities)],
        legal_status=LegalStatus.ASYLUM_SEEKER,
        office=OFFICE,
        registered_on=date(2021, 9, 1) + timedelta(days=i % 240),
    )


def register(app: StaffelApplication, run: Run, municipalities: Sequence[str]) -> list[UUID]:
    ids: list[UUID] = []
    step = max(1, run.cases // 10)
    watch = Stopwatch()
    # the cases are built here, outside the application's commands: seal their personal fields
    # with its per-case keys, as its commands do (ADR 0008)
    with acting_as(AGENTUR_STAFF), sealing_with(app.keys):
        for start in range(0, run.cases, run.batch):
            cases = [
                new_case(i, municipalities) for i in range(start, min(run.cases, start + run.batch))
            ]
            indexes = [
                BamfFileNumberIndex.point(app.bamf_index_id(bamf_number(start + k)), c.id)
                for k, c in enumerate(cases)
            ]
            app.save(*cases, *indexes)
            if (len(ids) + len(cases)) // step > len(ids) // step:
                progress(f"phase 0: {len(ids) + len(cases):,} registered")
            ids += [c.id for c in cases]
    total = watch.timing(
        "Case.register + BamfFileNumberIndex.point",
        len(ids),
        note=f"{run.batch} cases (+{run.batch} index aggregates) per app.save",
    )
    run.phases.append(Phase("0", "register cases (setup)", len(ids), total, in_wave=False))
    return ids


def follow(
    run: Run, policy: PolicyWorker, workers: Sequence[ProjectionWorker], position: int
) -> None:
    """Setup: the policy and the projections follow the registrations, as they would live."""
    watch = Stopwatch()
    while policy.step():
        pass
    parts = [watch.timing("PolicyWorker.step (no triggers)", position, "notifications")]
    for worker in workers:
        w = Stopwatch(collect=False)
        events = worker.catch_up()
        parts.append(w.timing(f"ProjectionWorker {worker.projection.name}", events, "events"))
    total = watch.timing("policy and projections follow", run.cases)
    run.phases.append(
        Phase(
            "0b",
            "policy + projections follow registrations (setup)",
            run.cases,
            total,
            parts,
            False,
        )
    )


def recognition(i: int) -> dict[str, Any]:
    return {
        "protection": PROTECTIONS[i % len(PROTECTIONS)],
        "decided_on": DECIDED_FROM + timedelta(days=i % 28),
    }


def recognize(app: StaffelApplication, run: Run, ids: Sequence[UUID]) -> None:
    sample, rest = ids[: run.sample], ids[run.sample :]
    watch = Stopwatch()
    with acting_as(AGENTUR_STAFF), sealing_with(app.keys):
        for i, case_id in enumerate(sample):
            app.record(case_id, "AsylumRecognized", recognition(i))
        one = watch.timing(
            "one at a time: StaffelApplication.record", len(sample), note="the API path"
        )
        progress(f"phase 1: {len(sample):,} one at a time, {one.rate:,.0f}/s")
        batched = Stopwatch(collect=False)
        done = 0
        for chunk in chunks(rest, run.batch):
            cases = app.get_cases(chunk)
            for k, case in enumerate(cases):
                case.recognize_asylum(**recognition(run.sample + done + k))
            app.save(*cases)
            done += len(cases)
        many = batched.timing(
            "batched: get_cases, recognize_asylum, app.save",
            done,
            note=f"{run.batch} cases per app.save",
        )
    progress(f"phase 1: {done:,} batched, {many.rate:,.0f}/s")
    total = watch.timing("AsylumRecognized recorded", len(ids))
    run.phases.append(
        Phase(
            "1", "AsylumRecognized for every case", len(ids), total, [one, many], alternatives=True
        )
    )


def offer(app: StaffelApplication, run: Run, policy: PolicyWorker) -> None:
    start = policy.position
    steps = 0
    watch = Stopwatch()
    while policy.step():
        steps += 1
        if steps % 25 == 0:
            progress(f"phase 2: policy at {policy.position - start:,} notifications")
    notifications = policy.position - start
    total = watch.timing("PolicyWorker.step until caught up", run.cases)
    parts = [
        Timing(
            "notifications read by the policy",
            notifications,
            total.seconds,
            "notifications",
            note=f"{POLICY_BATCH} per step; recognitions and its own offers",
        )
    ]
    run.phases.append(Phase("2", "handover policy offers", run.cases, total, parts))
    progress(f"phase 2: {total.rate:,.0f} cases/s")


def accept(app: StaffelApplication, run: Run, ids: Sequence[UUID]) -> None:
    sample, rest = ids[: run.sample], ids[run.sample :]
    # The caseworker's earlier GET: version and digest to acknowledge (untimed).
    acknowledged = [(c.version, c.digest) for c in map(app.get_case, sample)]
    watch = Stopwatch()
    with acting_as(JOBCENTER_STAFF), sealing_with(app.keys):
        for case_id, (version, digest) in zip(sample, acknowledged, strict=True):
            app.accept_handover(case_id, version=version, digest=digest)
        one = watch.timing(
            "one at a time: StaffelApplication.accept_handover",
            len(sample),
            note="the API path; version and digest read beforehand, untimed",
        )
        progress(f"phase 3: {len(sample):,} one at a time, {one.rate:,.0f}/s")
        batched = Stopwatch(collect=False)
        done = 0
        for chunk in chunks(rest, run.batch):
            cases = app.get_cases(chunk)
            for case in cases:
                case.accept_handover(
                    version=case.version, digest=case.digest, accepted_on=app.today()
                )
            app.save(*cases)
            done += len(cases)
        many = batched.timing(
            "batched: get_cases, accept_handover, app.save",
            done,
            note=f"{run.batch} cases (2 events each) per app.save",
        )
    progress(f"phase 3: {done:,} batched, {many.rate:,.0f}/s")
    # The one-at-a-time sample's reads are excluded from the phase total as well.
    total = Timing("HandoverAccepted + JurisdictionChanged", len(ids), one.seconds + many.seconds)
    run.phases.append(
        Phase(
            "3",
            "the Jobcenter accepts every offer",
            len(ids),
            total,
            [one, many],
            alternatives=True,
        )
    )


def project(app: StaffelApplication, run: Run, workers: Sequence[ProjectionWorker]) -> None:
    """As the service's runner does (``step_together``): each batch read, decoded and opened
    once for all the projections, then applied by each in its own transaction."""
    spent: dict[str, float] = {w.projection.name: 0.0 for w in workers}
    events: dict[str, int] = dict.fromkeys(spent, 0)

    def applied(worker: ProjectionWorker, n: int, seconds: float) -> None:
        spent[worker.projection.name] += seconds
        events[worker.projection.name] += n

    reading = [0.0]

    def read(app: StaffelApplication, position: int, limit: int) -> Batch:
        started = time.perf_counter()
        batch = read_batch(app, position, limit)
        reading[0] += time.perf_counter() - started
        return batch

    watch = Stopwatch()
    while step_together(app, workers, BATCH_SIZE, applied, read):
        pass
    total = watch.timing("projections caught up", run.cases)
    concurrently = "concurrently" if len(workers) > 1 and run.postgres else "one after another"
    parts = [
        Timing(
            "read, decode and open each batch once",
            max(events.values()),
            reading[0],
            "events",
            note=f"batch size {BATCH_SIZE}; then the projections apply it {concurrently}",
        )
    ]
    parts += [
        Timing(f"ProjectionWorker {name}.apply", events[name], seconds, "events")
        for name, seconds in spent.items()
    ]
    for part in parts:
        progress(f"phase 4: {part.label} {part.rate:,.0f} events/s")
    run.phases.append(Phase("4", "projections catch up", run.cases, total, parts))


def metered(run: Run, meter: CpuMeter, phase: Any, *args: Any) -> None:
    """Run ``phase`` and note the CPU seconds it took of this process, of PostgreSQL (this
    database's backends and the server's own processes) and of everything else on the machine."""
    before = meter.snapshot()
    phase(*args)
    after = meter.snapshot()
    run.phases[-1].cpu = cpu_seconds(before, after)


def cpu_seconds(a: CpuSnapshot, b: CpuSnapshot) -> tuple[float, float, float]:
    mine = (b.client - a.client) / CLOCK_TICKS
    postgres = (b.postgres - a.postgres) / CLOCK_TICKS
    machine = (b.machine_busy - a.machine_busy) / CLOCK_TICKS
    return mine, postgres, max(0.0, machine - mine - postgres)


# -- checks ---------------------------------------------------------------------------------------


def count(store: ViewStoreMixin, statement: str, params: tuple[Any, ...] = ()) -> dict[str, int]:
    with store.cursor() as curs:
        curs.execute(statement, params)
        return {str(row["k"]): int(row["n"]) for row in curs.fetchall()}


def check(app: StaffelApplication, store: ViewStoreMixin, run: Run) -> None:
    events_table = app.recorder.events_table_name  # type: ignore[attr-defined]
    topics = count(store, f"SELECT topic AS k, COUNT(*) AS n FROM {events_table} GROUP BY topic")
    for topic in (
        "staffel:Case.CaseRegistered",
        "staffel:BamfFileNumberIndex.Registered",
        "staffel:Case.AsylumRecognized",
        "staffel:Case.HandoverOffered",
        "staffel:Case.HandoverAccepted",
        "staffel:Case.JurisdictionChanged",
    ):
        run.checks.append(
            (f"stored {topic.removeprefix('staffel:')}", topics.get(topic, 0), run.cases)
        )
    run.checks.append(
        ("stored events in all", sum(topics.values()), run.cases * (EVENTS_PER_CASE + 1))
    )
    summary = store.active_generation("case_summary") or 0
    history = store.active_generation("case_history") or 0
    holders = count(
        store,
        f"SELECT holder AS k, COUNT(*) AS n FROM {schema.table('case_summary', summary)}"
        " GROUP BY holder",
    )
    run.checks.append((f"case_summary: held by {JOBCENTER}", holders.get(JOBCENTER, 0), run.cases))
    states = count(
        store,
        f"SELECT state AS k, COUNT(*) AS n FROM {schema.table('handovers', summary)}"
        " WHERE to_org = %s GROUP BY state",
        (JOBCENTER,),
    )
    run.checks.append((f"handovers: accepted by {JOBCENTER}", states.get("accepted", 0), run.cases))
    rows = count(
        store, f"SELECT 'all' AS k, COUNT(*) AS n FROM {schema.table('case_history', history)}"
    )
    run.checks.append(("case_history rows", rows.get("all", 0), run.cases * EVENTS_PER_CASE))


# -- report ---------------------------------------------------------------------------------------


def report(context: list[tuple[str, str]], run: Run) -> bool:
    width = max(len(k) for k, _ in context)
    print("Staffel: a June-2022-style wave of Rechtskreiswechsel on PostgreSQL")
    print("=" * 68)
    for key, value in context:
        print(f"{key:<{width}}  {value}")
    print()
    header = f"{'phase':<6}{'what':<58}{'count':>9}{'seconds':>9}{'rate/s':>9}  unit"
    print(header)
    print("-" * len(header))
    for p in run.phases:
        t = p.total
        print(
            f"{p.number:<6}{p.label:<58}{t.count:>9,}{t.seconds:>9.2f}{_rate(t.rate):>9}  {t.unit}"
        )
        for part in p.parts:
            print(
                f"{'':<8}{part.label:<56}{part.count:>9,}{part.seconds:>9.2f}"
                f"{_rate(part.rate):>9}  {part.unit}"
            )
            if part.note:
                print(f"{'':<10}({part.note})")
        if p.cpu is not None:
            mine, postgres, others = p.cpu
            print(
                f"{'':<8}CPU seconds: this process {mine:.1f}, PostgreSQL {postgres:.1f}, "
                f"other processes {others:.1f}"
            )
    print()

    wave = [p for p in run.phases if p.in_wave]
    seconds = run.wave_seconds
    print(f"End to end, the wave (phases {wave[0].number} to {wave[-1].number}):")
    rate = run.cases / seconds
    print(f"  {run.cases:,} cases handed over in {seconds:,.1f} s = {rate:,.0f} cases/s")
    print("  share of the wave's time:")
    for p in wave:
        print(f"    phase {p.number} {p.label:<40} {100 * p.total.seconds / seconds:5.1f} %")
    cpu = [p.cpu for p in wave if p.cpu is not None]
    if len(cpu) == len(wave):
        mine, postgres, others = (sum(c[i] for c in cpu) for i in range(3))
        cores = os.cpu_count() or 1
        print(
            f"  CPU seconds of the wave: this process {mine:.1f}, PostgreSQL {postgres:.1f}, "
            f"other processes on the machine {others:.1f} ({seconds * cores:.0f} core-seconds "
            f"in all on {cores} cores)"
        )
    bottleneck = max(wave, key=lambda p: p.total.seconds)
    print(
        f"  bottleneck: phase {bottleneck.number} ({bottleneck.label}), "
        f"{100 * bottleneck.total.seconds / seconds:.0f} % of the wave"
    )
    setup = sum(p.total.seconds for p in run.phases if not p.in_wave)
    print(
        f"  with the registrations and the followers' setup too: {seconds + setup:,.1f} s "
        f"= {run.cases / (seconds + setup):,.0f} cases/s"
    )
    print()

    one_at_a_time, batched = {}, {}
    for p in wave:
        if p.alternatives and p.parts[0].count and p.parts[1].count:
            one_at_a_time[p.number] = p.parts[0].per_case
            batched[p.number] = p.parts[1].per_case
    variants: list[tuple[str, float]] = [("as run", seconds / run.cases)]
    if batched:
        common = sum(p.total.per_case for p in wave if p.number not in batched)
        names = ", ".join(batched)
        variants.append(
            (f"phases {names} all batched ({run.batch}/save)", common + sum(batched.values()))
        )
        variants.append(
            (f"phases {names} all one at a time (API path)", common + sum(one_at_a_time.values()))
        )
    measured = "measured" if run.cases >= TARGET_CASES else "projected linearly from per-case cost"
    print(f"Time for {TARGET_CASES:,} cases ({measured}); target {TARGET_SECONDS / 60:.0f} min:")
    met_as_run = False
    for label, per_case in variants:
        total = per_case * TARGET_CASES
        met = total <= TARGET_SECONDS
        met_as_run = met_as_run or (label == "as run" and met)
        print(
            f"  {label:<48} {_duration(total):>22}  {1 / per_case:>6,.0f} cases/s  "
            f"{'meets' if met else 'MISSES'} the target"
        )
    if run.cases < TARGET_CASES:
        print(
            "  (linear: assumes each phase's per-case cost stays as measured at "
            f"{run.cases:,} cases; the tables and indexes grow {TARGET_CASES / run.cases:.0f}x)"
        )
    print()
    print("Checks:")
    failed = False
    for what, found, expected in run.checks:
        ok = found == expected
        failed = failed or not ok
        print(f"  {'ok  ' if ok else 'FAIL'} {what}: {found:,} (expected {expected:,})")
    return failed


# -- main -----------------------------------------------------------------------------------------


def configure_quiet_logging(sink: TextIO) -> None:
    """The service's JSON logs at INFO (the policy logs every offer), rendered into ``sink``: the
    cost of logging stays in the figures, the lines stay out of the report."""
    configure_logging(fmt="json", level="INFO")
    structlog.configure(
        logger_factory=structlog.PrintLoggerFactory(file=sink),
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--cases", type=int, default=None, help=f"default {DEFAULT_CASES:,}")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_CASES:,} cases (smoke run)")
    parser.add_argument("--batch", type=int, default=DEFAULT_BATCH, help="cases per app.save")
    parser.add_argument(
        "--sample", type=int, default=None, help="cases one at a time in phases 1 and 3"
    )
    parser.add_argument(
        "--cache-size", type=int, default=None, help="aggregate cache (default: max(1000, N))"
    )
    args = parser.parse_args(argv)
    cases = args.cases or (QUICK_CASES if args.quick else DEFAULT_CASES)
    sample = args.sample if args.sample is not None else min(cases // 2, max(200, cases // 20))
    defaults = Settings(database_url="sqlite:///unused.db")
    cache_size = (
        args.cache_size
        if args.cache_size is not None
        else max(defaults.aggregate_cache_size, cases)
    )
    run = Run(cases, args.batch, min(sample, cases), cache_size, defaults.snapshot_interval)
    orgs = Organisations.load(None)
    jobcenter = orgs.get(JOBCENTER)
    if jobcenter is None or AGENTUR not in orgs:
        raise SystemExit(f"the demo organisations lack {JOBCENTER} or {AGENTUR}")
    municipalities = jobcenter.serves

    started = time.perf_counter()
    with open(os.devnull, "w") as sink, postgres_database() as pg:
        configure_quiet_logging(sink)
        store_context = dict(machine_context(pg, STORE_QUICK_MODE))
        settings = Settings(
            database_url=pg,
            aggregate_cache_size=cache_size,
            snapshot_interval=run.snapshot_interval,
        )
        context = [(k, store_context[k]) for k in CONTEXT_KEYS if k in store_context]
        context += [
            ("cases", f"{cases:,} (target {TARGET_CASES:,} within {TARGET_SECONDS / 60:.0f} min)"),
            (
                "settings",
                f"aggregate cache {cache_size:,} (fast-forward), snapshot every "
                f"{run.snapshot_interval} events, PostgreSQL pool {settings.postgres_pool_size}; "
                "cipher off, compression off",
            ),
            (
                "sealing",
                "personal fields of case events sealed (AES-GCM, one key per case, ADR 0008): "
                "the registrations' person and BAMF file number, sealed while building them; "
                "the projections open them per batch",
            ),
            (
                "batching",
                f"{run.batch} cases per app.save in phases 0, 1b, 3b; sample of {run.sample:,} "
                "cases one at a time in phases 1a, 3a; policy reads "
                f"{POLICY_BATCH} notifications per step, projections {BATCH_SIZE} per batch",
            ),
            (
                "wave",
                f"{AGENTUR} -> {JOBCENTER}; residence in {len(municipalities)} Heinsberg "
                f"municipalities; recognitions decided May 2022, app's today {WAVE_DAY}",
            ),
            ("logging", "service JSON logs at INFO, rendered to /dev/null"),
        ]
        with build_case_application(settings, today=lambda: WAVE_DAY) as app:
            store = build_store(app)
            policy = PolicyWorker(
                app,
                store,
                orgs.jobcenter_for,
                lambda org_id: bool((o := orgs.get(org_id)) and o.is_jobcenter),
                batch_size=POLICY_BATCH,
            )
            workers = [
                ProjectionWorker(app, store, p, ensure_generation(store, p)[0]) for p in PROJECTIONS
            ]
            progress(f"phase 0: registering {cases:,} cases")
            ids = register(app, run, municipalities)
            follow(run, policy, workers, app.recorder.max_notification_id() or 0)
            meter = CpuMeter(pg.rsplit("/", 1)[-1])
            progress("phase 1: recognitions")
            metered(run, meter, recognize, app, run, ids)
            progress("phase 2: policy")
            metered(run, meter, offer, app, run, policy)
            progress("phase 3: acceptances")
            metered(run, meter, accept, app, run, ids)
            progress("phase 4: projections")
            metered(run, meter, project, app, run, workers)
            check(app, store, run)
    failed = report(context, run)
    print(
        f"\n(total run time {time.perf_counter() - started:.0f} s; "
        f"load average at the end {load_average()})"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
