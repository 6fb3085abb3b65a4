"""The read-model store: projection tables, their generations and tracking, on SQLite or
PostgreSQL, through the library's tracking recorders (one transaction per batch: rows and
tracking record together). Each projection writes through its own writer (``WRITERS``)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import structlog
from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteTrackingRecorder
from psycopg.rows import tuple_row

from adapters.views import schema
from adapters.views.batch_writer import BatchWriter
from adapters.views.follow_up_writer import SqlFollowUpWriter
from adapters.views.freshness import reads_current
from adapters.views.history_writer import PostgresHistoryWriter, SqlHistoryWriter
from adapters.views.matching_writer import SqlMatchingWriter
from adapters.views.summary_writer import SqlSummaryWriter
from projections.base import Batch, Projection

log = structlog.get_logger("staffel.projections")


class OverlappingBatchError(Exception):
    """The tracking position moved since the batch was read: another runner applied it."""

    def __init__(self, key: str, start: int, end: int) -> None:
        super().__init__(f"{key}: tracking is no longer at {start} (batch to {end} refused)")
        self.key, self.start, self.end = key, start, end


def tracking_key(name: str, generation: int) -> str:
    return f"{name}@g{generation}"


class ViewStoreMixin:
    """SQL shared by both backends; placeholders are written ``%s`` and adapted per backend."""

    datastore: Any
    PLACEHOLDER = "%s"
    # freed row content is overwritten with zeros in the file: no erased value lingers (SQLite)
    SECURE_DELETE: str | None = "PRAGMA secure_delete = ON"
    COPY_ROWS = False  # the writers copy their rows in (``BatchWriter.insert``)
    # each projection's writer, by the projection's name (``projections/registry.py``)
    WRITERS: dict[str, type[BatchWriter]] = {
        "case_history": SqlHistoryWriter,
        "case_summary": SqlSummaryWriter,
        "matching": SqlMatchingWriter,
        "follow_ups": SqlFollowUpWriter,
    }

    def sql(self, statement: str) -> str:
        return statement if self.PLACEHOLDER == "%s" else statement.replace("%s", self.PLACEHOLDER)

    @contextmanager
    def cursor(self, *, commit: bool = False) -> Iterator[Any]:
        if not commit:  # a read: this request's read-your-writes wait first (``freshness``)
            reads_current()
        with self.datastore.transaction(commit=commit) as curs:
            yield curs

    def rows(self, statement: str, params: tuple[Any, ...] | list[Any]) -> list[dict[str, Any]]:
        """The rows of one read-only statement (placeholders ``%s``)."""
        with self.cursor() as curs:
            curs.execute(self.sql(statement), params)
            return [dict(row) for row in curs.fetchall()]

    def tuples(self, statement: str, params: tuple[Any, ...] | list[Any]) -> list[tuple[Any, ...]]:
        """``rows`` as plain tuples: no dictionary built per row (the hot reads)."""
        with self.cursor() as curs:
            curs.execute(self.sql(statement), params)
            return [tuple(row) for row in curs.fetchall()]

    if TYPE_CHECKING:  # provided by the library's tracking recorders

        def _insert_tracking(self, curs: Any, tracking: Tracking) -> None: ...

        def max_tracking_id(self, application_name: str) -> int | None: ...

    # -- generations ------------------------------------------------------------------------

    def ensure_registry(self) -> None:
        with self.cursor(commit=True) as curs:
            curs.execute(schema.REGISTRY)

    def generations(self, name: str) -> list[dict[str, Any]]:
        with self.cursor() as curs:
            curs.execute(
                self.sql(
                    "SELECT generation, version, state FROM projection_generations"
                    " WHERE name = %s ORDER BY generation"
                ),
                (name,),
            )
            return [dict(row) for row in curs.fetchall()]

    def reached(self, names: Sequence[str]) -> int:
        """The position every named projection's active generation has processed, in one
        query (a read waiting for its caller's write asks this; 0: one has no active
        generation yet)."""
        marks = ", ".join(["%s"] * len(names))
        rows = self.rows(
            "SELECT g.name, g.generation, (SELECT MAX(t.notification_id)"
            f" FROM {self.tracking_table()} t"
            " WHERE t.application_name = g.name || '@g' || CAST(g.generation AS TEXT)) AS position"
            f" FROM projection_generations g WHERE g.state = 'active' AND g.name IN ({marks})",
            list(names),
        )
        latest: dict[str, tuple[int, int]] = {}  # the newest active generation, as elsewhere
        for row in rows:
            if row["name"] not in latest or row["generation"] > latest[row["name"]][0]:
                latest[row["name"]] = (row["generation"], row["position"] or 0)
        if len(latest) < len(set(names)):
            return 0
        return min(position for _, position in latest.values())

    def active_generation(self, name: str) -> int | None:
        active = self.active(name)
        return active[0] if active else None

    def active(self, name: str) -> tuple[int, int] | None:
        """The active generation of projection ``name`` and the projection version it was built
        by, or None."""
        active = [
            (int(g["generation"]), int(g["version"]))
            for g in self.generations(name)
            if g["state"] == "active"
        ]
        return active[-1] if active else None

    def new_generation(self, name: str, version: int, *, active: bool = False) -> int:
        """Create the tables of a fresh generation; it is ``building`` until it is activated."""
        with self.cursor(commit=True) as curs:
            curs.execute(
                self.sql(
                    "SELECT COALESCE(MAX(generation), 0) AS g FROM projection_generations"
                    " WHERE name = %s"
                ),
                (name,),
            )
            generation = int(curs.fetchone()["g"]) + 1
            for statement in schema.create_statements(name, generation):
                curs.execute(statement)
            curs.execute(
                self.sql("INSERT INTO projection_generations VALUES (%s, %s, %s, %s, %s)"),
                (name, generation, version, "active" if active else "building", _now()),
            )
        return generation

    def activate(self, name: str, generation: int) -> list[int]:
        """Swap ``generation`` in (one transaction); drop the tables it replaces."""
        with self.cursor(commit=True) as curs:
            curs.execute(
                self.sql(
                    "SELECT generation FROM projection_generations"
                    " WHERE name = %s AND state = 'active'"
                ),
                (name,),
            )
            retired = [int(row["generation"]) for row in curs.fetchall()]
            curs.execute(
                self.sql(
                    "UPDATE projection_generations SET state = 'retired', updated_at = %s"
                    " WHERE name = %s AND state = 'active'"
                ),
                (_now(), name),
            )
            curs.execute(
                self.sql(
                    "UPDATE projection_generations SET state = 'active', updated_at = %s"
                    " WHERE name = %s AND generation = %s"
                ),
                (_now(), name, generation),
            )
        for old in retired:
            self.drop_generation(name, old)
        return retired

    def drop_generation(self, name: str, generation: int) -> None:
        with self.cursor(commit=True) as curs:
            for statement in schema.drop_statements(name, generation):
                curs.execute(statement)
            curs.execute(
                self.sql(
                    "UPDATE projection_generations SET state = 'dropped', updated_at = %s"
                    " WHERE name = %s AND generation = %s"
                ),
                (_now(), name, generation),
            )

    # -- writing a batch -----------------------------------------------------------------------

    def apply_batch(
        self,
        projection: Projection[Any],
        generation: int,
        batch: Batch,
        position: int,
        start: int | None = None,
    ) -> bool:
        """Apply ``batch``, read after ``start``, and record ``position`` as processed, in one
        transaction; nothing is written when the tracking position is no longer ``start`` (another
        runner applied an overlapping batch meanwhile): the caller's next step re-reads. Whether
        the batch was applied.

        The tracking record is written first: on SQLite a transaction that reads before it
        writes cannot wait for another process's write lock ("database is locked" at once,
        whatever the lock timeout), so the write lock is taken before the summaries are read."""
        if start is None:
            start = self.position(projection.name, generation)
        try:
            with self.cursor(commit=True) as curs:
                self.advance_tracking(
                    curs, tracking_key(projection.name, generation), start, position
                )
                self.plan_batch(curs)
                writer = self.WRITERS[projection.name](
                    curs,
                    generation,
                    self.sql,
                    self.SECURE_DELETE,
                    copy_rows=self.COPY_ROWS,
                )
                projection.process(batch, writer)
        except OverlappingBatchError:
            log.info("batch_refused", projection=projection.name, start=start, end=position)
            return False
        if writer.erased:
            self.compact_log()
        return True

    def plan_batch(self, curs: Any) -> None:
        """Settings for the batch's transaction, before its writer runs."""

    def tracking_table(self) -> str:
        """The tracking table's name as SQL (the library's single-row tracking)."""
        return "tracking"

    def advance_tracking(self, curs: Any, key: str, start: int, end: int) -> None:
        """Move ``key``'s tracking position from ``start`` to ``end`` inside the caller's
        transaction, or raise ``OverlappingBatchError`` (the caller's transaction rolls back)
        when it is not at ``start`` any more. A compare-and-set, not the library's "only
        forwards": two runners that read a batch from the same position cannot both commit,
        whatever their batches' ends. On PostgreSQL the second waits on the row lock and then
        sees the first's position; on SQLite the database's write lock serialises writers."""
        t = self.tracking_table()
        curs.execute(
            self.sql(
                f"INSERT INTO {t} (application_name, notification_id) VALUES (%s, %s)"
                " ON CONFLICT (application_name)"
                " DO UPDATE SET notification_id = excluded.notification_id"
                f" WHERE {t}.notification_id = %s RETURNING notification_id"
            ),
            (key, end, start),
        )
        if curs.fetchone() is None:
            raise OverlappingBatchError(key, start, end)

    def compact_log(self) -> None:
        """After an erasure: the write-ahead log still holds the pages as they were before."""

    def position(self, name: str, generation: int) -> int:
        return self.max_tracking_id(tracking_key(name, generation)) or 0


class SQLiteViewStore(ViewStoreMixin, SQLiteTrackingRecorder):
    PLACEHOLDER = "?"

    def compact_log(self) -> None:
        checkpoint_wal(self.datastore)


class PostgresViewStore(ViewStoreMixin, PostgresTrackingRecorder):
    SECURE_DELETE = None  # a dump holds live rows only; VACUUM reclaims the dead ones
    COPY_ROWS = True
    WRITERS = {**ViewStoreMixin.WRITERS, "case_history": PostgresHistoryWriter}

    def tracking_table(self) -> str:
        return f'"{self.datastore.schema}"."{self.tracking_table_name}"'

    def plan_batch(self, curs: Any) -> None:
        """A batch reads and deletes the rows of its cases by key, never a whole table; but a
        generation's tables grow faster than autovacuum analyses them, and with no statistics
        the planner scanned them whole (``DELETE ... WHERE case_id IN (...)``: 60 ms a batch
        at 400,000 rows, growing). For this transaction only: index scans, and no JIT."""
        curs.execute("SET LOCAL enable_seqscan = off; SET LOCAL jit = off")

    def rows(self, statement: str, params: tuple[Any, ...] | list[Any]) -> list[dict[str, Any]]:
        """One statement is its own snapshot: sent without BEGIN and ROLLBACK around it, one
        round trip instead of three."""
        reads_current()
        with self.datastore.get_connection() as conn:
            return [dict(row) for row in conn.execute(statement, params).fetchall()]

    def tuples(self, statement: str, params: tuple[Any, ...] | list[Any]) -> list[tuple[Any, ...]]:
        reads_current()
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as curs:
            rows: list[tuple[Any, ...]] = curs.execute(statement, params).fetchall()
            return rows


def checkpoint_wal(datastore: Any) -> None:
    """Copy SQLite's write-ahead log into the database file and truncate it, so page images
    from before an erasure do not stay in ``-wal``. Best effort: with readers still on old pages
    it truncates what it can, and the next erasure or the next checkpoint finishes it."""
    with datastore.get_connection(commit=True) as conn:
        conn._sqlite_conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _now() -> str:
    return datetime.now(UTC).isoformat()
