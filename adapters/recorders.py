"""The library's application recorders, extended by two things written in the same transaction as
the events: an idempotency record (a retried request finds it and gets the first response; a
concurrent duplicate collides on the key and records nothing; every write has one, with the
client's key or a server-made ``s1:`` id, so a commit of unknown outcome can be looked up,
ADR 0005), and the data keys of
new cases (ADR 0008: no case's events without its key, no key without its case)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.sqlite import (
    SQLiteApplicationRecorder,
    SQLiteConnection,
    SQLiteConnectionPool,
    SQLiteCursor,
    SQLiteDatastore,
)
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from adapters import keystore
from domain.writes import IdempotencyRecord, Recorded

TABLE = "staffel_idempotency"
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
        record: IdempotencyRecord | None = kwargs.get("idempotency")
        if record is not None:
            c.execute(f"INSERT INTO {TABLE} VALUES (?, ?, ?, ?, ?, ?)", _row(record))  # noqa: S608
        if keys := kwargs.get("case_keys"):
            keystore.insert_key_rows(
                c,
                f"INSERT INTO {keystore.TABLE} VALUES (?, ?, ?, NULL) ON CONFLICT DO NOTHING",  # noqa: S608
                keys,
            )
        return ids

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
    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
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

    def _insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        record: IdempotencyRecord | None = kwargs.get("idempotency")
        if record is not None:
            # Synced at once (a nested pipeline): a concurrent duplicate's unique violation is
            # raised here, as an IntegrityError. Raised later, while the library still sends the
            # events, it would leave the pipeline aborted: an OperationalError, retried, a 500.
            with curs.connection.pipeline():
                curs.execute(
                    SQL("INSERT INTO {0}.{1} VALUES (%s, %s, %s, %s, %s, %s)").format(
                        Identifier(self.datastore.schema), Identifier(TABLE)
                    ),
                    _row(record),
                )
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


def _recorded(row: Any) -> tuple[str, Recorded]:
    return row["request_hash"], Recorded(
        UUID(row["case_id"]), int(row["version"]), int(row["position"]), row["digest"]
    )
