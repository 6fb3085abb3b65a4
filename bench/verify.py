"""Audit verification against the bare library's read-and-decode rate, on PostgreSQL.

    .venv/bin/python bench/verify.py [--events N | --quick]

Populates a PostgreSQL database created for the run (``STAFFEL_BENCH_POSTGRES_URL``, default
``postgresql://postgres@127.0.0.1:5432``; dropped at the end) with N case events (default
1,000,000; ``--quick``: 20,000), many cases per save, ten events a case. Then, on the same store
in the same run, alternating three times:

* bare: every notification from position 1 in pages (``select_notifications``), each decoded by
  the library (``mapper.to_domain_event``: decode, upcast, build the event object);
* verify: ``adapters.audit.verify.verify_store`` on the same store: every case event read in the
  same pages, decoded to canonical values without upcasting, its SHA-256 recomputed and compared,
  its link to its predecessor checked, every case's head kept (what a checkpoint signs).

It prints events per second (the median of three) and verify's share of the bare rate; the target
is at least 50 %.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from importlib.metadata import version as package_version
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the project's packages importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg
from psycopg import sql

from adapters.audit.rows import PAGE, pages
from adapters.audit.verify import verify_store
from adapters.settings import Settings
from bootstrap import build_case_application
from domain.actor import Actor, acting_as
from domain.aggregates import case_events as ev
from domain.aggregates.case import Case
from domain.application import StaffelApplication
from domain.sealing import sealing_with
from domain.values import Cefr, LanguageSkill, LegalStatus, NoteCategory, Person, Plan

SERVER_URL = os.environ.get("STAFFEL_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432")
EVENTS_PER_CASE = 10
CASES_PER_SAVE = 100
REPEATS = 3
TARGET = 0.5
ACTOR = Actor("staff-bench-1", "aa-bench")
DAY = date(2025, 3, 3)


def new_case(i: int) -> Case:
    """A registration and nine events of the usual mix (notes, steps, an assessment, a move)."""
    case = Case.register(
        person=Person("Amina", f"Muster{i}", date(1990, 1, 1), "SY", ("ar", "en")),
        bamf_file_number=None,
        residence_municipality="Berlin",
        legal_status=LegalStatus.ASYLUM_SEEKER,
        registered_on=DAY + timedelta(days=i % 365),
    )
    for k in range(1, EVENTS_PER_CASE):
        if k % 4 == 1:
            case.record_fact(
                ev.NoteRecorded,
                text=f"Beratungsgespräch {k} geführt, Unterlagen besprochen.",
                category=NoteCategory.COUNSELLING,
            )
        elif k % 4 == 2:
            case.agree_step(
                step_id=f"s{k}",
                description="Lebenslauf erstellen",
                due_on=DAY,
                plan=Plan.KOOPERATIONSPLAN,
            )
        elif k % 4 == 3:
            case.record_fact(ev.ResidenceChanged, municipality=f"Ort {k}", moved_on=DAY)
        else:
            case.record_fact(
                ev.CompetenceAssessed,
                instrument="MYSKILLS",
                assessed_on=DAY,
                german_level=Cefr.A2,
                languages=(LanguageSkill("ar", Cefr.C2),),
                school_years=10,
                school_certificate=None,
                vocational_training=(),
                work_experience=(),
                qualification_recognition="none",
                support_need=False,
                notes=None,
            )
    return case


def populate(app: StaffelApplication, events: int) -> float:
    cases = max(1, events // EVENTS_PER_CASE)
    started, last = time.perf_counter(), time.perf_counter()
    # the cases are built here, outside the application's commands: seal their personal fields
    # with its per-case keys, as its commands do (ADR 0008)
    with acting_as(ACTOR), sealing_with(app.keys):
        for first in range(0, cases, CASES_PER_SAVE):
            app.save(*(new_case(i) for i in range(first, min(cases, first + CASES_PER_SAVE))))
            if time.perf_counter() - last > 15:
                last = time.perf_counter()
                done = (first + CASES_PER_SAVE) * EVENTS_PER_CASE
                print(f"  populating: {done:,} of {cases * EVENTS_PER_CASE:,} events", flush=True)
    return time.perf_counter() - started


def bare(app: StaffelApplication) -> int:
    """The library alone: every notification, in the same pages, decoded into its event."""
    count, to_domain_event = 0, app.mapper.to_domain_event
    for page in pages(app):
        for notification in page:
            to_domain_event(notification)
        count += len(page)
    return count


def verify(app: StaffelApplication) -> int:
    result, _ = verify_store(app, None)
    assert result["ok"], result["problems"][:5]
    return int(result["events_checked"])


def timed(
    run: Callable[[StaffelApplication], int], app: StaffelApplication
) -> tuple[int, float, float]:
    """(events, wall-clock seconds, this process's CPU seconds)."""
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    count = run(app)
    return count, time.perf_counter() - wall, time.process_time() - cpu


def _first(path: str, key: str) -> str:
    with open(path, encoding="utf-8") as f:
        return next((line.split(":", 1)[1].strip() for line in f if line.startswith(key)), "?")


def context(events: int) -> list[tuple[str, str]]:
    cpu = _first("/proc/cpuinfo", "model name")
    memory = int(_first("/proc/meminfo", "MemTotal").split()[0]) // 1024**2
    with psycopg.connect(SERVER_URL + "/postgres") as conn:
        server = str(conn.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]
    return [
        ("machine", f"{cpu}, {os.cpu_count()} cores, {memory} GiB RAM, {platform.system()}"),
        ("load average", ", ".join(f"{x:.2f}" for x in os.getloadavg()) + " (1, 5, 15 min)"),
        ("Python", platform.python_version()),
        ("eventsourcing", package_version("eventsourcing")),
        ("PostgreSQL", f"{server} at {SERVER_URL} (same machine)"),
        (
            "store",
            f"{events:,} case events, {EVENTS_PER_CASE} a case, plain (no cipher, no compression)",
        ),
        (
            "sealing",
            "personal fields sealed with per-case keys (AES-GCM, ADR 0008) when populating; "
            "both sides read the sealed events and neither opens them (the hash covers the "
            "ciphertext)",
        ),
        ("reading", f"select_notifications pages of {PAGE:,}, {REPEATS} alternating repetitions"),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000, metavar="N")
    parser.add_argument("--quick", action="store_true", help="20,000 events (a minute)")
    args = parser.parse_args(argv)
    events = 20_000 if args.quick else args.events
    name = f"staffel_bench_verify_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(SERVER_URL + "/postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    app = build_case_application(Settings(database_url=f"{SERVER_URL}/{name}"))
    try:
        print("Staffel audit: verification rate against the bare library's read-and-decode")
        print("=" * 76)
        for key, value in context(events):
            print(f"{key:<14} {value}")
        print(flush=True)
        seconds = populate(app, events)
        stored = app.recorder.max_notification_id() or 0
        print(f"populated {stored:,} events in {seconds:.0f} s ({stored / seconds:,.0f}/s)\n")
        rates: dict[str, list[float]] = {"bare": [], "verify": []}
        cpu: dict[str, list[float]] = {"bare": [], "verify": []}
        for repetition in range(1, REPEATS + 1):
            for label, run in (("bare", bare), ("verify", verify)):
                count, wall, used = timed(run, app)
                rates[label].append(count / wall)
                cpu[label].append(count / used)
                print(f"  run {repetition} {label:<6} {count:,} events in {wall:6.1f} s"
                      f" = {count / wall:>9,.0f}/s ({used:.1f} s CPU)", flush=True)  # fmt: skip
        print()
        print(f"{'events/s':<30} {'median':>10} {'best':>10} {'per CPU s':>10}")
        for label, text in (("bare", "bare read + decode (library)"), ("verify", "audit verify")):
            median, best = statistics.median(rates[label]), max(rates[label])
            per_cpu = statistics.median(cpu[label])
            print(f"{text:<30} {median:>10,.0f} {best:>10,.0f} {per_cpu:>10,.0f}")
        share = statistics.median(rates["verify"]) / statistics.median(rates["bare"])
        best = max(rates["verify"]) / max(rates["bare"])
        by_cpu = statistics.median(cpu["verify"]) / statistics.median(cpu["bare"])
        print(f"verify runs at {share:.0%} of the bare read rate (median wall clock;"
              f" best runs {best:.0%}, per CPU second {by_cpu:.0%});"
              f" target >= {TARGET:.0%}: {'met' if share >= TARGET else 'MISSED'}")  # fmt: skip
        print(f"load average after: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
        return 0 if share >= TARGET else 1
    finally:
        app.close()
        with psycopg.connect(SERVER_URL + "/postgres", autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
            )
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))


if __name__ == "__main__":
    sys.exit(main())
