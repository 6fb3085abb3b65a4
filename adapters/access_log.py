"""Who read which case when: an append-only table beside the events (written on every read of a
case's personal data; auditors list it).

The log is a hash chain in insertion order, like a case's events: each row carries the hash of
the row before it (``prev_hash``) and its own ``hash``, the SHA-256 of the canonical JSON of
``{"at", "actor", "org", "case_id", "endpoint", "prev_hash"}``. Writers take turns on the one row
of ``access_log_head`` (which also counts the rows), so the chain has no forks. ``verify`` names a
row whose content no longer matches its hash (``access_log_changed``) and a row whose predecessor
is gone or was rewritten (``access_log_missing``).

Appends are group commits (ADR 0014): the readers of one process queue their entries, one of
them (the leader) appends every entry queued so far in one transaction, taking the head-row lock
once per batch, and each reader returns only once the batch holding its entry has committed; if
that commit fails, every reader of the batch gets the error. Batches of several processes take
turns on the head row like single entries did.

A fork is refused by construction as well (ADR 0014): ``prev_hash`` is unique, so a second row
naming the same predecessor cannot be committed; a batch refused so (it read a last hash that
another writer had extended meanwhile) is appended again from the new last hash, a few times at
most. A batch also checks that its head update touched the head row (or the turns are not
taken) and, on PostgreSQL, that its connection is outside any transaction.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import psycopg
import structlog
from eventsourcing.persistence import IntegrityError as LibraryIntegrityError
from psycopg.pq import TransactionStatus

from adapters.views.store import ViewStoreMixin
from verifier.audit_verify import GENESIS, Problem, canonical

CREATE = {
    "sqlite": (
        "CREATE TABLE IF NOT EXISTS access_log (id INTEGER PRIMARY KEY AUTOINCREMENT,"
        " at TEXT NOT NULL, actor TEXT NOT NULL, org TEXT NOT NULL, case_id TEXT NOT NULL,"
        " endpoint TEXT NOT NULL, prev_hash TEXT, hash TEXT)"
    ),
    "postgres": (
        "CREATE TABLE IF NOT EXISTS access_log (id BIGSERIAL PRIMARY KEY,"
        " at TEXT NOT NULL, actor TEXT NOT NULL, org TEXT NOT NULL, case_id TEXT NOT NULL,"
        " endpoint TEXT NOT NULL, prev_hash TEXT, hash TEXT)"
    ),
}
HEAD = (
    "CREATE TABLE IF NOT EXISTS access_log_head (one INTEGER PRIMARY KEY CHECK (one = 1),"
    " written BIGINT NOT NULL)"
)
UNIQUE_PREV = "CREATE UNIQUE INDEX IF NOT EXISTS access_log_prev_hash ON access_log (prev_hash)"
UNIQUE_PREV_NAME = "access_log_prev_hash"
ATTEMPTS = 5  # a batch refused for a taken predecessor is appended again, this often at most
COLUMNS = "id, at, actor, org, case_id, endpoint, prev_hash, hash"
HASHED = ("at", "actor", "org", "case_id", "endpoint")


def row_hash(row: dict[str, Any], prev_hash: str) -> str:
    body = {k: row[k] for k in HASHED} | {"prev_hash": prev_hash}
    return hashlib.sha256(canonical(body)).hexdigest()


def hashed_prefix(row: dict[str, Any]) -> bytes:
    """What a row's hash covers before its predecessor's hash: ``prev_hash`` sorts last of the
    hashed keys, so the canonical JSON is this prefix, the predecessor's hash (hex, nothing to
    escape) and ``"}``. ``row_hash(row, p) == sha256(hashed_prefix(row) + p + '"}')``."""
    body = canonical({k: row[k] for k in HASHED} | {"prev_hash": GENESIS})
    assert body.endswith(_TAIL), "prev_hash is the last key of the canonical JSON"
    return body[: -len(GENESIS) - 2]


_TAIL = f'"prev_hash":"{GENESIS}"}}'.encode()

# PostgreSQL: a batch is one statement (ADR 0014 addendum). Its turn on the head row, the read of
# the last hash and the rows with their hashes happen in the server; the head row is held for
# the server's work and the commit only, never while this process builds rows or waits for its
# turn at the GIL. Each hash is sha256(prefix || predecessor || '"}'), the prefix being the
# row's canonical JSON up to its predecessor (``hashed_prefix``), made by the same code the
# verifier uses: the server concatenates and hashes, it encodes no JSON of its own.
APPEND_FUNCTION = """
CREATE OR REPLACE FUNCTION access_log_append(
    p_at text[], p_actor text[], p_org text[], p_case_id text[], p_endpoint text[],
    p_prefix bytea[]) RETURNS integer LANGUAGE plpgsql AS $body$
DECLARE
    n integer := cardinality(p_at);
    prev text;
    prevs text[] := '{}';
    hashes text[] := '{}';
BEGIN
    UPDATE access_log_head SET written = written + n WHERE one = 1;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'access log: the head update touched 0 rows, not 1'
            USING ERRCODE = 'SL001';
    END IF;
    SELECT hash INTO prev FROM access_log ORDER BY id DESC LIMIT 1;
    prev := coalesce(prev, repeat('0', 64));
    FOR i IN 1 .. n LOOP
        prevs[i] := prev;
        prev := encode(sha256(p_prefix[i] || convert_to(prev, 'UTF8') || '\\x227d'::bytea),
                       'hex');
        hashes[i] := prev;
    END LOOP;
    INSERT INTO access_log (at, actor, org, case_id, endpoint, prev_hash, hash)
        SELECT r.at, r.actor, r.org, r.case_id, r.endpoint, r.prev_hash, r.hash
        FROM unnest(p_at, p_actor, p_org, p_case_id, p_endpoint, prevs, hashes)
            WITH ORDINALITY AS r(at, actor, org, case_id, endpoint, prev_hash, hash, i)
        ORDER BY r.i;
    RETURN n;
END
$body$
"""
assert GENESIS == "0" * 64, "the function starts the chain with repeat('0', 64)"
HEAD_MISSING = "SL001"  # the SQLSTATE the function raises without the head row


log = structlog.get_logger("staffel.access_log")


class AccessLogHeadError(RuntimeError):
    """The head row is not there to take turns on: batches would not be serialised."""


def _taken_predecessor(error: BaseException) -> bool:
    """Did this insert fail on ``access_log(prev_hash)`` being unique (a fork refused)?"""
    while error is not None:
        if isinstance(
            error, (LibraryIntegrityError, psycopg.IntegrityError, sqlite3.IntegrityError)
        ) and ("prev_hash" in str(error) or UNIQUE_PREV_NAME in str(error)):
            return True
        error = error.__cause__ or error.__context__  # type: ignore[assignment]
    return False


Entry = tuple[str, str, str, str, str]  # at, actor, org, case_id, endpoint


@dataclass
class _Pending:
    """One reader's entries, waiting for the batch that appends them."""

    entries: list[Entry]
    done: bool = False
    error: BaseException | None = field(default=None, repr=False)


class AccessLog:
    def __init__(self, store: ViewStoreMixin) -> None:
        self.store = store
        self._turn = threading.Condition()
        self._queue: list[_Pending] = []
        self._leading = False
        self.batches = 0  # transactions committed by this process (the benchmark reports it)
        self.dialect = "sqlite" if store.PLACEHOLDER == "?" else "postgres"
        with store.cursor(commit=True) as curs:
            curs.execute(HEAD)
            curs.execute(CREATE[self.dialect])
            curs.execute("CREATE INDEX IF NOT EXISTS access_log_case ON access_log (case_id, id)")
        if self._columns() != {"prev_hash", "hash"} or self._unchained():
            self._migrate()
        self._unique_predecessors()
        if self.dialect == "postgres":
            self._create_append_function()

    def _create_append_function(self) -> None:
        """Only when missing or different: a process that merely reads the log (``staffel audit
        verify``, which takes no schema lock) changes no catalog row a starting server may be
        replacing at the same moment ("tuple concurrently updated")."""
        with self.store.cursor() as curs:
            curs.execute(
                "SELECT prosrc FROM pg_proc WHERE proname = 'access_log_append'"
                " AND pronamespace = current_schema()::regnamespace"
            )
            found = curs.fetchone()
        if found is not None and found["prosrc"] == APPEND_FUNCTION.split("$body$")[1]:
            return
        with self.store.cursor(commit=True) as curs:
            curs.execute(APPEND_FUNCTION)

    def _unique_predecessors(self) -> None:
        """No two rows name one predecessor: the index refuses a fork. A log that has a fork
        already cannot take it; it starts without (``staffel audit verify`` names the fork)."""
        try:
            with self.store.cursor(commit=True) as curs:
                curs.execute(UNIQUE_PREV)
        except (LibraryIntegrityError, psycopg.IntegrityError, sqlite3.IntegrityError):
            log.warning("access_log_fork_found_index_skipped", index=UNIQUE_PREV_NAME)

    def _columns(self) -> set[str]:
        with self.store.cursor() as curs:
            if self.dialect == "sqlite":
                curs.execute("PRAGMA table_info(access_log)")
            else:
                curs.execute(
                    "SELECT column_name AS name FROM information_schema.columns"
                    " WHERE table_name = 'access_log' AND table_schema = current_schema()"
                )
            return {r["name"] for r in curs.fetchall()} & {"prev_hash", "hash"}

    def _unchained(self) -> bool:
        """No head row yet, or rows but none hashed: a log from before the chain existed."""
        with self.store.cursor() as curs:
            curs.execute("SELECT COUNT(*) AS n FROM access_log_head")
            if not int(curs.fetchone()["n"]):
                return True
            curs.execute("SELECT COUNT(*) AS n, COUNT(hash) AS hashed FROM access_log")
            counted = curs.fetchone()
            return bool(int(counted["n"]) and not int(counted["hashed"]))

    def _migrate(self) -> None:
        """Chain a log from before the chain existed: add the columns, hash its rows in order.
        Writes first (SQLite: a transaction that reads first cannot wait for the write lock)."""
        with self.store.cursor(commit=True) as curs:
            curs.execute("UPDATE access_log SET id = id WHERE id < 0")  # the write lock, first
            curs.execute("INSERT INTO access_log_head VALUES (1, 0) ON CONFLICT (one) DO NOTHING")
            if self.dialect == "postgres":
                for column in ("prev_hash", "hash"):
                    curs.execute(f"ALTER TABLE access_log ADD COLUMN IF NOT EXISTS {column} TEXT")
            else:
                curs.execute("PRAGMA table_info(access_log)")
                if "hash" not in {r["name"] for r in curs.fetchall()}:
                    curs.execute("ALTER TABLE access_log ADD COLUMN prev_hash TEXT")
                    curs.execute("ALTER TABLE access_log ADD COLUMN hash TEXT")
            curs.execute(f"SELECT {COLUMNS} FROM access_log ORDER BY id")  # noqa: S608
            prev, rows = GENESIS, [dict(r) for r in curs.fetchall()]
            if not rows or any(r["hash"] for r in rows):
                return
            for row in rows:
                row["prev_hash"], row["hash"] = prev, row_hash(row, prev)
                prev = row["hash"]
            sql = self.store.sql("UPDATE access_log SET prev_hash = %s, hash = %s WHERE id = %s")
            curs.executemany(sql, [(r["prev_hash"], r["hash"], r["id"]) for r in rows])
            sql = self.store.sql("UPDATE access_log_head SET written = %s")
            curs.execute(sql, (len(rows),))

    def record(self, *, actor: str, org: str, case_ids: list[str], endpoint: str) -> None:
        """Append one entry per case; returns once they are durable (raises if they are not)."""
        if not case_ids:
            return
        at = datetime.now(UTC).isoformat()
        mine = _Pending([(at, actor, org, case_id, endpoint) for case_id in case_ids])
        with self._turn:
            self._queue.append(mine)
            while self._leading and not mine.done:
                self._turn.wait()
            if not mine.done:  # nobody is appending: lead a batch of everything queued
                self._leading = True
                batch, self._queue = self._queue, []
        if not mine.done:
            error: BaseException | None = None
            try:
                self._append([e for pending in batch for e in pending.entries])
            except BaseException as e:  # every reader of the batch learns it
                error = e
            with self._turn:
                for pending in batch:
                    pending.done, pending.error = True, error
                self._leading = False
                self._turn.notify_all()
        if mine.error is not None:
            raise mine.error

    @contextmanager
    def _batch_transaction(self) -> Iterator[Any]:
        """One transaction; on PostgreSQL pipelined: BEGIN, the head's update and the last hash
        in one round trip, the rows and COMMIT in another (the head row stays locked for about
        one round trip, not five)."""
        if self.dialect == "sqlite":
            with self.store.cursor(commit=True) as curs:
                yield curs
            return
        with self.store.datastore.get_connection() as conn:
            status = conn.info.transaction_status
            if status in (TransactionStatus.INTRANS, TransactionStatus.INERROR):
                # a transaction left open would make ours a savepoint: committed with it, not now
                log.warning("access_log_connection_in_transaction", status=status.name)
                conn.rollback()
            elif status != TransactionStatus.IDLE:
                raise RuntimeError(f"access log: connection not idle ({status.name})")
            with conn.pipeline(), conn.transaction():
                yield conn.cursor()

    def _append(self, entries: list[Entry]) -> None:
        for attempt in range(1, ATTEMPTS + 1):
            try:
                self._append_once(entries)
            except Exception as e:
                if not _taken_predecessor(e) or attempt == ATTEMPTS:
                    raise
                # another writer extended the last row first: read the new last hash, again
                log.warning("access_log_fork_refused", attempt=attempt, rows=len(entries))
            else:
                self.batches += 1
                return

    def _append_in_server(self, entries: list[Entry]) -> None:
        """One statement, its own transaction (``APPEND_FUNCTION``)."""
        columns: list[list[Any]] = [[], [], [], [], [], []]
        for at, actor, org, case_id, endpoint in entries:
            row = {"at": at, "actor": actor, "org": org, "case_id": case_id, "endpoint": endpoint}
            for column, value in zip(columns, (*row.values(), hashed_prefix(row)), strict=True):
                column.append(value)
        with self.store.datastore.get_connection() as conn:
            if conn.info.transaction_status != TransactionStatus.IDLE:
                # a transaction left open would make ours part of it: committed with it, not now
                log.warning(
                    "access_log_connection_in_transaction",
                    status=conn.info.transaction_status.name,
                )
                conn.rollback()
            try:
                conn.execute(
                    "SELECT access_log_append(%s, %s, %s, %s, %s, %s)", columns, prepare=True
                )
            except psycopg.Error as e:
                if e.sqlstate == HEAD_MISSING:
                    raise AccessLogHeadError(str(e.diag.message_primary)) from None
                raise

    def _last_hash(self, curs: Any) -> str:
        curs.execute("SELECT hash FROM access_log ORDER BY id DESC LIMIT 1")
        last = curs.fetchone()
        return str((last["hash"] if last else None) or GENESIS)

    def _append_once(self, entries: list[Entry]) -> None:
        if self.dialect == "postgres":
            self._append_in_server(entries)
            return
        with self._batch_transaction() as curs:
            # the write lock first: batches of other processes queue here, then each extends
            # the chain (the head row comes back on a cursor of its own: fetched once the
            # pipeline synced, no round trip of its own)
            head = (
                curs.connection.cursor()
                if self.dialect == "postgres"
                else curs.sqlite_cursor.connection.cursor()  # the library's wraps sqlite3's
            )
            sql = "UPDATE access_log_head SET written = written + %s WHERE one = 1 RETURNING one"
            head.execute(self.store.sql(sql), (len(entries),))
            prev = self._last_hash(curs)
            touched = len(head.fetchall())
            if touched != 1:
                raise AccessLogHeadError(
                    f"access log: the head update touched {touched} rows, not 1"
                )
            rows = []
            for at, actor, org, case_id, endpoint in entries:
                row = {"at": at, "actor": actor, "org": org, "case_id": case_id}
                row |= {"endpoint": endpoint}
                digest = row_hash(row, prev)
                rows.append((at, actor, org, case_id, endpoint, prev, digest))
                prev = digest
            curs.executemany(
                self.store.sql(
                    "INSERT INTO access_log (at, actor, org, case_id, endpoint, prev_hash, hash)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s)"
                ),
                rows,
            )

    def entries(
        self,
        *,
        case_id: str | None = None,
        actor: str | None = None,
        since: str | None = None,
        after: int = 0,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        where: list[str] = ["id > %s"]
        params: list[object] = [after]
        for column, op, value in (
            ("case_id", "=", case_id),
            ("actor", "=", actor),
            ("at", ">=", since),
        ):
            if value is not None:
                where.append(f"{column} {op} %s")
                params.append(value)
        with self.store.cursor() as curs:
            curs.execute(
                self.store.sql(
                    f"SELECT {COLUMNS} FROM access_log"  # noqa: S608
                    f" WHERE {' AND '.join(where)} ORDER BY id LIMIT {int(limit)}"
                ),
                params,
            )
            return [dict(row) for row in curs.fetchall()]

    # -- verification ------------------------------------------------------------------------

    def rows(self, up_to: int, page: int = 5000) -> Iterator[dict[str, Any]]:
        after = 0
        while batch := self.entries(after=after, limit=page):
            yield from (row for row in batch if row["id"] <= up_to)
            if batch[-1]["id"] >= up_to:
                return
            after = batch[-1]["id"]

    def head(self) -> dict[str, Any]:
        """What a checkpoint signs of the log: the rows written and the last one (read at once:
        writers take turns, so every row up to the last is committed)."""
        with self.store.cursor() as curs:
            curs.execute(
                "SELECT h.written, a.id, a.hash FROM access_log_head h LEFT JOIN access_log a"
                " ON a.id = (SELECT MAX(id) FROM access_log)"
            )
            found = curs.fetchone()
        return {
            "rows": int(found["written"]) if found else 0,
            "last_id": int(found["id"]) if found and found["id"] is not None else 0,
            "last_hash": (found["hash"] if found else None) or GENESIS,
        }

    def verify(self, signed: dict[str, Any] | None = None) -> list[Problem]:
        """Recompute the chain; with a checkpoint's ``signed`` head, check it is still there."""
        head = self.head()
        problems: list[Problem] = []
        prev, count, seen = GENESIS, 0, None
        for row in self.rows(head["last_id"]):
            count += 1
            if row["hash"] != row_hash(row, row["prev_hash"] or ""):
                problems.append(_problem(row, "access_log_changed", "content does not match hash"))
            elif row["prev_hash"] != prev:
                problems.append(_problem(row, "access_log_missing", "the row before it is gone"))
            if signed and row["id"] == signed.get("last_id"):
                seen = row
            prev = row["hash"] or ""
        if head["rows"] != count:
            kind = "access_log_missing" if head["rows"] > count else "access_log_changed"
            detail = f"{count} rows where {head['rows']} were written"
            problems.append(Problem(None, None, kind, detail))
        if signed and signed.get("last_id"):
            detail = "the checkpoint's last access-log row"
            if seen is None:
                problems.append(
                    Problem(None, None, "access_log_missing", detail, signed["last_id"])
                )
            elif seen["hash"] != signed.get("last_hash"):
                problems.append(_problem(seen, "access_log_changed", detail + " differs"))
        return problems


def _problem(row: dict[str, Any], kind: str, detail: str) -> Problem:
    return Problem(row["case_id"], None, kind, detail, int(row["id"]))
