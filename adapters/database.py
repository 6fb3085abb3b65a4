"""How long anything waits for the database, and how to tell that it is unavailable (ADR 0002,
"When the database is unreachable").

One setting, ``STAFFEL_DB_TIMEOUT_SECONDS`` (``T``), bounds every wait on PostgreSQL:
- connecting (libpq ``connect_timeout``) and unacknowledged network data (``tcp_user_timeout``);
- each statement (``statement_timeout``) and each lock wait (``lock_timeout``, at most ``T``);
- waiting for a pooled connection (the pool's ``timeout``);
- the pool's background reconnection: after ``2 T`` of failures it gives up, and the next request
  makes it try again at once (its backoff never grows to minutes).

The library retries a failed read or write ten times (``@retry`` in ``eventsourcing.postgres``),
each attempt waiting up to ``T`` for a connection: 10 ``T`` in all. So within an HTTP request
(``RequestBudget``, set by the API's middleware) the first wait that runs out spends the
request's patience: every later connection request of that request fails at once with
``DatabaseUnavailableError``, which the library does not retry. A request therefore answers 503
after about ``T``, and while the outage lasts at once or after a fraction of a second
(``BoundedPool``); background threads (projections, CLI) keep the library's patience.
"""

from __future__ import annotations

import math
import select
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, cast

import psycopg
from eventsourcing.persistence import (
    ApplicationRecorder,
    ConnectionUnavailableError,
    InterfaceError,
    OperationalError,
    PersistenceError,
)
from eventsourcing.postgres import ConnectionPool, PostgresFactory
from eventsourcing.utils import Environment, EnvType, strtobool

DB_TIMEOUT_KEY = "STAFFEL_DB_TIMEOUT_SECONDS"
# group commit (ADR 0012, ``adapters/group_commit.py``): on unless "0"; the longest a batch's
# leader gathers, in milliseconds
GROUP_COMMIT_KEY = "STAFFEL_GROUP_COMMIT"
GROUP_COMMIT_WINDOW_KEY = "STAFFEL_GROUP_COMMIT_WINDOW_MS"
DEFAULT_TIMEOUT = 5.0
# SQLite's errors that mean "not now" rather than "wrong": another writer holds the lock too
# long, the file cannot be opened or read
SQLITE_UNAVAILABLE = ("database is locked", "database is busy", "unable to open", "disk i/o")


class DatabaseUnavailableError(PersistenceError):
    """The request already waited its time for the database: it is not asked again. Nothing
    of the request is stored by the call that raises it (it never got a connection)."""


@dataclass
class RequestBudget:
    """One request's patience with the database: spent by the first wait that runs out."""

    spent: bool = False


REQUEST_BUDGET: ContextVar[RequestBudget | None] = ContextVar("staffel_db_budget", default=None)


@contextmanager
def request_budget() -> Iterator[RequestBudget]:
    """Everything in this context (one HTTP request) shares one budget."""
    budget = RequestBudget()
    token = REQUEST_BUDGET.set(budget)
    try:
        yield budget
    finally:
        REQUEST_BUDGET.reset(token)


class BoundedPool(ConnectionPool[Any]):
    """The library's pool, aware of requests (``REQUEST_BUDGET``): a request whose budget is
    spent gets no connection at all.

    After a wait for a connection ran out (``unanswered``, cleared when one is handed out), a
    request probes, waiting briefly for a connection made meanwhile, at most every
    ``PROBE_INTERVAL``; every other request is refused at once. Requests can queue behind each
    other (the library loads a cached case under a lock per case): waiting each in turn, the
    last would wait for all of them.
    """

    unanswered = False
    BRIEF_WAIT = 0.25  # seconds: a probe's wait while the database is unanswered
    PROBE_INTERVAL = 0.5  # seconds: at most one probe this often
    probe: threading.Lock  # set by ``bound_pool``
    next_probe = 0.0

    def getconn(self, timeout: float | None = None) -> Any:
        wait = self.timeout if timeout is None else timeout
        budget = REQUEST_BUDGET.get()
        if budget is None:  # a background thread: the library's patience
            return self._waited(wait, budget)
        if budget.spent:
            raise DatabaseUnavailableError("the database did not answer in time")
        if self.unanswered:
            with self.probe:
                now = time.monotonic()
                refused = now < self.next_probe
                if not refused:
                    self.next_probe = now + self.PROBE_INTERVAL
            if refused:
                budget.spent = True
                raise DatabaseUnavailableError("the database did not answer in time")
            wait = min(wait, self.BRIEF_WAIT)
        return self._waited(wait, budget)

    def _waited(self, wait: float, budget: RequestBudget | None) -> Any:
        try:
            conn = super().getconn(wait)
        except psycopg.OperationalError:  # PoolTimeout: no connection within the wait
            self.unanswered = True
            if budget is not None:
                budget.spent = True
            raise
        self.unanswered = False
        return conn


def check_when_told(conn: psycopg.Connection[Any]) -> None:
    """The pool's check of a connection it hands out, without a round trip as long as nothing
    happened: an idle connection's socket has nothing to read, but one the server closed (a
    restart, ``pg_terminate_backend``) has its farewell or end-of-file waiting. Only then is the
    server asked (the library's pre-ping, ``check_connection``), which fails on a dead one: the
    pool discards it, makes a new one in the background and hands out the next.

    A connection the network lost without a word is not noticed here (nor was it quickly by a
    ping): its first statement fails within the database timeout (``tcp_user_timeout``), 503."""
    if conn.closed:
        raise psycopg.OperationalError("the connection is closed")
    try:
        readable, _, _ = select.select([conn.fileno()], [], [], 0)
    except (OSError, ValueError) as e:
        raise psycopg.OperationalError("the connection's socket is gone") from e
    if readable:
        ConnectionPool.check_connection(conn)


def bound_pool(pool: ConnectionPool[Any], timeout: float) -> None:
    """Bound every wait of ``pool`` (not yet opened) by ``timeout`` seconds; check connections
    only when their socket says something happened (``check_when_told``)."""
    millis = max(1, int(timeout * 1000))
    pool.timeout = timeout  # waiting for a connection
    pool.reconnect_timeout = max(2 * timeout, 2.0)
    assert isinstance(pool.kwargs, dict)
    pool.kwargs.update(
        # libpq counts whole seconds, at least 2
        connect_timeout=max(2, math.ceil(timeout)),
        tcp_user_timeout=millis,
        keepalives=1,
        keepalives_idle=max(1, math.ceil(timeout)),
        keepalives_interval=1,
        keepalives_count=3,
        options=f"-c statement_timeout={millis}",
    )
    pool._check = check_when_told  # psycopg_pool's ``check`` callback (pre-ping's place)
    pool.__class__ = BoundedPool  # same state; only ``getconn`` differs
    cast(BoundedPool, pool).probe = threading.Lock()


class BoundedPostgresFactory(PostgresFactory):
    """The library's PostgreSQL factory, its one pool (events, views, access log, key store,
    sessions: they all share it) bounded by ``STAFFEL_DB_TIMEOUT_SECONDS``."""

    def __init__(self, env: Environment | EnvType | None) -> None:
        super().__init__(env)
        timeout = float(self.env.get(DB_TIMEOUT_KEY) or DEFAULT_TIMEOUT)
        bound_pool(self.datastore.pool, timeout)

    def application_recorder(self) -> ApplicationRecorder:
        """The library's recorder; Staffel's (``PostgresStaffelRecorder``) saves concurrent
        commands in shared transactions unless ``STAFFEL_GROUP_COMMIT`` is off."""
        recorder = super().application_recorder()
        use_group_commit = getattr(recorder, "use_group_commit", None)
        if use_group_commit is not None and strtobool(self.env.get(GROUP_COMMIT_KEY) or "y"):
            window = self.env.get(GROUP_COMMIT_WINDOW_KEY)
            use_group_commit(None if window is None else float(window) / 1000)
        return recorder


def is_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` means the database is unreachable or did not answer in time (a 503),
    rather than a fault of the request or of our code (a 500). Follows the library's wrapping
    (its ``OperationalError`` and ``InterfaceError`` carry the driver's error as the cause)."""
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return False
        if isinstance(seen, DatabaseUnavailableError | ConnectionUnavailableError):
            return True  # ours, or the library's pool waited its time for a connection
        if isinstance(seen, psycopg.OperationalError | psycopg.InterfaceError):
            return True  # connection lost or refused, pool timeout, statement or lock timeout
        if isinstance(seen, sqlite3.OperationalError):
            return any(s in str(seen).lower() for s in SQLITE_UNAVAILABLE)
        if not isinstance(seen, OperationalError | InterfaceError):
            return False
        if seen.__cause__ is None:  # raised by the library itself (SQLite's checks)
            return any(s in str(seen).lower() for s in SQLITE_UNAVAILABLE)
        seen = seen.__cause__
    return False
