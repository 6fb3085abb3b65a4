"""The read-model store: projection tables, their generations and tracking, on SQLite or
PostgreSQL, through the library's tracking recorders (one transaction per batch: rows and
tracking record together)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteTrackingRecorder

from adapters.views import schema
from adapters.views.matching_store import MatchingRows
from projections.case_views import Batch, CaseProjection
from projections.history import HistoryEntry
from projections.summary import Doc, current_handover, handover_state

# One encoder for every row: ``json.dumps`` with non-default options builds a new one per call.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def dumps(value: Any) -> str:
    return _ENCODER.encode(value)


def tracking_key(name: str, generation: int) -> str:
    return f"{name}@g{generation}"


class TxWriter(MatchingRows):
    """Writes of one batch, inside the batch's transaction (the matching rows: ``MatchingRows``)."""

    # freed row content is overwritten with zeros in the file: no erased value lingers (SQLite)
    SECURE_DELETE: str | None = "PRAGMA secure_delete = ON"

    def __init__(self, curs: Any, generation: int, sql: Any) -> None:
        self.curs, self.generation, self.sql = curs, generation, sql
        self.erased = False  # an erasure was applied: the store compacts its log after commit

    def t(self, base: str) -> str:
        return schema.table(base, self.generation)

    def insert_history(self, entries: Sequence[HistoryEntry]) -> None:
        self.curs.executemany(
            self.sql(
                f"INSERT INTO {self.t('case_history')} VALUES "
                "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
            ),
            [history_row(e) for e in entries],
        )

    def erase_history(self, case_ids: Sequence[str]) -> None:
        self.secure_delete()
        marks = ", ".join(["%s"] * len(case_ids))
        self.curs.execute(
            self.sql(
                f"UPDATE {self.t('case_history')} SET summary = erased_summary,"
                " data = erased_data, erased_summary = NULL, erased_data = NULL"
                f" WHERE case_id IN ({marks}) AND erased_summary IS NOT NULL"
            ),
            list(case_ids),
        )

    def secure_delete(self) -> None:
        self.erased = True
        if self.SECURE_DELETE:
            self.curs.execute(self.SECURE_DELETE)

    def load_summaries(self, case_ids: Iterable[str]) -> dict[str, Doc]:
        ids = list(case_ids)
        marks = ", ".join(["%s"] * len(ids))
        self.curs.execute(
            self.sql(f"SELECT doc FROM {self.t('case_summary')} WHERE case_id IN ({marks})"), ids
        )
        return {d["case_id"]: d for d in (json.loads(row["doc"]) for row in self.curs.fetchall())}

    def save_summaries(self, docs: Sequence[Doc], handovers_of: set[str]) -> None:
        self.curs.executemany(
            self.sql(
                f"INSERT INTO {self.t('case_summary')} VALUES "
                "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
                "ON CONFLICT (case_id) DO UPDATE SET doc = excluded.doc, holder = excluded.holder,"
                " office = excluded.office, caseworker = excluded.caseworker,"
                " legal_status = excluded.legal_status, handover_state = excluded.handover_state,"
                " handover_to = excluded.handover_to, name_key = excluded.name_key,"
                " bamf_file_number = excluded.bamf_file_number, closed = excluded.closed,"
                " support_need = excluded.support_need, version = excluded.version,"
                " last_activity = excluded.last_activity, position = excluded.position"
            ),
            [summary_row(d) for d in docs],
        )
        if not handovers_of:
            return
        ids = sorted(handovers_of)
        marks = ", ".join(["%s"] * len(ids))
        self.curs.execute(
            self.sql(f"DELETE FROM {self.t('handovers')} WHERE case_id IN ({marks})"), ids
        )
        rows = [
            (h["case_id"], h["offer_version"], h["from_org"], h["to_org"], h["state"],
             h["offered_at"], h["due_on"], dumps(h))
            for d in docs if d["case_id"] in handovers_of for h in d["handovers"]
        ]  # fmt: skip
        self.curs.executemany(
            self.sql(f"INSERT INTO {self.t('handovers')} VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"),
            rows,
        )


class PostgresTxWriter(TxWriter):
    """On PostgreSQL, history rows go in with one ``COPY`` per batch: the same rows and the same
    constraint checks as the INSERTs, in the same transaction, at a fraction of the round trips."""

    SECURE_DELETE = None  # a dump holds live rows only; VACUUM reclaims the dead ones

    def insert_history(self, entries: Sequence[HistoryEntry]) -> None:
        statement = f"COPY {self.t('case_history')} ({HISTORY_COLUMNS}) FROM STDIN"
        with self.curs.copy(statement) as copy:
            for e in entries:
                copy.write_row(history_row(e))


HISTORY_COLUMNS = (
    "case_id, version, type, recorded_at, occurred_on, actor, org, summary, data, hash,"
    " prev_hash, position, erased_summary, erased_data"
)


def history_row(e: HistoryEntry) -> tuple[Any, ...]:
    return (
        str(e.case_id),
        e.version,
        e.type,
        e.recorded_at.isoformat(),
        e.occurred_on.isoformat() if e.occurred_on else None,
        text(e.actor),
        text(e.org),
        text(e.summary),
        dumps(e.data),
        e.hash,
        e.prev_hash,
        e.position,
        None if e.erased_summary is None else text(e.erased_summary),
        None if e.erased_data is None else dumps(e.erased_data),
    )


def summary_row(doc: Doc) -> tuple[Any, ...]:
    person = doc["person"]
    handover = current_handover(doc)
    support = doc["support_need"]
    return (
        doc["case_id"], dumps(doc), doc["holder"], doc["office"], doc["caseworker"],
        doc["legal_status"], handover_state(doc),
        handover["to_org"] if handover and handover["state"] == "offered" else None,
        name_key(person["family_name"], person["given_name"]), doc["bamf_file_number"],
        doc["registered_on"], int(doc["closed"]), None if support is None else int(support),
        doc["version"], doc["last_activity"], doc.get("position", 0),
    )  # fmt: skip


def name_key(family_name: str, given_name: str) -> str:
    return text(f"{family_name} {given_name}".casefold())


def text(value: str) -> str:
    """A plain-text column's value: PostgreSQL refuses NUL in text, and one such event would stop
    the projection for good. The JSON columns keep the exact value (``dumps`` escapes NUL)."""
    return value.replace("\x00", "\ufffd")


class ViewStoreMixin:
    """SQL shared by both backends; placeholders are written ``%s`` and adapted per backend."""

    datastore: Any
    PLACEHOLDER = "%s"
    TX_WRITER: type[TxWriter] = TxWriter

    def sql(self, statement: str) -> str:
        return statement if self.PLACEHOLDER == "%s" else statement.replace("%s", self.PLACEHOLDER)

    @contextmanager
    def cursor(self, *, commit: bool = False) -> Iterator[Any]:
        with self.datastore.transaction(commit=commit) as curs:
            yield curs

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

    def active_generation(self, name: str) -> int | None:
        active = [g["generation"] for g in self.generations(name) if g["state"] == "active"]
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
        self, projection: CaseProjection, generation: int, batch: Batch, position: int
    ) -> None:
        """Apply ``batch`` and record ``position`` as processed, in one transaction.

        The tracking record is written first: on SQLite a transaction that reads before it
        writes cannot wait for another process's write lock ("database is locked" at once,
        whatever the lock timeout), so the write lock is taken before the summaries are read."""
        with self.cursor(commit=True) as curs:
            self._insert_tracking(
                curs, Tracking(tracking_key(projection.name, generation), position)
            )
            writer = self.TX_WRITER(curs, generation, self.sql)
            projection.process(batch, writer)
        if writer.erased:
            self.compact_log()

    def compact_log(self) -> None:
        """After an erasure: the write-ahead log still holds the pages as they were before."""

    def position(self, name: str, generation: int) -> int:
        return self.max_tracking_id(tracking_key(name, generation)) or 0


class SQLiteViewStore(ViewStoreMixin, SQLiteTrackingRecorder):
    PLACEHOLDER = "?"

    def compact_log(self) -> None:
        checkpoint_wal(self.datastore)


class PostgresViewStore(ViewStoreMixin, PostgresTrackingRecorder):
    TX_WRITER = PostgresTxWriter


def checkpoint_wal(datastore: Any) -> None:
    """Copy SQLite's write-ahead log into the database file and truncate it, so page images
    from before an erasure do not stay in ``-wal``. Best effort: with readers still on old pages
    it truncates what it can, and the next erasure or the next checkpoint finishes it."""
    with datastore.get_connection(commit=True) as conn:
        conn._sqlite_conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _now() -> str:
    return datetime.now(UTC).isoformat()
