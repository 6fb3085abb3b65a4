"""One process at a time creates or migrates the schema: a process's startup DDL (the library's
tables, types and tracking migration, the idempotency and key tables, the view registry, the
access log, sessions, federation tables) runs while holding a lock on the store, so two
processes started at once on a fresh store both come up (issue 15, ADR 0005).

PostgreSQL: a session-level advisory lock (``pg_advisory_lock``) on a connection of its own,
held around the whole startup; a process that dies releases it with its session. SQLite: an
exclusive ``flock`` on a file beside the database (SQLite stores are local files), and the
library's busy timeout (``SQLITE_LOCK_TIMEOUT``) for the other process's writes meanwhile.

Re-entrant within a process: ``build_services`` holds it around ``build_case_application``,
which takes it too when called alone (the CLI)."""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import structlog

from adapters.files import PRIVATE_FILE
from adapters.settings import Settings, library_env

log = structlog.get_logger(__name__)

# the advisory lock's key: any fixed bigint no other lock of this database uses ("staffel")
LOCK_KEY = 0x73746166_66656C
_held = threading.local()


@contextmanager
def schema_lock(settings: Settings) -> Iterator[None]:
    """Hold the store's schema lock (re-entrant within a thread)."""
    depth = getattr(_held, "depth", 0)
    if depth:
        _held.depth = depth + 1
        try:
            yield
        finally:
            _held.depth -= 1
        return
    lock = _postgres_lock if settings.is_postgres else _sqlite_lock
    started = time.monotonic()
    with lock(settings):
        waited = time.monotonic() - started
        if waited > 0.5:
            log.info("schema_lock_waited", seconds=round(waited, 1))
        _held.depth = 1
        try:
            yield
        finally:
            _held.depth = 0


@contextmanager
def _postgres_lock(settings: Settings) -> Iterator[None]:
    env = library_env(settings)
    params: dict[str, Any] = {
        "host": env["POSTGRES_HOST"],
        "port": env["POSTGRES_PORT"],
        "dbname": env["POSTGRES_DBNAME"],
        "user": env["POSTGRES_USER"],
        "password": env["POSTGRES_PASSWORD"],
        "connect_timeout": max(2, settings.lock_timeout_seconds),
    }
    with psycopg.connect(autocommit=True, **params) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))


@contextmanager
def _sqlite_lock(settings: Settings) -> Iterator[None]:
    name = library_env(settings)["SQLITE_DBNAME"]  # its directory made private on the way
    if name == ":memory:" or name.startswith("file:"):
        yield  # one process's own store
        return
    database = Path(name)
    path = database.with_name(database.name + ".schema-lock")
    fd = os.open(path, os.O_RDWR | os.O_CREAT, PRIVATE_FILE)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
