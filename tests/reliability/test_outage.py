"""While the database is unreachable every request fails fast: 503, ``Retry-After``, never a
500, never a hang; ``/readyz`` says 503; ``/healthz`` stays 200. When the database is back,
service resumes without a restart (issue 15, point 3).

PostgreSQL is a server of the test's own (``PgInstance``), stopped and started again under a
running app. SQLite's "unavailable" is a write lock held longer than the timeout."""

from __future__ import annotations

import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from bootstrap import build_services
from tests.support.api import (
    AGENTUR,
    PROBLEM,
    RECOGNIZED,
    Api,
    auth,
    note,
    registration,
    settings_for,
)
from tests.support.pg_instance import PgInstance
from tests.support.web import signed_in

TIMEOUT = 1.5  # STAFFEL_DB_TIMEOUT_SECONDS in these tests
# the longest any request may take while the database is gone: the timeout, and slack for a
# loaded 2-core machine (the fault suite allows the same: tests/reliability/test_postgres_down.py)
BOUND = TIMEOUT + 2.5


def timed(call: Callable[[], httpx.Response], limit: float = BOUND + 10) -> tuple[Any, float]:
    """``call()`` and how long it took; a call still running after ``limit`` is a hang (it is
    left behind in a daemon thread, so the test ends instead of waiting for it)."""
    answers: queue.Queue[Any] = queue.Queue()

    def run() -> None:
        try:
            answers.put(call())
        except Exception as e:
            answers.put(e)

    started = time.monotonic()
    threading.Thread(target=run, daemon=True).start()
    try:
        answer = answers.get(timeout=limit)
    except queue.Empty:
        answer = f"no answer after {limit} s"
    return answer, time.monotonic() - started


@pytest.fixture(scope="module")
def pg() -> Iterator[PgInstance]:
    instance = PgInstance().start()
    yield instance
    instance.close()


@pytest.fixture
def running(pg: PgInstance, tmp_path: Path) -> Iterator[Api]:
    if not _up(pg):
        pg.start()
    settings = settings_for(
        pg.create_database(), data_dir=tmp_path / "data", db_timeout_seconds=TIMEOUT
    )
    services = build_services(settings)
    app = create_app(settings, services)
    client = TestClient(app, raise_server_exceptions=False)
    client.__enter__()
    yield Api(app=app, services=services, client=client)
    if not _up(pg):
        pg.start()
    client.__exit__(None, None, None)
    services.close()


def _up(pg: PgInstance) -> bool:
    try:
        psycopg.connect(pg.url, connect_timeout=2).close()
    except psycopg.Error:
        return False
    return True


def assert_unavailable(answer: Any, elapsed: float, what: str, *, html: bool = False) -> None:
    assert isinstance(answer, httpx.Response), f"{what}: {answer!r}"
    assert answer.status_code == 503, (what, answer.status_code, answer.text[:300])
    assert int(answer.headers["retry-after"]) >= 1, (what, answer.headers)
    kind = "text/html" if html else PROBLEM
    assert answer.headers["content-type"].startswith(kind), (what, answer.headers)
    if not html:
        body = answer.json()
        assert body["type"].endswith("/database-unavailable"), body
    assert elapsed <= BOUND, f"{what} took {elapsed:.1f} s (bound {BOUND} s)"


def under_load(api: Api, case_id: str, seconds: float, clients: int = 4) -> list[tuple[int, float]]:
    """``clients`` writers and readers at once for ``seconds``: each answer's status and time."""
    answers: list[tuple[int, float]] = []
    lock = threading.Lock()
    until = time.monotonic() + seconds

    def client(n: int) -> None:
        i = 0
        while time.monotonic() < until:
            i += 1
            started = time.monotonic()
            if i % 2:
                key = {"Idempotency-Key": f"load-{n}-{i}"}
                r = api.client.post(
                    f"/cases/{case_id}/events", json=note(f"{n}-{i}"), headers=api.agentur | key
                )
            else:
                r = api.client.get(f"/cases/{case_id}", headers=api.agentur)
            with lock:
                answers.append((r.status_code, time.monotonic() - started))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 3 * BOUND)
    return answers


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_postgres_stopped_every_request_fails_fast_then_service_resumes(
    running: Api, pg: PgInstance, mode: str
) -> None:
    api = running
    case_id = api.register()["case_id"]
    api.record(case_id, note())
    web = signed_in(api, "cw-agentur", AGENTUR)
    assert web.get("/ui/cases").status_code == 200
    assert api.client.get("/readyz").status_code == 200

    pg.stop(mode)
    load = under_load(api, case_id, 2 * TIMEOUT)
    assert load, "no request was answered"
    assert {status for status, _ in load} == {503}, sorted({s for s, _ in load})
    slowest = max(elapsed for _, elapsed in load)
    assert slowest <= BOUND, f"a request under load took {slowest:.1f} s"
    print(f"under load: {len(load)} answers, all 503, slowest {slowest:.2f} s")
    key = {"Idempotency-Key": "outage-1"}
    calls: dict[str, Callable[[], httpx.Response]] = {
        "register": lambda: api.client.post("/cases", json=registration(), headers=api.agentur),
        "record": lambda: api.client.post(
            f"/cases/{case_id}/events", json=note("während"), headers=api.agentur | key
        ),
        "read": lambda: api.client.get(f"/cases/{case_id}", headers=api.agentur),
        "history": lambda: api.client.get(f"/cases/{case_id}/history", headers=api.agentur),
        "list": lambda: api.client.get("/cases", headers=api.agentur),
        "readyz": lambda: api.client.get("/readyz"),
    }
    seen: dict[str, float] = {}
    for what, call in calls.items():
        answer, elapsed = timed(call)
        seen[what] = round(elapsed, 2)
        if what == "readyz":
            assert isinstance(answer, httpx.Response), answer
            assert answer.status_code == 503, answer.text
            assert int(answer.headers["retry-after"]) >= 1
            assert answer.json()["ready"] is False
            assert elapsed <= BOUND, f"readyz took {elapsed:.1f} s"
        else:
            assert_unavailable(answer, elapsed, what)
    answer, elapsed = timed(lambda: web.get("/ui/cases"))
    assert_unavailable(answer, elapsed, "web page", html=True)
    assert "Datenbank" in answer.text
    assert api.client.get("/healthz").status_code == 200
    print("while down, seconds per request:", seen)

    pg.start()
    deadline, status = time.monotonic() + 20, 0
    while time.monotonic() < deadline:  # the pool reconnects by itself: no restart of the app
        r = api.client.post(f"/cases/{case_id}/events", json=note("danach"), headers=api.agentur)
        if (status := r.status_code) == 201:
            break
        assert status == 503, r.text
        time.sleep(0.2)
    assert status == 201, "writes did not resume"
    print("resumed after", round(20 - (deadline - time.monotonic()), 2), "s")
    assert api.client.get("/readyz").status_code == 200
    # the keyed write that met the outage: retried, it is stored once
    r = api.client.post(f"/cases/{case_id}/events", json=note("während"), headers=api.agentur | key)
    assert r.status_code == 201, r.text
    api.record(case_id, RECOGNIZED)
    assert web.get("/ui/cases").status_code == 200
    history = api.history(case_id, headers=api.agentur)
    texts = [e["data"].get("text") for e in history["entries"] if e["type"] == "NoteRecorded"]
    assert texts.count("während") == 1, texts


def test_sqlite_locked_longer_than_the_timeout_is_503(tmp_path: Path) -> None:
    """Another process holds SQLite's write lock: a write waits at most the timeout, then 503."""
    path = tmp_path / "staffel.db"
    settings = settings_for(f"sqlite:///{path}", data_dir=tmp_path / "data", db_timeout_seconds=1)
    services = build_services(settings)
    try:
        with TestClient(create_app(settings, services), raise_server_exceptions=False) as client:
            headers = auth("cw-agentur", AGENTUR)
            assert client.post("/cases", json=registration(), headers=headers).status_code == 201
            holder = sqlite3.connect(path)
            holder.execute("BEGIN IMMEDIATE")
            try:
                answer, elapsed = timed(
                    lambda: client.post("/cases", json=registration(), headers=headers)
                )
            finally:
                holder.rollback()
                holder.close()
            assert_unavailable(answer, elapsed, "register while locked")
            assert client.post("/cases", json=registration(), headers=headers).status_code == 201
    finally:
        services.close()
