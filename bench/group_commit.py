"""Group commit (ADR 0012) in one process: ``StaffelApplication.record`` from N threads, with group
commit off and with several batch windows, side by side on one PostgreSQL database.

    .venv/bin/python bench/group_commit.py [--threads 1,8] [--seconds S] [--windows 0,1,3]

For each thread count: group commit off, then on with each window (milliseconds). Each run
registers 64 cases on a fresh application and records notes on them (each thread on its own
share) for ``--seconds``; it prints the rate, and with group commit the transactions written,
the commands in them and the largest batch (``GroupCommitter``'s counters).
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the project's packages importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.store import (
    RECORD_CONFIG,
    Backend,
    load_average,
    postgres_database,
    register_cases,
    staffel_record,
)
from bootstrap import build_case_application

CASES = 64


def run(database_url: str, threads: int, seconds: float, **overrides: Any) -> str:
    settings = RECORD_CONFIG.settings(Backend("PostgreSQL", database_url, {}))
    app = build_case_application(settings.model_copy(update=overrides))
    try:
        ids = register_cases(app, CASES, 0)
        ops = [staffel_record(app, ids[i::threads]) for i in range(threads)]
        counts = [0] * threads
        group = getattr(app.recorder, "group", None)
        before = (group.transactions, group.commands) if group else (0, 0)
        stop = time.perf_counter() + seconds

        def body(i: int) -> None:
            while time.perf_counter() < stop:
                ops[i]()
                counts[i] += 1

        workers = [threading.Thread(target=body, args=(i,)) for i in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
    finally:
        app.close()
    line = f"{sum(counts) / seconds:8.0f} events/s"
    if group is not None:
        line += (
            f"  {group.commands - before[1]} commands in {group.transactions - before[0]}"
            f" transactions, largest batch {group.largest}"
        )
    return line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--threads", default="1,8")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--windows", default="0,1,3", help="milliseconds")
    args = parser.parse_args(argv)
    print(f"load average {load_average()} at start")
    with postgres_database() as pg:
        for threads in map(int, args.threads.split(",")):
            print(f"{threads} thread(s), {CASES} cases, {args.seconds:g} s each")
            print(f"  group commit off      {run(pg, threads, args.seconds, group_commit=False)}")
            for window in map(float, args.windows.split(",")):
                result = run(pg, threads, args.seconds, group_commit_window_ms=window)
                print(f"  window {window:g} ms{'':<{10 - len(f'{window:g}')}}{result}")
    print(f"load average {load_average()} at the end")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
