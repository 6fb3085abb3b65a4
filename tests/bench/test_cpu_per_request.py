"""bench/api.py's closing lines: the CPU one request cost, and what that makes of issue 16's
write and mixed targets, computed from the figures of the run."""

from __future__ import annotations

import os
from collections import Counter

from bench.api import (
    HEALTH_PATH,
    READ_PATH,
    WRITE_PATH,
    CpuSpent,
    Endpoint,
    LibraryRun,
    Phase,
    cpu_per_request,
)


def endpoint(label: str, ok: int) -> Endpoint:
    return Endpoint(label, latencies=[0.01] * ok, statuses=Counter({"200": ok}))


def phase(name: str, rates: dict[str, int], server: float, postgres: float) -> Phase:
    """A 10 s phase at ``rates`` per endpoint whose server and PostgreSQL used ``server`` and
    ``postgres`` cores."""
    endpoints = [endpoint(label, rate * 10) for label, rate in rates.items()]
    spent = CpuSpent(10.0, server * 10, postgres * 10, 0.5)
    return Phase(name, 32, 10.0, endpoints, "", {}, "", spent)


def library(label: str, threads: int, rate: int, cores: float, postgres: float) -> LibraryRun:
    spent = CpuSpent(5.0, 0.0, postgres * 5, cores * 5)
    return LibraryRun(label, threads, 5.0, [0.001] * (rate * 5), Counter(), "", spent)


def run(write: int, read: int, mixed: tuple[int, int]) -> list[str]:
    phases = [
        phase("write", {WRITE_PATH: write}, server=1.4, postgres=0.2),
        phase("healthz", {HEALTH_PATH: 3500}, server=1.75, postgres=0.0),
        phase("read", {READ_PATH: read}, server=1.2, postgres=0.5),
        phase("mixed", {WRITE_PATH: mixed[0], READ_PATH: mixed[1]}, server=1.3, postgres=0.4),
    ]
    runs = [
        library("bare eventsourcing (Dog)", 1, 650, cores=0.6, postgres=0.35),
        library("Staffel StaffelApplication.record", 4, 1200, cores=0.8, postgres=0.2),
    ]
    return cpu_per_request(phases, runs)


def test_each_request_costs_its_phases_cpu_over_its_rate() -> None:
    lines = run(write=700, read=1000, mixed=(150, 600))
    write_row = next(line for line in lines if line.strip().startswith(WRITE_PATH))
    # 1.4 cores / 700 writes/s = 2.00 ms of the server's CPU; 0.2 / 700 = 0.29 ms PostgreSQL's
    assert "server  2.00" in write_row, write_row
    assert "PostgreSQL  0.29" in write_row, write_row
    record_row = next(line for line in lines if "record, 4 thread(s)" in line)
    assert "library  0.67" in record_row, record_row
    assert "PostgreSQL  0.17" in record_row, record_row


def test_the_write_line_adds_the_http_ceiling_to_the_in_process_record() -> None:
    (writes,) = [line for line in run(700, 1000, (150, 600)) if line.startswith("writes:")]
    # /healthz 1.75 / 3500 = 0.50 ms; the record 0.67 + 0.17 = 0.83 ms: 1.33 ms, 750/s a core
    assert "is 1,300/s" in writes, writes
    most = (os.cpu_count() or 1) * 750
    assert f"0.50 + 0.83 = 1.33 ms, at most {most:,}/s" in writes, writes


def test_the_mixed_line_says_when_the_mix_itself_rules_out_both_halves() -> None:
    (tied,) = [line for line in run(700, 1000, (150, 600)) if line.startswith("mixed:")]
    # writes at half of 700/s need 4 x 350 = 1,400 reads/s, more than the 1,000/s read alone
    assert "need 1,400 reads/s, above the read phase's own rate" in tied, tied
    (possible,) = [line for line in run(700, 3000, (150, 600)) if line.startswith("mixed:")]
    assert "within the read phase's own rate" in possible, possible
