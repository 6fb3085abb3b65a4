"""The library's application recorders, extended by two things written in the same transaction as
the events: an idempotency record (a retried request finds it and gets the first response; a
concurrent duplicate collides on the key and records nothing; every write has one, with the
client's key or a server-made ``s1:`` id, so a commit of unknown outcome can be looked up,
ADR 0005), and the data keys of
new cases (ADR 0008: no case's events without its key, no key without its case). On PostgreSQL
the commands of a process share transactions (group commit, ADR 0012): their events, idempotency
records and keys in one transaction each batch."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, cast
from uuid import UUID

from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.sqlite import (
    SQLiteApplicationRecorder,
    SQLiteConnection,
    SQLiteConnectionPool,
    SQLiteCursor,
    SQLiteDatastore,
)
from eventsourcing.utils import retry
from psycopg import Cursor
from psycopg.pq import TransactionStatus
from psycopg.rows import DictRow
from psycopg.sql import SQL, Composed, Identifier

from adapters import keystore
from adapters.group_commit import DEFAULT_WINDOW, Command, GroupCommitter, records_in
from domain.writes import IdempotencyRecord, Recorded

TABLE = "staffel_idempotency"
BEGIN, COMMIT = SQL("BEGIN"), SQL("COMMIT")
COLUMNS = "key TEXT PRIMARY KEY, request_hash TEXT NOT NULL, case_id TEXT NOT NULL," \
          " version INTEGER NOT NULL, digest TEXT NOT NULL, recorded_at TEXT NOT NULL"  # fmt: skip


def _row(record: IdempotencyRecord) -> tuple[Any, ...]:
    return (
        record.key,
        record.request_hash,
        str(record.id),
        record.version,
        record.digest,
        datetime.now(UTC).isoformat(),
    )


class SQLiteStaffelRecorder(SQLiteApplicationRecorder):
    def __init__(self, datastore: SQLiteDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        zero_deleted_content(datastore.pool)

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            f"CREATE TABLE IF NOT EXISTS {TABLE} ({COLUMNS})",
            keystore.SQLITE_DDL,
        ]

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._insert_events(c, stored_events, **kwargs)
        for record in records_in(kwargs):
            c.execute(f"INSERT INTO {TABLE} VALUES (?, ?, ?, ?, ?, ?)", _row(record))  # noqa: S608
        if keys := kwargs.get("case_keys"):
            keystore.insert_key_rows(
                c,
                f"INSERT INTO {keystore.TABLE} VALUES (?, ?, ?, NULL) ON CONFLICT DO NOTHING",  # noqa: S608
                keys,
            )
        return ids

    def find_idempotent_keys(self, keys: Sequence[str]) -> set[str]:
        """Which of ``keys`` are stored, in one query."""
        if not keys:
            return set()
        marks = ", ".join("?" * len(keys))
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT key FROM {TABLE} WHERE key IN ({marks})", list(keys))  # noqa: S608
            return {row["key"] for row in c.fetchall()}

    def find_idempotent(self, key: str) -> tuple[str, Recorded] | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT i.request_hash, i.case_id, i.version, i.digest, e.rowid AS position"  # noqa: S608
                f" FROM {TABLE} i JOIN {self.events_table_name} e"
                f" ON e.originator_id = REPLACE(i.case_id, '-', '')"
                f" AND e.originator_version = i.version"
                f" WHERE i.key = ?",
                (key,),
            )
            row = c.fetchone()
        return _recorded(row) if row else None


def zero_deleted_content(pool: SQLiteConnectionPool) -> None:
    """Every connection of the store (events, keys, views: one pool) overwrites deleted and
    replaced content with zeros (``PRAGMA secure_delete``), so no earlier copy of a summary, a
    dropped view generation or an erased key stays in the file (ADR 0008). Some builds of SQLite
    do this by default; Staffel does not rely on it."""
    create = pool._create_connection

    def create_zeroing() -> SQLiteConnection:
        conn = create()
        conn._sqlite_conn.execute("PRAGMA secure_delete = ON")
        return conn

    pool._create_connection = create_zeroing  # type: ignore[method-assign]


class PostgresStaffelRecorder(PostgresApplicationRecorder):
    group: GroupCommitter | None = None  # set by ``use_group_commit``

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        schema = Identifier(self.datastore.schema)
        self.insert_idempotency = SQL("INSERT INTO {0}.{1} VALUES (%s, %s, %s, %s, %s, %s)").format(
            schema, Identifier(TABLE)
        )
        self.insert_keys = SQL(
            "INSERT INTO {0}.{1} VALUES (%s, %s, %s, NULL) ON CONFLICT DO NOTHING"
        ).format(schema, Identifier(keystore.TABLE))
        # the library's lock statements and its NOTIFY (sent in one pipeline with the rest)
        self.lock_and_notify = [
            *self.lock_table_statements,
            SQL("NOTIFY {0}").format(Identifier(self.channel_name)),
        ]
        self.insert_batch = SQL(
            "INSERT INTO {0}.{1} (originator_id, originator_version, topic, state)"
            " SELECT originator_id, originator_version, topic, state FROM unnest(%s::{0}.{2}[])"
            " RETURNING originator_id, originator_version, notification_id"
        ).format(
            schema, Identifier(self.events_table_name), Identifier(self.stored_event_type_name)
        )
        self.sql_create_statements.append(
            SQL("CREATE TABLE IF NOT EXISTS {0}.{1} (" + COLUMNS + ")").format(
                Identifier(self.datastore.schema), Identifier(TABLE)
            )
        )
        self.sql_create_statements.append(
            SQL(keystore.POSTGRES_DDL.replace("{schema}", "{0}")).format(
                Identifier(self.datastore.schema)
            )
        )

    def use_group_commit(self, window: float | None = None) -> None:
        """Save concurrent commands in shared transactions (``window``: seconds, see
        ``GroupCommitter``)."""
        self.group = GroupCommitter(self.write_batch, DEFAULT_WINDOW if window is None else window)

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        if self.group is None or self.datastore.enable_db_functions:
            ids = super().insert_events(stored_events, **kwargs)
        else:
            ids = self._insert_grouped(stored_events, **kwargs)
        return cast("Sequence[int] | None", ids)

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)  # as the library's
    def _insert_grouped(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> list[int]:
        assert self.group is not None
        return self.group.submit(stored_events, kwargs)

    def write_batch(self, batch: Sequence[Command]) -> list[list[int]]:
        """One transaction for ``batch``: every idempotency record and new key (before the lock,
        as the library's single insert does), the table lock, then all events in one statement,
        so their notification ids follow commit order. Each command's notification ids.

        The whole transaction goes out as one pipeline, BEGIN to COMMIT: one wait for the
        server instead of five (BEGIN, the records, the lock, the insert, COMMIT), and the table
        lock is held for the server's work only, not for round trips to this process (and its
        turn at the GIL). A statement that fails (a duplicate key) skips the rest, COMMIT too:
        the transaction is rolled back, nothing of it is stored, as before."""
        events = [e for c in batch for e in c.stored_events]
        records = [_row(r) for c in batch for r in records_in(c.kwargs)]
        now = datetime.now(UTC).isoformat()
        keys = [(str(i), w, now) for c in batch for i, w in c.kwargs.get("case_keys") or ()]
        stored = [
            self.construct_pg_stored_event(e.originator_id, e.originator_version, e.topic, e.state)
            for e in events
        ]
        with self.datastore.get_connection() as conn:
            assert conn.autocommit, "the library's pool: BEGIN and COMMIT are this method's"
            inserted = conn.cursor()
            try:
                with conn.pipeline(), conn.cursor() as curs:
                    curs.execute(BEGIN)
                    if records:
                        curs.executemany(self.insert_idempotency, records)
                    if keys:
                        curs.executemany(self.insert_keys, keys)
                    for statement in self.lock_and_notify:
                        curs.execute(statement)
                    if stored:
                        inserted.execute(self.insert_batch, (stored,))
                    curs.execute(COMMIT)
            except BaseException:
                # a failed statement skips the rest, COMMIT too: end the aborted transaction
                if not conn.closed and conn.info.transaction_status != TransactionStatus.IDLE:
                    conn.rollback()
                raise
            rows = inserted.fetchall() if stored else []
            inserted.close()
        ids = {
            (_uuid(row["originator_id"]), row["originator_version"]): row["notification_id"]
            for row in rows
        }
        return [
            [ids[(_uuid(e.originator_id), e.originator_version)] for e in c.stored_events]
            for c in batch
        ]

    def _insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        if records := records_in(kwargs):
            # Synced at once (a nested pipeline): a concurrent duplicate's unique violation is
            # raised here, as an IntegrityError. Raised later, while the library still sends the
            # events, it would leave the pipeline aborted: an OperationalError, retried, a 500.
            with curs.connection.pipeline():
                curs.executemany(self.insert_idempotency, [_row(r) for r in records])
        if keys := kwargs.get("case_keys"):
            with curs.connection.pipeline():
                keystore.insert_key_rows(
                    curs,
                    SQL("INSERT INTO {0}.{1} VALUES (%s, %s, %s, NULL) ON CONFLICT DO NOTHING")
                    .format(Identifier(self.datastore.schema), Identifier(keystore.TABLE))
                    .as_string(curs),
                    keys,
                )
        super()._insert_events(curs, stored_events, **kwargs)

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)  # as the library's
    def select_events_after(
        self, after: Mapping[UUID, int], table: str | None = None
    ) -> list[StoredEvent]:
        """The events of each id above its version, in one round trip (``domain/bulk_read.py``)."""
        # One statement per id, all in one pipeline (one round trip): each an index range scan.
        # One statement for all (a join with unnest) let the planner scan the whole table, in
        # parallel and JIT-compiled, once it held a few hundred thousand events.
        statement = SQL(
            "SELECT originator_id, originator_version, topic, state FROM {0}.{1}"
            " WHERE originator_id = %s AND originator_version > %s ORDER BY originator_version"
        ).format(Identifier(self.datastore.schema), Identifier(table or self.events_table_name))
        return self._select_each(statement, list(after.items()))

    def _select_each(self, statement: Composed, params: list[tuple[Any, ...]]) -> list[StoredEvent]:
        if not params:
            return []
        found: list[StoredEvent] = []
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.executemany(statement, params, returning=True)
            while True:
                found += [_stored(row) for row in curs.fetchall()]
                if not curs.nextset():
                    break
        return found

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def select_latest(self, ids: Sequence[UUID], table: str) -> list[StoredEvent]:
        """The newest record of each id in ``table`` (the snapshots), in one round trip."""
        statement = SQL(
            "SELECT originator_id, originator_version, topic, state FROM {0}.{1}"
            " WHERE originator_id = %s ORDER BY originator_version DESC LIMIT 1"
        ).format(Identifier(self.datastore.schema), Identifier(table))
        return self._select_each(statement, [(i,) for i in ids])

    def find_idempotent_keys(self, keys: Sequence[str]) -> set[str]:
        """Which of ``keys`` are stored, in one statement: one array of keys, looked up in the
        primary key's index (``= ANY``), where a statement per key in a pipeline cost psycopg a
        round of Python work each."""
        if not keys:
            return set()
        statement = SQL("SELECT key FROM {0}.{1} WHERE key = ANY(%b)").format(
            Identifier(self.datastore.schema), Identifier(TABLE)
        )
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, (list(keys),))
            return {row["key"] for row in curs.fetchall()}

    def find_idempotent(self, key: str) -> tuple[str, Recorded] | None:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                SQL(
                    "SELECT i.request_hash, i.case_id, i.version, i.digest,"
                    " e.notification_id AS position FROM {0}.{1} i JOIN {0}.{2} e"
                    " ON e.originator_id = i.case_id::uuid AND e.originator_version = i.version"
                    " WHERE i.key = %s"
                ).format(
                    Identifier(self.datastore.schema),
                    Identifier(TABLE),
                    Identifier(self.events_table_name),
                ),
                (key,),
            )
            row = curs.fetchone()
        return _recorded(row) if row else None


def _stored(row: Any) -> StoredEvent:
    return StoredEvent(
        originator_id=row["originator_id"],
        originator_version=row["originator_version"],
        topic=row["topic"],
        state=bytes(row["state"]),
    )


def _uuid(value: UUID | str) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))


def _recorded(row: Any) -> tuple[str, Recorded]:
    return row["request_hash"], Recorded(
        UUID(row["case_id"]), int(row["version"]), int(row["position"]), row["digest"]
    )
