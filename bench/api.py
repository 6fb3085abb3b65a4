"""The HTTP API under concurrent load on PostgreSQL, beside the bare eventsourcing library.

    .venv/bin/python bench/api.py [--quick] [--duration S] [--connections N] [--cases N]

One run, on a PostgreSQL database created for it (``STAFFEL_BENCH_POSTGRES_URL``, default
``postgresql://postgres@127.0.0.1:5432``; dropped at the end):

1. starts ``staffel serve`` as a subprocess on a free loopback port with production settings
   (that database, ``demo/orgs.toml``, a random JWT secret, a master key made for the
   run, JSON logs to a file) and
   waits for ``/readyz``;
2. registers ``--cases`` cases (``POST /cases``) as an Agentur caseworker;
3. write phase: ``--connections`` keep-alive connections each record ``NoteRecorded`` on their
   own share of the cases (``POST /cases/{id}/events``) for ``--duration`` seconds, after a
   warm-up; closed loop, so each connection has one request in flight;
4. waits for the projections to catch up, then ``GET /healthz`` (the HTTP ceiling of the same
   server) and a read phase (``GET /cases/{id}/history`` by another caseworker of the same
   organisation, on ``READ_CASES`` cases of ``READ_CASE_NOTES`` notes each, registered and
   written before the write phase) in alternating slices (``SLICES``), then a mixed phase
   (4 reads : 1 write), each for half the duration; prints the
   history rate beside the ``/healthz`` rate and their ratio, and afterwards checks that every
   history read answered 200 has its one entry in the access log and that the log's chain
   verifies (``ok`` / ``FAIL`` lines);
5. stops the server, then on the same database: the bare library's get-one-event-save with a
   minimal aggregate (``bench.store.Dog``) and Staffel's ``StaffelApplication.record`` in-process,
   each with 1 and 4 threads, with the same persistence environment as the server
   (``library_env``: pool, aggregate cache, snapshots).

It prints the machine context, per phase and endpoint the rate, latency p50/p95/p99/max and the
status counts (409 and connection errors apart), the CPU each process used, the server's own
mean request time (from ``/metrics``), and the library rates beside the API's. Last, the CPU one
request cost in each phase and library run, and from those figures what the write and mixed
targets ask of this machine (``cpu_per_request``).

The load generator is a minimal HTTP/1.1 client on raw asyncio streams (uvloop), one process:
much cheaper per request than httpx, which matters on a 2-core machine where it competes with
the server and PostgreSQL for the same cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the project's packages importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg
import uvloop

from adapters.access_log import AccessLog
from adapters.auth import mint
from adapters.settings import DEFAULT_JWT_AUDIENCE, DEFAULT_JWT_ISSUER, Settings
from bench.store import (
    RECORD_CONFIG,
    Backend,
    _proc,
    bare_record,
    load_average,
    postgres_database,
    register_cases,
    register_dogs,
    staffel_record,
)
from bootstrap import build_case_application
from workers.projections import build_view_store

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
ORG = "agentur-aachen-dueren"
ORGS_FILE = ROOT / "demo" / "orgs.toml"
WRITE_PATH = "POST /cases/{id}/events"
READ_PATH = "GET /cases/{id}/history"
HEALTH_PATH = "GET /healthz"
READER = "bench-reader"  # reads only: its access-log entries are the read phases' reads
REGISTER_PATH = "POST /cases"
GROUP_COMMIT = True  # ``--group-commit off``: the server and Staffel in-process without it
MIX_WRITE_EVERY = 5  # in the mixed phase every 5th request of a connection is a write
LIBRARY_THREADS = (1, 4)
NOTE_TEXT = "Beratungsgespräch geführt, Unterlagen zur Anerkennung besprochen"


@dataclass(frozen=True)
class Mode:
    name: str
    duration: float  # write phase; the read and mixed phases take half each
    connections: int
    cases: int
    warmup: float
    library_seconds: float  # per library measurement (each thread count, each side)


FULL = Mode("full", 20.0, 32, 200, 2.0, 5.0)
QUICK = Mode("quick", 3.0, 8, 40, 0.5, 1.0)


# -- a minimal HTTP/1.1 keep-alive client ----------------------------------------------------------


class HttpError(Exception):
    pass


class Http:
    """One keep-alive connection; reconnects after an error or ``Connection: close``."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        reader, writer = self.reader, self.writer
        if reader is None or writer is None:
            reader, writer = await asyncio.open_connection(self.host, self.port)
            self.reader, self.writer = reader, writer
        writer.write(raw)
        head = await reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1."):
            raise HttpError(f"not an HTTP response: {head[:40]!r}")
        status = int(head[9:12])
        lower = head.lower()
        match = re.search(rb"\r\ncontent-length:\s*(\d+)", lower)
        if match:
            body = await reader.readexactly(int(match.group(1)))
        elif b"\r\ntransfer-encoding: chunked" in lower:
            body = await read_chunked(reader)
        else:
            raise HttpError("response without Content-Length or chunked encoding")
        if b"\r\nconnection: close" in lower:
            self.close()
        return status, body

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)


def http_request(
    method: str, path: str, port: int, token: str | None = None, body: bytes | None = None
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{port}", "Accept: application/json"]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    if body is not None:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b"")


def note_body(n: int) -> bytes:
    return json.dumps(
        {"type": "NoteRecorded", "text": f"{NOTE_TEXT} ({n}).", "category": "counselling"}
    ).encode()


def case_body(i: int) -> bytes:
    return json.dumps(
        {
            "person": {
                "given_name": f"Bench{i}",
                "family_name": "Lasttest",
                "birth_date": "1990-01-01",
                "nationality": "SY",
                "languages": ["ar"],
            },
            "residence_municipality": "Aachen",
            "legal_status": "asylum_seeker",
            "office": "Aachen",
        }
    ).encode()


# -- measuring ----------------------------------------------------------------------------------


@dataclass
class Endpoint:
    label: str
    latencies: list[float] = field(default_factory=list)  # seconds, requests inside the window
    statuses: Counter[str] = field(default_factory=Counter)
    body_bytes: int = 0
    samples: dict[str, str] = field(default_factory=dict)  # first body per non-2xx status
    outside: Counter[str] = field(default_factory=Counter)  # answers outside the window

    def add(self, seconds: float, status: str, body: bytes) -> None:
        self.latencies.append(seconds)
        self.statuses[status] += 1
        self.body_bytes += len(body)
        if not status.startswith("2") and status not in self.samples:
            self.samples[status] = body[:300].decode("utf-8", "replace")

    @property
    def ok(self) -> int:
        return sum(n for s, n in self.statuses.items() if s.startswith("2"))


Next = Callable[[int], tuple[Endpoint, bytes]]  # request number -> where to count it, request


async def drive(
    port: int, connections: int, warmup: float, duration: float, make: Callable[[int], Next]
) -> None:
    """``connections`` closed-loop clients; ``make(i)`` gives client i its requests. Counted:
    requests started after the warm-up and answered before the window ends."""
    now = time.perf_counter
    window_start = now() + warmup
    window_end = window_start + duration

    async def client(i: int) -> None:
        http, next_request, n = Http(HOST, port), make(i), 0
        try:
            while (started := now()) < window_end:
                endpoint, raw = next_request(n)
                n += 1
                try:
                    code, body = await http.request(raw)
                    status = str(code)
                except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                        HttpError, ValueError) as e:  # fmt: skip
                    status, body = f"error {type(e).__name__}", str(e).encode()
                    http.close()
                    await asyncio.sleep(0.05)
                ended = now()
                if started >= window_start and ended <= window_end:
                    endpoint.add(ended - started, status, body)
                else:
                    endpoint.outside[status] += 1
        finally:
            http.close()

    await asyncio.gather(*(client(i) for i in range(connections)))


def run_async(coro: Callable[[], Coroutine[Any, Any, None]]) -> None:
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(coro())


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(p / 100 * len(sorted_values)) - 1))
    return sorted_values[index]


# -- CPU accounting from /proc -----------------------------------------------------------------


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _process_ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])  # utime + stime


def _proc_text(pid: int | str, name: str) -> str:
    try:
        return Path(f"/proc/{pid}/{name}").read_text("utf-8", "replace")
    except OSError:
        return ""


def _pids() -> list[int]:
    return [int(e.name) for e in Path("/proc").iterdir() if e.name.isdigit()]


def _tree_ticks(root: int) -> int:
    """CPU ticks of ``root`` and every process below it (``staffel serve`` and its HTTP worker
    processes)."""
    parents: dict[int, int] = {}
    for pid in _pids():
        stat = _proc_text(pid, "stat")
        if stat:
            parents[pid] = int(stat.rsplit(")", 1)[1].split()[1])
    tree, grew = {root}, True
    while grew:
        below = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree |= below
        grew = bool(below)
    return sum(_process_ticks(pid) for pid in tree)


def _postgres_ticks(database: str) -> int:
    """The backends connected to ``database`` plus the server's own processes (WAL writer,
    checkpointer, ...); not the backends of other databases (other work on the machine)."""
    total = 0
    for pid in _pids():
        if _proc_text(pid, "comm").strip() != "postgres":
            continue
        title = _proc_text(pid, "cmdline").replace("\0", " ")
        client_backend = "(" in title or "[local]" in title
        if not client_backend or f" {database} " in title:
            total += _process_ticks(pid)
    return total


def _machine_ticks() -> tuple[int, int]:
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


@dataclass(frozen=True)
class CpuSnapshot:
    wall: float
    server: int
    postgres: int
    client: int
    machine_busy: int
    machine_total: int


@dataclass(frozen=True)
class CpuMeter:
    database: str
    server_pid: int | None = None

    def snapshot(self) -> CpuSnapshot:
        busy, total = _machine_ticks()
        return CpuSnapshot(
            time.perf_counter(),
            _tree_ticks(self.server_pid) if self.server_pid else 0,
            _postgres_ticks(self.database),
            _process_ticks(os.getpid()),
            busy,
            total,
        )


@dataclass(frozen=True)
class CpuSpent:
    """CPU seconds each party used between two snapshots, and the wall seconds between them."""

    wall: float
    server: float
    postgres: float
    client: float

    @classmethod
    def between(cls, a: CpuSnapshot, b: CpuSnapshot) -> CpuSpent:
        return cls(
            b.wall - a.wall,
            (b.server - a.server) / CLOCK_TICKS,
            (b.postgres - a.postgres) / CLOCK_TICKS,
            (b.client - a.client) / CLOCK_TICKS,
        )

    def per_request_ms(self, requests_per_second: float, party: str) -> float:
        """Milliseconds of ``party``'s CPU per request at ``requests_per_second``."""
        used: float = getattr(self, party)
        return 1000.0 * used / self.wall / requests_per_second if requests_per_second else 0.0


def cpu_usage(a: CpuSnapshot, b: CpuSnapshot, client: str) -> str:
    """CPU of each party between two snapshots, in % of one core."""
    wall = b.wall - a.wall

    def pct(ticks: int) -> float:
        return 100.0 * ticks / CLOCK_TICKS / wall

    server, postgres, mine = (
        pct(b.server - a.server),
        pct(b.postgres - a.postgres),
        pct(b.client - a.client),
    )
    cores = os.cpu_count() or 1
    machine = pct(b.machine_busy - a.machine_busy) / cores  # /proc/stat counts every core
    others = machine * cores - server - postgres - mine
    parts = [
        f"server {server:.0f} %" if b.server else "",
        f"PostgreSQL {postgres:.0f} %",
        f"{client} {mine:.0f} %",
        f"other processes {max(0.0, others):.0f} %",
    ]
    return ", ".join(p for p in parts if p) + f" (machine {machine:.0f} % busy of {cores} cores)"


def busy_processes(seconds: float = 1.0) -> str:
    """Other processes using CPU right now (they skew every figure on a 2-core machine)."""
    before = {pid: _process_ticks(pid) for pid in _pids()}
    time.sleep(seconds)
    busy = []
    for pid, ticks in before.items():
        used = 100.0 * (_process_ticks(pid) - ticks) / CLOCK_TICKS / seconds
        if used >= 5 and pid != os.getpid():
            busy.append((used, f"{_proc_text(pid, 'comm').strip()} (pid {pid}) {used:.0f} %"))
    return ", ".join(text for _, text in sorted(busy, reverse=True)[:6]) or "none above 5 %"


# -- the server ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log: Path
    database: str

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text("utf-8", "replace").splitlines()[-lines:])
        except OSError:
            return ""


@contextmanager
def staffel_server(database_url: str, secret: str, data_dir: Path) -> Iterator[Server]:
    port = free_port()
    # the HTTP worker processes: STAFFEL_HTTP_WORKERS when set, else the server's default
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("STAFFEL_") or k == "STAFFEL_HTTP_WORKERS"
    }
    env.update(
        STAFFEL_DATABASE_URL=database_url,
        STAFFEL_ORGS_FILE=str(ORGS_FILE),
        STAFFEL_JWT_SECRET=secret,
        STAFFEL_JWT_ISSUER=DEFAULT_JWT_ISSUER,  # what mint() names by default
        STAFFEL_JWT_AUDIENCE=DEFAULT_JWT_AUDIENCE,
        STAFFEL_DATA_DIR=str(data_dir),
        # the master key that wraps the per-case data keys (ADR 0008): made for this run
        STAFFEL_MASTER_KEY_FILE=str(data_dir / "master.key"),
        STAFFEL_LOG_FORMAT="json",
        STAFFEL_GROUP_COMMIT="1" if GROUP_COMMIT else "0",
    )
    script = Path(sys.executable).parent / "staffel"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "cli.main"]
    log = data_dir / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*command, "serve", "--host", HOST, "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Server(process, port, log, database_url.rsplit("/", 1)[1])
    try:
        wait_ready(server)
        yield server
    finally:
        stop_server(server)


def wait_ready(server: Server, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    request = http_request("GET", "/readyz", server.port)
    last = "no answer"
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"staffel serve exited with {server.process.returncode}:\n{server.log_tail()}"
            )
        try:
            status, body = http_get_sync(server.port, request)
            if status == 200:
                return
            last = f"{status} {body[:200]!r}"
        except OSError as e:
            last = repr(e)
        time.sleep(0.2)
    raise RuntimeError(
        f"staffel serve not ready after {timeout:.0f} s ({last}):\n{server.log_tail()}"
    )


def stop_server(server: Server) -> None:
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGINT)
        try:
            server.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


def http_get_sync(port: int, raw: bytes) -> tuple[int, bytes]:
    result: list[tuple[int, bytes]] = []

    async def once() -> None:
        http = Http(HOST, port)
        try:
            result.append(await http.request(raw))
        finally:
            http.close()

    run_async(once)
    return result[0]


def metrics(port: int) -> dict[str, float]:
    status, body = http_get_sync(port, http_request("GET", "/metrics", port))
    if status != 200:
        raise RuntimeError(f"/metrics answered {status}")
    values = {}
    for line in body.decode().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            values[name] = float(value)
    return values


def projection_lag(values: dict[str, float]) -> float:
    return sum(v for k, v in values.items() if k.startswith("staffel_projection_lag_events"))


def server_mean_ms(
    before: dict[str, float], after: dict[str, float], method: str, route: str
) -> str:
    labels = f'{{method="{method}",route="{route}"}}'

    def delta(series: str) -> float:
        key = f"staffel_http_request_duration_seconds_{series}{labels}"
        return after.get(key, 0.0) - before.get(key, 0.0)

    count, total = delta("count"), delta("sum")
    return f"{1000 * total / count:.1f}" if count else "-"


# -- the phases ----------------------------------------------------------------------------------


@dataclass
class Phase:
    name: str
    connections: int
    seconds: float
    endpoints: list[Endpoint]
    cpu: str
    server_ms: dict[str, str]  # endpoint label -> the server's own mean request time
    note: str = ""
    spent: CpuSpent | None = None  # the CPU of the counted window (``cpu`` in figures)


def progress(message: str) -> None:
    print(f"  .. {message}", file=sys.stderr, flush=True)


def register(port: int, token: str, cases: int, connections: int) -> tuple[list[str], Phase]:
    endpoint = Endpoint(REGISTER_PATH)
    ids: list[str] = []
    counter = iter(range(cases))
    connections = min(connections, cases)

    async def run() -> None:
        async def client() -> None:
            http = Http(HOST, port)
            try:
                for i in counter:
                    raw = http_request("POST", "/cases", port, token, case_body(i))
                    started = time.perf_counter()
                    status, body = await http.request(raw)
                    endpoint.add(time.perf_counter() - started, str(status), body)
                    if status == 201:
                        ids.append(json.loads(body)["case_id"])
            finally:
                http.close()

        await asyncio.gather(*(client() for _ in range(connections)))

    started = time.perf_counter()
    run_async(run)
    seconds = time.perf_counter() - started
    if len(ids) != cases:
        raise RuntimeError(f"registered {len(ids)} of {cases} cases: {endpoint.samples}")
    return ids, Phase("register", connections, seconds, [endpoint], "", {})


def prepare_read_cases(port: int, token: str, ids: list[str], notes: int) -> float:
    """``notes`` notes on each of ``ids``, 16 connections, each case by one of them: the cases
    the read phases read, all of one size whatever the write phase managed. Seconds taken."""
    work = iter(ids)
    failed: list[str] = []

    async def run() -> None:
        async def client() -> None:
            http = Http(HOST, port)
            try:
                for case_id in work:
                    for n in range(notes):
                        raw = http_request(
                            "POST", f"/cases/{case_id}/events", port, token, note_body(n)
                        )
                        status, body = await http.request(raw)
                        if status != 201:
                            failed.append(f"{status} {body[:200]!r}")
            finally:
                http.close()

        await asyncio.gather(*(client() for _ in range(min(16, len(ids)))))

    started = time.perf_counter()
    run_async(run)
    if failed:
        raise RuntimeError(f"{len(failed)} notes on the read cases failed: {failed[:3]}")
    return time.perf_counter() - started


def measure_phase(
    name: str,
    server: Server,
    connections: int,
    warmup: float,
    seconds: float,
    make: Callable[[list[Endpoint]], Callable[[int], Next]],
    labels: list[str],
    note: str = "",
) -> Phase:
    endpoints = [Endpoint(label) for label in labels]
    meter = CpuMeter(server.database, server.process.pid)
    before_metrics = metrics(server.port)
    before: list[CpuSnapshot] = []

    async def run() -> None:
        async def mark() -> None:  # CPU from the end of the warm-up to the end of the window
            await asyncio.sleep(warmup)
            before.append(meter.snapshot())

        await asyncio.gather(
            mark(), drive(server.port, connections, warmup, seconds, make(endpoints))
        )

    run_async(run)
    after = meter.snapshot()
    after_metrics = metrics(server.port)
    routes = {
        WRITE_PATH: ("POST", "/cases/{case_id}/events"),
        READ_PATH: ("GET", "/cases/{case_id}/history"),
        HEALTH_PATH: ("GET", "/healthz"),
    }
    server_ms = {
        label: server_mean_ms(before_metrics, after_metrics, *routes[label]) for label in labels
    }
    return Phase(
        name,
        connections,
        seconds,
        endpoints,
        cpu_usage(before[0], after, "load generator"),
        server_ms,
        note,
        CpuSpent.between(before[0], after),
    )


# The read phases read cases of their own, each with the same number of notes, so a history
# answer is the same size (about 36 KB) however many notes the write phase managed to record:
# with the write cases, a faster write phase made every later read dearer (32 to 50 KB).
READ_CASES = 100
READ_CASE_NOTES = 60

# what makes each client's requests of a phase
Load = Callable[[list[Endpoint]], Callable[[int], Next]]

# The read phase and the ``/healthz`` phase alternate in this many slices each, so that the ratio
# compares the two under the same conditions: on a shared 2-core machine the rate of one 10 s
# window drifts by a quarter from one minute to the next (``/healthz`` 2,522 to 3,592/s in
# consecutive runs), more than the effects measured.
SLICES = 5
SLICE_WARMUP = 0.5  # the previous slice's requests in flight finish before the next is counted


def measure_alternating(
    server: Server,
    connections: int,
    warmup: float,
    seconds: float,
    runs: list[tuple[str, Load, str, str]],
) -> list[Phase]:
    """Each of ``runs`` (name, load, endpoint label, note) for ``seconds`` in all, in ``SLICES``
    slices taken in turn (A B A B ...): one phase each, counted and metered over its slices
    only. ``warmup`` once before the first slice, ``SLICE_WARMUP`` before each."""
    meter = CpuMeter(server.database, server.process.pid)
    before_metrics = metrics(server.port)
    endpoints = [[Endpoint(label)] for _, _, label, _ in runs]
    walls = [0.0 for _ in runs]  # each run's counted seconds and CPU ticks, over its slices
    ticks = [[0] * 5 for _ in runs]  # server, PostgreSQL, client, machine busy, machine total

    def slice_of(
        i: int, lead: float, make: Callable[[list[Endpoint]], Callable[[int], Next]]
    ) -> None:
        marks: list[CpuSnapshot] = []

        async def run() -> None:
            async def mark() -> None:
                await asyncio.sleep(lead)
                marks.append(meter.snapshot())

            load = drive(server.port, connections, lead, seconds / SLICES, make(endpoints[i]))
            await asyncio.gather(mark(), load)

        run_async(run)
        a, b = marks[0], meter.snapshot()
        walls[i] += b.wall - a.wall
        for k, (x, y) in enumerate(
            [
                (a.server, b.server),
                (a.postgres, b.postgres),
                (a.client, b.client),
                (a.machine_busy, b.machine_busy),
                (a.machine_total, b.machine_total),
            ]
        ):
            ticks[i][k] += y - x

    for n in range(SLICES):
        for i, (_, make, _, _) in enumerate(runs):
            slice_of(i, warmup if n == 0 and i == 0 else SLICE_WARMUP, make)
    after_metrics = metrics(server.port)
    routes = {READ_PATH: ("GET", "/cases/{case_id}/history"), HEALTH_PATH: ("GET", "/healthz")}
    phases = []
    for (name, _, label, note), eps, wall, total in zip(runs, endpoints, walls, ticks, strict=True):
        zero = CpuSnapshot(0.0, 0, 0, 0, 0, 0)
        summed = CpuSnapshot(wall, *total)
        phases.append(
            Phase(
                name,
                connections,
                seconds,
                eps,
                cpu_usage(zero, summed, "load generator"),
                {label: server_mean_ms(before_metrics, after_metrics, *routes[label])},
                note
                + f" (in {SLICES} slices alternating with the "
                + " and ".join(r[0] for r in runs if r[0] != name)
                + " phase)",
                CpuSpent.between(zero, summed),
            )
        )
    return phases


def writes(
    port: int, token: str, case_ids: list[str], connections: int, *, shared: bool = False
) -> Callable[[list[Endpoint]], Callable[[int], Next]]:
    """Client i records on every ``connections``-th case from case i: with no more connections
    than cases, no two clients write one case. ``shared``: every client writes a random case
    each time, so that clients write one case concurrently (without If-Match)."""
    stride = 1 if shared else max(1, min(len(case_ids), connections))

    def make(endpoints: list[Endpoint]) -> Callable[[int], Next]:
        (endpoint,) = endpoints

        def for_client(i: int) -> Next:
            own = case_ids[i % len(case_ids) :: stride]
            prefixes = [f"/cases/{case_id}/events" for case_id in own]
            rng = random.Random(i)

            def next_request(n: int) -> tuple[Endpoint, bytes]:
                prefix = rng.choice(prefixes) if shared else prefixes[n % len(prefixes)]
                return endpoint, http_request("POST", prefix, port, token, note_body(n))

            return next_request

        return for_client

    return make


def reads(
    port: int, token: str, case_ids: list[str]
) -> Callable[[list[Endpoint]], Callable[[int], Next]]:
    def make(endpoints: list[Endpoint]) -> Callable[[int], Next]:
        (endpoint,) = endpoints
        requests = [http_request("GET", f"/cases/{c}/history", port, token) for c in case_ids]

        def for_client(i: int) -> Next:
            rng = random.Random(i)

            def next_request(_: int) -> tuple[Endpoint, bytes]:
                return endpoint, rng.choice(requests)

            return next_request

        return for_client

    return make


def health(port: int) -> Callable[[list[Endpoint]], Callable[[int], Next]]:
    def make(endpoints: list[Endpoint]) -> Callable[[int], Next]:
        (endpoint,) = endpoints
        request = http_request("GET", "/healthz", port)
        return lambda i: lambda n: (endpoint, request)

    return make


def read_ceiling(phases: list[Phase]) -> list[str]:
    """The history reads' rate beside ``/healthz`` on the same server, and the ratio."""
    ceiling = next(p for p in phases if p.name == "healthz")
    read = next(p for p in phases if p.name == "read")
    health_rate = ceiling.endpoints[0].ok / ceiling.seconds
    reads = read.endpoints[0]
    read_rate = reads.ok / read.seconds
    p99 = percentile(sorted(reads.latencies), 99)
    return [
        f"reads: {READ_PATH} {read_rate:,.0f}/s (p99 {_ms(p99)} ms) vs {HEALTH_PATH} "
        f"{health_rate:,.0f}/s on the same server: ratio {read_rate / health_rate:.3f}"
    ]


def access_log_check(database_url: str, phases: list[Phase]) -> list[str]:
    """Every history read answered 200 (in a window or not) has its one access-log entry, and
    the access log's chain verifies (``staffel audit verify``'s check of the log)."""
    answered = sum(
        n
        for p in phases
        for ep in p.endpoints
        if ep.label == READ_PATH
        for counts in (ep.statuses, ep.outside)
        for s, n in counts.items()
        if s == "200"
    )
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT COUNT(*) FROM access_log WHERE actor = %s AND endpoint = %s",
            (READER, "GET /cases/{id}/history"),
        ).fetchone()
    logged = int(row[0]) if row else 0
    app = build_case_application(Settings(database_url=database_url))
    try:
        access_log = AccessLog(build_view_store(app))
        problems = access_log.verify()
        rows = access_log.head()["rows"]
    finally:
        app.close()
    return [
        f"{'ok' if logged == answered else 'FAIL'}: {answered:,} history reads answered 200, "
        f"{logged:,} access-log entries of their reader",
        f"{'ok' if not problems else 'FAIL'}: the access log's chain verifies ({rows:,} rows"
        + (f"; {len(problems)} problems: {problems[:3]})" if problems else ")"),
    ]


def mixed(
    port: int,
    writer: str,
    reader: str,
    case_ids: list[str],
    read_ids: list[str],
    connections: int,
) -> Callable[[list[Endpoint]], Callable[[int], Next]]:
    def make(endpoints: list[Endpoint]) -> Callable[[int], Next]:
        write_next = writes(port, writer, case_ids, connections)([endpoints[0]])
        read_next = reads(port, reader, read_ids)([endpoints[1]])

        def for_client(i: int) -> Next:
            w, r = write_next(i), read_next(i)

            def next_request(n: int) -> tuple[Endpoint, bytes]:
                return w(n) if n % MIX_WRITE_EVERY == 0 else r(n)

            return next_request

        return for_client

    return make


def wait_for_projections(port: int, timeout: float = 90.0) -> str:
    started = time.perf_counter()
    first = projection_lag(metrics(port))
    while (behind := projection_lag(metrics(port))) > 0:
        if time.perf_counter() - started > timeout:
            return f"still {behind:.0f} events behind after {timeout:.0f} s"
        time.sleep(0.2)
    return f"{first:.0f} events behind at the end of the phase, caught up in " + (
        f"{time.perf_counter() - started:.1f} s"
    )


# -- the library, in this process ----------------------------------------------------------------


Op = Callable[[], None]


@dataclass
class LibraryRun:
    label: str
    threads: int
    seconds: float
    latencies: list[float]
    errors: Counter[str]
    cpu: str
    spent: CpuSpent  # the library's CPU is the ``client``'s: this process


def run_threads(
    label: str, ops: list[Op], warmup: float, seconds: float, meter: CpuMeter
) -> LibraryRun:
    latencies: list[list[float]] = [[] for _ in ops]
    errors: Counter[str] = Counter()
    lock = threading.Lock()
    barrier = threading.Barrier(len(ops) + 1)
    window: list[float] = []

    def body(i: int) -> None:
        op, mine = ops[i], latencies[i]
        barrier.wait()
        window_start, window_end = window
        while (started := time.perf_counter()) < window_end:
            try:
                op()
            except Exception as e:
                with lock:
                    errors[type(e).__name__] += 1
                continue
            ended = time.perf_counter()
            if started >= window_start and ended <= window_end:
                mine.append(ended - started)

    threads = [threading.Thread(target=body, args=(i,)) for i in range(len(ops))]
    for t in threads:
        t.start()
    start = time.perf_counter()
    window.extend([start + warmup, start + warmup + seconds])
    barrier.wait()
    time.sleep(warmup)
    cpu_before = meter.snapshot()
    for t in threads:
        t.join()
    cpu_after = meter.snapshot()
    cpu = cpu_usage(cpu_before, cpu_after, "library")
    merged = [x for lat in latencies for x in lat]
    return LibraryRun(
        label, len(ops), seconds, merged, errors, cpu, CpuSpent.between(cpu_before, cpu_after)
    )


def library_runs(database_url: str, mode: Mode) -> list[LibraryRun]:
    backend = Backend("PostgreSQL", database_url, {})
    meter = CpuMeter(database_url.rsplit("/", 1)[1])
    runs = []
    bare = RECORD_CONFIG.bare(backend)
    staffel = build_case_application(
        RECORD_CONFIG.settings(backend).model_copy(update={"group_commit": GROUP_COMMIT})
    )
    try:
        progress(f"library: registering {mode.cases} aggregates per side")
        dog_ids = register_dogs(bare, mode.cases, 0)
        case_ids = register_cases(staffel, mode.cases, 0)
        for threads in LIBRARY_THREADS:
            progress(f"library: bare get-1-event-save, {threads} thread(s)")
            runs.append(
                run_threads(
                    "bare eventsourcing (Dog)",
                    [bare_record(bare, dog_ids[i::threads]) for i in range(threads)],
                    mode.warmup / 2,
                    mode.library_seconds,
                    meter,
                )
            )
        for threads in LIBRARY_THREADS:
            progress(f"library: Staffel StaffelApplication.record, {threads} thread(s)")
            runs.append(
                run_threads(
                    "Staffel StaffelApplication.record",
                    [staffel_record(staffel, case_ids[i::threads]) for i in range(threads)],
                    mode.warmup / 2,
                    mode.library_seconds,
                    meter,
                )
            )
    finally:
        bare.close()
        staffel.close()
    return runs


# -- context and report ---------------------------------------------------------------------------


def machine_context(database_url: str, mode: Mode, connections: int) -> list[tuple[str, str]]:
    models = _proc("/proc/cpuinfo", "model name")
    mem = _proc("/proc/meminfo", "MemTotal")
    ram = f"{int(mem[0].split()[0]) / 1024 / 1024:.1f} GiB" if mem else "unknown"
    with psycopg.connect(database_url) as conn:
        server = conn.execute("SELECT version()").fetchone()
        shown = {
            name: (conn.execute(f"SHOW {name}").fetchone() or ("?",))[0]
            for name in ("fsync", "synchronous_commit", "shared_buffers", "max_connections")
        }
    versions = ", ".join(
        f"{p} {package_version(p)}"
        for p in (
            "eventsourcing",
            "fastapi",
            "starlette",
            "uvicorn",
            "httptools",
            "uvloop",
            "pydantic",
            "structlog",
            "pyjwt",
        )
    )
    settings = RECORD_CONFIG.settings(Backend("PostgreSQL", database_url, {}))
    http_workers = Settings(
        http_workers=os.environ.get("STAFFEL_HTTP_WORKERS") or None  # type: ignore[arg-type]
    ).http_worker_count
    return [
        ("date/time", datetime.now().astimezone().isoformat(timespec="seconds")),
        ("load average", f"{load_average()} at start"),
        ("busy at start", f"{busy_processes()} (other work on the machine skews every figure)"),
        ("CPU", f"{models[0] if models else platform.processor()} x {len(models)} (/proc/cpuinfo)"),
        ("os.cpu_count()", str(os.cpu_count())),
        ("RAM", ram),
        ("OS", platform.platform()),
        ("code", code_version()),
        ("Python", sys.version.split()[0] + f" ({platform.python_implementation()})"),
        ("packages", versions),
        ("psycopg", f"{psycopg.__version__} (libpq {psycopg.pq.version()}, {psycopg.pq.__impl__})"),
        ("PostgreSQL", str(server[0]) if server else "?"),
        (
            "PostgreSQL settings",
            ", ".join(f"{k}={v}" for k, v in shown.items())
            + f"; database {database_url.rsplit('/', 1)[1]} (dropped after)",
        ),
        (
            "server",
            f"staffel serve: {http_workers} HTTP worker processes (STAFFEL_HTTP_WORKERS, else "
            "one per core; CPU: the manager and its workers summed), uvicorn loop=auto "
            "-> uvloop, http=auto -> httptools (both installed), sync endpoints in the anyio "
            f"threadpool (40 threads); PostgreSQL pool {settings.postgres_pool_size} per worker, "
            f"aggregate cache {settings.aggregate_cache_size} (fast-forward), snapshots every "
            f"{settings.snapshot_interval}; the projections and the supervisor's other workers "
            "(handover policy, ...) run in the worker holding the lead; JSON request logs to a "
            "file",
        ),
        (
            "sealing",
            "personal fields of case events sealed (AES-GCM, one key per case, ADR 0008) by the "
            "server and by Staffel's in-process record (the note's text); the bare library "
            "(Dog) does not seal",
        ),
        (
            "load generator",
            f"this process: raw asyncio HTTP/1.1 keep-alive client on uvloop, {connections} "
            "connections, closed loop (one request in flight per connection), same 2 cores as "
            "the server and PostgreSQL",
        ),
        (
            "mode",
            f"{mode.name}: {mode.cases} cases; warm-up {mode.warmup:g} s before each HTTP phase; "
            f"library runs {mode.library_seconds:g} s each after {mode.warmup / 2:g} s warm-up",
        ),
    ]


def code_version() -> str:
    def git(*args: str) -> str:
        try:
            return subprocess.run(
                ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True
            ).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--untracked-files=no")
    return f"git {commit}" + (" + uncommitted changes" if dirty else "")


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def report_phase(phase: Phase) -> None:
    print(f"[{phase.name}] {phase.connections} connections, {phase.seconds:.1f} s window")
    if phase.note:
        print(f"  {phase.note}")
    header = (
        f"  {'endpoint':<26}{'requests':>9}{'ok/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
        f"{'max ms':>9}{'server mean ms':>16}  statuses"
    )
    print(header)
    for ep in phase.endpoints:
        lat = sorted(ep.latencies)
        statuses = ", ".join(f"{s}: {n}" for s, n in sorted(ep.statuses.items()))
        print(
            f"  {ep.label:<26}{len(lat):>9}{ep.ok / phase.seconds:>9,.0f}"
            f"{_ms(percentile(lat, 50)):>9}{_ms(percentile(lat, 95)):>9}"
            f"{_ms(percentile(lat, 99)):>9}{_ms(lat[-1] if lat else float('nan')):>9}"
            f"{phase.server_ms.get(ep.label, '-'):>16}  {statuses}"
        )
        conflicts = ep.statuses.get("409", 0)
        errors = sum(n for s, n in ep.statuses.items() if not s.startswith("2") and s != "409")
        mean_bytes = ep.body_bytes / len(lat) if lat else 0
        print(
            f"  {'':<26}409 conflicts: {conflicts}, other errors: {errors}, "
            f"mean response {mean_bytes:,.0f} bytes"
        )
        for status, sample in ep.samples.items():
            print(f"  {'':<26}first {status}: {sample}")
    if phase.cpu:
        print(f"  CPU (% of one core): {phase.cpu}")
    print()


def report(
    context: list[tuple[str, str]],
    phases: list[Phase],
    catch_up: str,
    server_recorded: float,
    log_note: str,
    library: list[LibraryRun],
) -> None:
    width = max(len(k) for k, _ in context)
    print("Staffel HTTP API on PostgreSQL vs the bare eventsourcing library")
    print("=" * 64)
    for key, value in context:
        print(f"{key:<{width}}  {value}")
    print()
    for phase in phases:
        report_phase(phase)
    print(f"projections after the write phase: {catch_up}")
    print(f"server-side events recorded (metrics): {server_recorded:.0f}; {log_note}")
    print()
    print("Events recorded per second, same PostgreSQL server, same run")
    print(f"  {'':<44}{'conc.':>8}{'events/s':>10}{'p50 ms':>9}{'p99 ms':>9}  errors / CPU")
    rows: list[tuple[str, int, float, list[float], str]] = []
    write = next(p for p in phases if p.name == "write")
    api = write.endpoints[0]
    rows.append(
        (
            f"HTTP API {WRITE_PATH}, connections",
            write.connections,
            api.ok / write.seconds,
            sorted(api.latencies),
            f"409: {api.statuses.get('409', 0)}, "
            f"other: {sum(n for s, n in api.statuses.items() if s[0] != '2' and s != '409')}",
        )
    )
    for run in library:
        errors = ", ".join(f"{k}: {v}" for k, v in run.errors.items()) or "none"
        rows.append(
            (
                f"{run.label}, threads",
                run.threads,
                len(run.latencies) / run.seconds,
                sorted(run.latencies),
                f"{errors}; {run.cpu}",
            )
        )
    for label, clients, rate, lat, extra in rows:
        print(
            f"  {label:<44}{clients:>8}{rate:>10,.0f}{_ms(percentile(lat, 50)):>9}"
            f"{_ms(percentile(lat, 99)):>9}  {extra}"
        )
    bare_1 = next(r for r in library if r.label.startswith("bare") and r.threads == 1)
    staffel_1 = next(r for r in library if r.label.startswith("Staffel") and r.threads == 1)
    api_rate = api.ok / write.seconds
    bare_rate = len(bare_1.latencies) / bare_1.seconds
    staffel_rate = len(staffel_1.latencies) / staffel_1.seconds
    print()
    print(
        f"ratios: HTTP API / bare library (1 thread) = {api_rate / bare_rate:.2f}; "
        f"HTTP API / Staffel in-process (1 thread) = {api_rate / staffel_rate:.2f}; "
        f"Staffel in-process / bare (1 thread) = {staffel_rate / bare_rate:.2f}"
    )
    print()
    print("\n".join(cpu_per_request(phases, library)))


def cpu_per_request(phases: list[Phase], library: list[LibraryRun]) -> list[str]:
    """What one request (one recorded event) cost in CPU in each single-endpoint phase and
    library run of this run, and what that makes of the write and mixed targets of issue 16:
    the least an HTTP write can cost is the HTTP ceiling's request (``/healthz``) plus the
    application's own record in-process; the mixed phase's rates are tied by its mix."""
    lines = ["CPU per request, ms of one core (server: the HTTP workers; library: this process)"]
    cost: dict[str, float] = {}

    def row(label: str, spent: CpuSpent | None, rate: float, party: str) -> None:
        if spent is None or not rate:
            return
        own, pg = spent.per_request_ms(rate, party), spent.per_request_ms(rate, "postgres")
        cost[label] = own + pg
        name = "server" if party == "server" else "library"
        lines.append(
            f"  {label:<48}{name} {own:5.2f}  PostgreSQL {pg:5.2f}  together {own + pg:5.2f}"
        )

    solo: dict[str, float] = {}
    for phase in phases:
        if phase.name in ("write", "healthz", "read"):
            (ep,) = phase.endpoints
            solo[ep.label] = ep.ok / phase.seconds
            row(ep.label, phase.spent, solo[ep.label], "server")
    for run in library:
        label = f"{run.label.split(' (')[0]}, {run.threads} thread(s)"
        row(label, run.spent, len(run.latencies) / run.seconds, "client")
    record = max((r for r in library if r.label.startswith("Staffel")), key=lambda r: r.threads)
    record_label = f"{record.label.split(' (')[0]}, {record.threads} thread(s)"
    bare = next(r for r in library if r.label.startswith("bare") and r.threads == 1)
    target = 2 * len(bare.latencies) / bare.seconds
    cores = os.cpu_count() or 1
    if HEALTH_PATH in cost and record_label in cost and WRITE_PATH in cost:
        floor = cost[HEALTH_PATH] + cost[record_label]
        lines.append(
            f"writes: the target, 2 x the bare library's 1-thread rate, is {target:,.0f}/s. "
            f"An HTTP write costs at least about one {HEALTH_PATH} request plus the in-process "
            f"record ({record.threads} threads; no token, no body to check, no projections): "
            f"{cost[HEALTH_PATH]:.2f} + {cost[record_label]:.2f} = {floor:.2f} ms, at most "
            f"{cores * 1000 / floor:,.0f}/s with all {cores} cores on nothing else; the HTTP "
            f"write took {cost[WRITE_PATH]:.2f} ms ({cores * 1000 / cost[WRITE_PATH]:,.0f}/s on "
            f"{cores} cores)"
        )
    mixed_phase = next((p for p in phases if p.name == "mixed"), None)
    if mixed_phase and WRITE_PATH in solo and READ_PATH in solo:
        w, r = (ep.ok / mixed_phase.seconds for ep in mixed_phase.endpoints)
        reads_needed = (MIX_WRITE_EVERY - 1) * solo[WRITE_PATH] / 2
        verdict = (
            "above the read phase's own rate: no server meets both halves with this mix"
            if reads_needed > solo[READ_PATH]
            else "within the read phase's own rate"
        )
        lines.append(
            f"mixed: each connection sends 1 write per {MIX_WRITE_EVERY - 1} reads and waits for "
            f"each answer, so writes/s = reads/s / {MIX_WRITE_EVERY - 1} ({w:,.0f} and "
            f"{r:,.0f} here). Writes at half their solo rate ({solo[WRITE_PATH] / 2:,.0f}/s) "
            f"need {reads_needed:,.0f} reads/s, {verdict} ({solo[READ_PATH]:,.0f}/s)"
        )
    return lines


def log_summary(server: Server, requests: float) -> str:
    try:
        size = server.log.stat().st_size
        lines = sum(1 for _ in server.log.open("rb"))
    except OSError:
        return "server log unreadable"
    return (
        f"server log {lines:,} lines, {size / 1e6:.1f} MB "
        f"(~{size / max(1, requests):.0f} bytes per request)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="small counts, for a smoke run")
    parser.add_argument("--duration", type=float, default=None, metavar="S", help="write phase")
    parser.add_argument("--connections", type=int, default=None, metavar="N")
    parser.add_argument("--cases", type=int, default=None, metavar="N")
    parser.add_argument(
        "--shared-cases",
        action="store_true",
        help="write phase: every connection writes every case (concurrent writes to one case)",
    )
    parser.add_argument("--group-commit", choices=("on", "off"), default="on")
    args = parser.parse_args(argv)
    global GROUP_COMMIT
    GROUP_COMMIT = args.group_commit == "on"
    mode = QUICK if args.quick else FULL
    duration = args.duration or mode.duration
    connections = args.connections or mode.connections
    cases = args.cases or mode.cases
    mode = Mode(mode.name, duration, connections, cases, mode.warmup, mode.library_seconds)
    started = time.perf_counter()
    secret = secrets.token_urlsafe(32)
    writer = mint(secret, sub="bench-writer", org=ORG, roles=["caseworker"], ttl=3600)
    reader = mint(secret, sub=READER, org=ORG, roles=["caseworker"], ttl=3600)
    phases: list[Phase] = []
    with tempfile.TemporaryDirectory(prefix="staffel-bench-api-") as tmp, postgres_database() as pg:
        context = machine_context(pg, mode, connections)
        progress("starting staffel serve")
        with staffel_server(pg, secret, Path(tmp)) as server:
            progress(f"server pid {server.process.pid} on port {server.port}; registering cases")
            case_ids, registered = register(server.port, writer, cases, 16)
            phases.append(registered)
            read_ids, _ = register(server.port, writer, READ_CASES, 16)
            read_notes = READ_CASE_NOTES if mode.name == "full" else READ_CASE_NOTES // 3
            progress(f"{READ_CASES} cases to read: {read_notes} notes each")
            prepare_read_cases(server.port, writer, read_ids, read_notes)
            progress(f"write phase: {connections} connections, {duration:g} s")
            phases.append(
                measure_phase(
                    "write",
                    server,
                    connections,
                    mode.warmup,
                    duration,
                    writes(server.port, writer, case_ids, connections, shared=args.shared_cases),
                    [WRITE_PATH],
                    note="NoteRecorded, no If-Match, "
                    + (
                        "every connection on a random case each time (concurrent writes to one "
                        "case)"
                        if args.shared_cases
                        else "each connection on its own share of the cases (no two connections "
                        "write one case)"
                    )
                    + f"; group commit {args.group_commit}",
                )
            )
            progress("waiting for the projections")
            catch_up = wait_for_projections(server.port)
            progress(f"{HEALTH_PATH} and read phase: {duration / 2:g} s each, alternating")
            phases.extend(
                measure_alternating(
                    server,
                    connections,
                    mode.warmup,
                    duration / 2,
                    [
                        (
                            "healthz",
                            health(server.port),
                            HEALTH_PATH,
                            "the HTTP ceiling of this server: no authentication, no database",
                        ),
                        (
                            "read",
                            reads(server.port, reader, read_ids),
                            READ_PATH,
                            "history of a random case, by another caseworker of the same "
                            "organisation (each read also appends to the access log)",
                        ),
                    ],
                )
            )
            progress(f"mixed phase: {duration / 2:g} s")
            phases.append(
                measure_phase(
                    "mixed",
                    server,
                    connections,
                    mode.warmup,
                    duration / 2,
                    mixed(server.port, writer, reader, case_ids, read_ids, connections),
                    [WRITE_PATH, READ_PATH],
                    note=f"per connection 1 write to {MIX_WRITE_EVERY - 1} history reads; "
                    "writer and reader are different users (no read-your-writes wait)",
                )
            )
            final = metrics(server.port)
            recorded = final.get("staffel_events_recorded_total", 0.0)
            total_requests = sum(
                v for k, v in final.items() if k.startswith("staffel_http_requests_total")
            )
            progress("stopping the server")
        log_note = log_summary(server, total_requests)
        reads_checked = read_ceiling(phases) + access_log_check(pg, phases)
        library = library_runs(pg, mode)
    report(context, phases, catch_up, recorded, log_note, library)
    print()
    print("\n".join(reads_checked))
    print(
        f"\n(total run time {time.perf_counter() - started:.0f} s; "
        f"load average at the end {load_average()})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
