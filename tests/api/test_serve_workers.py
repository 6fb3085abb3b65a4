"""``staffel serve --workers 2`` on PostgreSQL (ADR 0013), a real server on a database of its own:
requests reach both HTTP worker processes, every line of their shared log is one JSON record,
``/metrics`` sums both workers' counts, the projections, the handover policy and the outbox run
in one worker only, and a killed worker is replaced by uvicorn while requests keep succeeding.

The workers are told apart by the ``pid`` of their log records (each line parsed as JSON)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from pydantic import ValidationError

from adapters.auth import mint
from adapters.metrics_dir import OWNER, PREFIX, shared_metrics_dir
from adapters.settings import Settings
from bootstrap import build_case_application
from tests.conftest import create_database
from tests.support.history import Load, check, no_server_errors, report
from tests.support.processes import (
    JWT_SECRET,
    ServeProcess,
    http_status,
    production_env,
    wait_until,
)
from workers.leader import LOCK_CLASS, WORKERS, _lock_key
from workers.projections import build_view_store

STARTED = "Application startup complete."


@dataclass
class Served:
    process: ServeProcess
    database_url: str
    env: dict[str, str]

    def records(self) -> list[dict[str, Any]]:
        """Every complete line of the log, each parsed as one JSON object (a line holding two
        records, or half of one, fails here)."""
        text = self.process.log.read_bytes()
        complete = text[: text.rfind(b"\n") + 1]
        records = []
        lines = complete.splitlines()
        for n, raw in enumerate(lines):
            if raw.strip():
                try:
                    doc = json.loads(raw)
                except ValueError:
                    around = b"\n".join(lines[max(0, n - 3) : n + 40]).decode(errors="replace")
                    pytest.fail(f"not one JSON record per line: {raw[:400]!r}\n{around}")
                assert isinstance(doc, dict), raw
                records.append(doc)
        return records

    def started_workers(self) -> list[int]:
        """The worker processes that completed their startup, in order."""
        return [r["pid"] for r in self.records() if r.get("event") == STARTED]

    def live_workers(self) -> set[int]:
        return {pid for pid in self.started_workers() if _alive(pid)}

    def serving_pids(self, request_ids: set[str]) -> dict[str, int]:
        """Which process answered each of ``request_ids`` (by its request log record)."""
        return {
            r["request_id"]: r["pid"]
            for r in self.records()
            if r.get("event") == "request" and r.get("request_id") in request_ids
        }

    def leaders(self) -> list[int]:
        return [r["pid"] for r in self.records() if r.get("event") == "lead_taken"]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").exists() and " Z " not in Path(f"/proc/{pid}/stat").read_text()


@pytest.fixture(scope="module")
def served(postgres_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("serve-workers")
    url = create_database("staffel_workers")
    # as the suite pins it (tests/conftest.py): the flag wins over the setting
    env = production_env(url, tmp / "data", STAFFEL_HTTP_WORKERS="1")
    process = ServeProcess(env, tmp / "serve.log", args=("--workers", "2"))
    made = Served(process, url, env)
    try:
        process.wait_ready(90)
        assert wait_until(lambda: len(made.live_workers()) == 2, 90, 0.2), made.records()[-20:]
        yield made
    finally:
        process.stop()


def get_all(served: Served, path: str, n: int, parallel: int = 8) -> dict[str, int]:
    """``n`` GETs of ``path``, ``parallel`` at a time, each on a connection of its own (so the
    kernel hands them to either worker); the status of each, by its request id."""
    ids = [uuid.uuid4().hex for _ in range(n)]

    def one(request_id: str) -> int:
        # a connection of its own per request: one httpx client shared by the threads, closing
        # each connection after its answer, once read a socket another thread had closed (EBADF
        # in httpcore); a client per request cost 30 ms of CPU each (its TLS context)
        url = served.process.base_url + path
        status = http_status(url, timeout=20, headers={"X-Request-Id": request_id})
        assert status is not None, f"no answer to GET {path} ({request_id})"
        return status

    with ThreadPoolExecutor(parallel) as pool:
        return dict(zip(ids, pool.map(one, ids), strict=True))


def until_both_serve(served: Served, path: str, workers: set[int]) -> dict[str, int]:
    """GETs of ``path`` in rounds of 40 until each of ``workers`` has answered some (at most 10
    rounds); the status of each request sent."""
    sent: dict[str, int] = {}
    for _ in range(10):
        sent |= get_all(served, path, 40)
        ids = set(sent)
        assert wait_until(partial(all_logged, served, ids), 10, 0.2)
        if set(served.serving_pids(ids).values()) >= workers:
            break
    return sent


def all_logged(served: Served, request_ids: set[str]) -> bool:
    return len(served.serving_pids(request_ids)) == len(request_ids)


def healthz_count(served: Served) -> float:
    r = httpx.get(served.process.base_url + "/metrics", timeout=20)
    assert r.status_code == 200, r.text
    for line in r.text.splitlines():
        if line.startswith(
            'staffel_http_requests_total{method="GET",route="/healthz",status="200"}'
        ):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_requests_are_served_by_two_worker_processes(served: Served) -> None:
    workers = served.live_workers()
    assert len(workers) == 2
    assert served.process.process.pid not in workers  # the parent only manages them
    sent = until_both_serve(served, "/healthz", workers)
    assert set(sent.values()) == {200}
    assert set(served.serving_pids(set(sent)).values()) == workers


def listening_sockets(pids: set[int], port: int) -> dict[int, set[int]]:
    """The TCP sockets listening on ``port`` (by inode, from ``/proc/net/tcp``) that each of
    ``pids`` holds open."""
    listening = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # LISTEN
                listening.add(int(fields[9]))
    held: dict[int, set[int]] = {}
    for pid in pids:
        inodes = set()
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(int(target[8:-1]))
        held[pid] = inodes & listening
    return held


def test_each_worker_listens_on_a_socket_of_its_own(served: Served) -> None:
    """SO_REUSEPORT (adapters/http_listener.py): the kernel spreads connections over the
    workers' sockets; with one shared socket, one worker could take every waiting connection."""
    workers = served.live_workers()
    port = int(served.process.base_url.rsplit(":", 1)[1])
    held = listening_sockets(workers | {served.process.process.pid}, port)
    assert held.pop(served.process.process.pid) == set()  # the manager accepts nothing
    assert all(len(inodes) == 1 for inodes in held.values()), held
    assert len(set().union(*held.values())) == 2, held  # two sockets, not one shared


def test_a_burst_of_connections_is_spread_over_both_workers(served: Served) -> None:
    """32 keep-alive connections opened at once, as a load generator does, 8 times: each time
    both workers serve a share (a shared socket gave all 32 to one worker in one of four)."""
    port = int(served.process.base_url.rsplit(":", 1)[1])

    async def burst() -> list[str]:
        conns = await asyncio.gather(
            *[asyncio.open_connection("127.0.0.1", port) for _ in range(32)]
        )
        ids = []
        for _reader, writer in conns:
            ids.append(uuid.uuid4().hex)
            writer.write(
                f"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: {ids[-1]}\r\n\r\n".encode()
            )
        for reader, writer in conns:
            head = await reader.readuntil(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200"), head
            length = next(
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            await reader.readexactly(length)
            writer.close()
        return ids

    for _ in range(8):
        ids = set(asyncio.run(burst()))
        assert wait_until(partial(all_logged, served, ids), 20, 0.2)
        shares = Counter(served.serving_pids(ids).values())
        assert len(shares) == 2, shares
        assert min(shares.values()) >= 4, shares


def test_every_line_of_the_shared_log_is_one_record(served: Served) -> None:
    """Both workers log at once, many lines: no two records share a line, none is split."""
    sent = get_all(served, "/healthz", 1000, parallel=16)
    assert wait_until(partial(all_logged, served, set(sent)), 30, 0.2)
    assert len(set(served.serving_pids(set(sent)).values())) == 2


def test_metrics_sum_the_counts_of_both_workers(served: Served) -> None:
    before = healthz_count(served)
    sent = until_both_serve(served, "/healthz", served.live_workers())
    assert len(set(served.serving_pids(set(sent)).values())) == 2
    for _ in range(6):  # each scrape is answered by either worker: each sees the sum
        assert healthz_count(served) - before == len(sent)


def lock_holders(database_url: str) -> int:
    with psycopg.connect(database_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND classid = %s AND objid = %s AND objsubid = 2 AND database ="
            " (SELECT oid FROM pg_database WHERE datname = current_database())",
            (LOCK_CLASS, _lock_key(WORKERS)),
        ).fetchone()
        return int(row[0]) if row else 0


def recorded_leader(database_url: str) -> int:
    with psycopg.connect(database_url, autocommit=True) as conn:
        row = conn.execute("SELECT pid FROM worker_leads WHERE name = %s", (WORKERS,)).fetchone()
        assert row is not None
        return int(row[0])


def test_background_work_runs_once_and_a_killed_worker_is_replaced(served: Served) -> None:
    workers = served.live_workers()
    leaders = served.leaders()
    assert len(leaders) == 1, leaders  # of two supervisors one leads, the other stands by
    (leader,) = leaders
    assert leader in workers
    assert lock_holders(served.database_url) == 1
    assert recorded_leader(served.database_url) == leader

    # registrations, notes, recognitions (the policy offers) and accepts through both workers;
    # the leading worker killed mid-load
    load = Load([served.process.base_url], JWT_SECRET, threads=3).start()
    load.run_for(3.0)
    os.kill(leader, signal.SIGKILL)
    load.run_for(5.0)
    history = load.stop()

    # uvicorn starts a worker in the dead one's place; the other takes the lead over
    assert wait_until(lambda: len(served.live_workers()) == 2, 60, 0.2), served.records()[-20:]
    replaced = served.live_workers()
    assert leader not in replaced
    assert len(replaced & workers) == 1
    assert wait_until(lambda: len(served.leaders()) == 2, 30, 0.2), served.leaders()
    successor = served.leaders()[-1]
    assert successor in replaced
    assert lock_holders(served.database_url) == 1
    assert recorded_leader(served.database_url) == successor

    # every write stored once, the policy offered each recognised case once, the read models
    # equal a fold over the events
    app = build_case_application(
        Settings(database_url=served.database_url, data_dir=Path(served.env["STAFFEL_DATA_DIR"]))
    )
    try:
        problems = no_server_errors(history)
        problems += check(history, app, build_view_store(app), served.env)
    finally:
        app.close()
    assert not problems, report(problems, history)
    assert history.outcomes()["accept acknowledged"] >= 1, history.summary()

    # and requests keep succeeding, on the survivor and on its new sibling
    sent = until_both_serve(served, "/healthz", replaced)
    assert set(sent.values()) == {200}
    assert set(served.serving_pids(set(sent)).values()) == replaced


def test_the_worker_count_is_a_positive_number() -> None:
    from cli.main import parser

    assert parser().parse_args(["serve", "--workers", "3"]).workers == 3
    assert parser().parse_args(["serve"]).workers is None  # then STAFFEL_HTTP_WORKERS or cores
    for bad in ("0", "-1", "two"):
        with pytest.raises(SystemExit):
            parser().parse_args(["serve", "--workers", bad])
    with pytest.raises(ValidationError, match="http_workers"):
        Settings(http_workers=0)
    assert Settings(http_workers=3).http_worker_count == 3
    assert Settings(http_workers=None).http_worker_count == len(os.sched_getaffinity(0))


def test_a_start_removes_the_metrics_of_servers_that_are_gone(tmp_path: Path) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    stale = tmp_path / (PREFIX + "stale")
    stale.mkdir()
    (stale / OWNER).write_text(str(gone.pid))
    (stale / "counter_1.db").write_bytes(b"x")
    running = tmp_path / (PREFIX + "running")
    running.mkdir()
    (running / OWNER).write_text(str(os.getpid()))
    with shared_metrics_dir(tmp_path) as mine:
        assert mine.is_dir()
        assert (mine / OWNER).read_text() == str(os.getpid())
        assert not stale.exists()
        assert running.exists()
    assert not mine.exists()


@pytest.fixture(scope="module")
def served_on_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """Two workers on SQLite, where the projections follow by polling (no notifications): a
    read right after a write finds them behind."""
    tmp = tmp_path_factory.mktemp("serve-workers-sqlite")
    url = f"sqlite:///{tmp}/staffel.db"
    env = production_env(url, tmp / "data", STAFFEL_HTTP_WORKERS="1")
    process = ServeProcess(env, tmp / "serve.log", args=("--workers", "2"))
    made = Served(process, url, env)
    try:
        process.wait_ready(90)
        assert wait_until(lambda: len(made.live_workers()) == 2, 90, 0.2), made.records()[-20:]
        yield made
    finally:
        process.stop()


@pytest.mark.parametrize("backend", ["postgres", "sqlite"])
def test_a_read_on_the_other_worker_sees_the_callers_write(
    backend: str, request: pytest.FixtureRequest
) -> None:
    """Read your writes across workers: each note is written on a connection of its own and the
    history read at once on another, whichever worker answers either (the kernel chooses). The
    reading worker did not see the write: it finds the caller's position in the table the
    workers share (``adapters/write_positions``) and waits for it."""
    served: Served = request.getfixturevalue(
        "served" if backend == "postgres" else "served_on_sqlite"
    )
    token = mint(JWT_SECRET, sub="cw-rw", org="agentur-aachen-dueren", roles=["caseworker"])
    auth = {"Authorization": f"Bearer {token}"}
    fresh = httpx.Limits(max_keepalive_connections=0)
    registration = {
        "person": {"given_name": "Amal", "family_name": "Haddad", "birth_date": "1990-01-01",
                   "nationality": "SY"},
        "residence_municipality": "Erkelenz", "legal_status": "asylum_seeker",
    }  # fmt: skip
    read_ids: set[str] = set()
    with httpx.Client(base_url=served.process.base_url, limits=fresh, timeout=20) as http:
        r = http.post("/cases", json=registration, headers=auth)
        assert r.status_code == 201, r.text
        case_id = r.json()["case_id"]
        for n in range(20):
            text = f"Gespräch {n}"
            r = http.post(f"/cases/{case_id}/events", json={"type": "NoteRecorded", "text": text},
                          headers=auth)  # fmt: skip
            assert r.status_code == 201, r.text
            read_ids.add(request_id := uuid.uuid4().hex)
            r = http.get(f"/cases/{case_id}/history", headers={**auth, "X-Request-Id": request_id})
            assert r.status_code == 200, r.text
            assert r.json()["version"] == n + 2  # the note just written is there
    assert wait_until(partial(all_logged, served, read_ids), 20, 0.2)
    assert len(set(served.serving_pids(read_ids).values())) == 2  # both workers read


def _remember_many(path: str, seed: int) -> dict[str, int]:
    """In a process of its own: remember random positions, out of order; the highest per caller."""
    import random

    from adapters.write_positions import SharedWritePositions

    table, rng = SharedWritePositions(Path(path)), random.Random(seed)
    highest: dict[str, int] = {}
    for _ in range(3000):
        sub, position = rng.choice(["cw-1", "cw-2", "cw-3"]), rng.randrange(1, 10**9)
        table.remember(("agentur-aachen-dueren", sub), position)
        highest[sub] = max(position, highest.get(sub, 0))
    return highest


def test_the_workers_share_each_callers_highest_write_position(tmp_path: Path) -> None:
    """The table ``staffel serve`` gives its workers: what one process remembers another reads,
    and racing processes leave each caller's highest position, never a later but lower one."""
    import multiprocessing

    from adapters import write_positions

    path = write_positions.create(tmp_path / "positions.bin")
    callers = [("agentur-aachen-dueren", s) for s in ("cw-1", "cw-2", "cw-3", "cw-never")]
    assert len({write_positions.slot(c) for c in callers}) == 4  # no two on one slot here
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        results = pool.starmap(_remember_many, [(str(path), seed) for seed in range(4)])
    table = write_positions.SharedWritePositions(path)
    for org, sub in callers[:3]:
        assert table.get((org, sub)) == max(r[sub] for r in results)
    assert table.get(callers[3]) == 0  # nobody's write: a read by them waits for nothing
