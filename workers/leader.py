"""Leader election for the workers: of all the processes on one database, one runs the
projections, the handover policy and the outbox; the others stand by and take over when it dies.

On PostgreSQL the lead is a session-level advisory lock held on a connection of its own
(``pg_try_advisory_lock``): it goes with the connection, so with the process however it dies.
On SQLite (one machine) it is an exclusive ``flock`` on a file beside the database, which the
kernel releases when the process dies. Who leads is recorded in ``worker_leads`` (host, pid,
since) for ``staffel status``. ADR 0004.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Protocol

import psycopg
import structlog
from eventsourcing.postgres import PostgresApplicationRecorder

from adapters.views.store import ViewStoreMixin
from domain.application import StaffelApplication

log = structlog.get_logger("staffel.leader")

WORKERS = "workers"  # the one group: projections, handover policy, outbox, mail outbox
# what the group runs, as ``staffel status`` names it
MEMBERS = (
    "case_history", "case_summary", "matching", "follow_ups", "handover_policy", "outbox",
    "mail_outbox",
)  # fmt: skip
LOCK_CLASS = 0x5374  # the advisory lock's first key ("St"); the second is the group's crc32
LEADS_TABLE = (
    "CREATE TABLE IF NOT EXISTS worker_leads (name TEXT PRIMARY KEY, host TEXT NOT NULL,"
    " pid INTEGER NOT NULL, since TEXT NOT NULL)"
)


class Lead(Protocol):
    """One process's claim to lead a group of workers."""

    def acquire(self) -> bool:
        """Take the lead if it is free; True while this process holds it."""
        ...

    def held(self) -> bool:
        """Whether the lead is still this process's (its connection alive)."""
        ...

    def release(self) -> None: ...


@dataclass
class Holder:
    """Who leads a group, as recorded by the leader; ``live``: the lock is held right now."""

    name: str
    host: str
    pid: int
    since: str
    live: bool


def _lock_key(name: str) -> int:
    return zlib.crc32(name.encode()) & 0x7FFFFFFF


def conninfo_of(app: StaffelApplication) -> str:
    env = app.env
    return psycopg.conninfo.make_conninfo(
        dbname=env.get("POSTGRES_DBNAME"),
        host=env.get("POSTGRES_HOST"),
        port=env.get("POSTGRES_PORT"),
        user=env.get("POSTGRES_USER"),
        password=env.get("POSTGRES_PASSWORD") or None,
        connect_timeout=5,
        # a dead peer is noticed (and the lock freed on the server) within about half a minute
        keepalives=1,
        keepalives_idle=10,
        keepalives_interval=5,
        keepalives_count=3,
        application_name="staffel-lead",
    )


class PostgresLead:
    """A session-level advisory lock on a dedicated autocommit connection."""

    def __init__(self, conninfo: str, name: str = WORKERS) -> None:
        self.conninfo, self.name = conninfo, name
        self.key = _lock_key(name)
        self._conn: psycopg.Connection[Any] | None = None
        self._held = False

    def acquire(self) -> bool:
        if self._held and self.held():
            return True
        try:
            if self._conn is None or self._conn.closed:
                self._conn = psycopg.connect(self.conninfo, autocommit=True)
            row = self._conn.execute(
                "SELECT pg_try_advisory_lock(%s, %s)", (LOCK_CLASS, self.key)
            ).fetchone()
        except psycopg.Error as e:
            log.warning("lead_connection_failed", error_type=type(e).__name__)
            self._drop()
            return False
        self._held = bool(row and row[0])
        return self._held

    def held(self) -> bool:
        if not self._held or self._conn is None:
            return False
        try:
            self._conn.execute("SELECT 1")
        except psycopg.Error:
            self._drop()  # the session is gone, and with it the lock
            return False
        return True

    def release(self) -> None:
        self._drop()

    def _drop(self) -> None:
        self._held = False
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                self._conn.close()  # ends the session: the server frees the lock
            self._conn = None


class FileLead:
    """An exclusive ``flock`` on ``path``; a second open of the file in the same process is a
    contender too (flock locks belong to the open file)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[bytes] | None = None

    def acquire(self) -> bool:
        if self._file is not None:
            return True
        # this account's only, like the database beside it (docs/data-protection.md)
        f = os.fdopen(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "ab")
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.close()
            return False
        self._file = f
        return True

    def held(self) -> bool:
        return self._file is not None

    def release(self) -> None:
        if self._file is not None:
            self._file.close()  # closing the file releases the lock
            self._file = None


class AlwaysLead:
    """An in-memory SQLite store belongs to one process: it always leads."""

    def acquire(self) -> bool:
        return True

    def held(self) -> bool:
        return True

    def release(self) -> None:
        pass


def lock_file(app: StaffelApplication, name: str = WORKERS) -> Path | None:
    """The lock file beside an SQLite database (None: in memory)."""
    dbname = str(app.env.get("SQLITE_DBNAME") or "")
    if not dbname or ":memory:" in dbname or "mode=memory" in dbname:
        return None
    return Path(dbname).with_name(Path(dbname).name + f".{name}.lock")


def lead_for(app: StaffelApplication, name: str = WORKERS) -> Lead:
    """This process's claim to lead ``name`` on the application's database."""
    if isinstance(app.recorder, PostgresApplicationRecorder):
        return PostgresLead(conninfo_of(app), name)
    path = lock_file(app, name)
    return AlwaysLead() if path is None else FileLead(path)


def record_holder(store: ViewStoreMixin, name: str = WORKERS) -> None:
    """Record this process as the leader of ``name`` (only the leader writes here, so creating
    the table races with nobody)."""
    row = (name, socket.gethostname(), os.getpid(), datetime.now(UTC).isoformat())
    with store.cursor(commit=True) as curs:
        curs.execute(LEADS_TABLE)
        curs.execute(
            store.sql(
                "INSERT INTO worker_leads VALUES (%s, %s, %s, %s) ON CONFLICT (name) DO UPDATE"
                " SET host = excluded.host, pid = excluded.pid, since = excluded.since"
            ),
            row,
        )


def holder(app: StaffelApplication, store: ViewStoreMixin, name: str = WORKERS) -> Holder | None:
    """The recorded leader of ``name`` and whether the lead is held right now (None: nobody
    ever led it on this database)."""
    try:
        with store.cursor() as curs:
            curs.execute(
                store.sql("SELECT host, pid, since FROM worker_leads WHERE name = %s"), (name,)
            )
            row = curs.fetchone()
    except Exception:  # no table yet: nobody has led on this database
        return None
    if row is None:
        return None
    return Holder(name, row["host"], int(row["pid"]), row["since"], is_held(app, name))


def is_held(app: StaffelApplication, name: str = WORKERS) -> bool:
    """Whether some process holds the lead of ``name`` now (without taking it on PostgreSQL;
    on SQLite by trying the lock for an instant)."""
    if isinstance(app.recorder, PostgresApplicationRecorder):
        with psycopg.connect(conninfo_of(app), autocommit=True) as conn:
            row = conn.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                " AND classid = %s AND objid = %s AND objsubid = 2",
                (LOCK_CLASS, _lock_key(name)),
            ).fetchone()
            return bool(row and row[0])
    path = lock_file(app, name)
    if path is None:
        return True
    probe = FileLead(path)
    if probe.acquire():
        probe.release()
        return False
    return True
