"""The history view's writer (``projections.history.HistoryWriter``): one row per entry."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from adapters.views.batch_writer import BatchWriter, dumps, text
from projections.history import HistoryEntry, HistoryWriter

HISTORY_COLUMNS = (
    "case_id, version, type, recorded_at, occurred_on, actor, org, summary, data, hash,"
    " prev_hash, position, erased_summary, erased_data"
)


class SqlHistoryWriter(BatchWriter, HistoryWriter):
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


class PostgresHistoryWriter(SqlHistoryWriter):
    """On PostgreSQL, history rows go in with one ``COPY`` per batch: the same rows and the same
    constraint checks as the INSERTs, in the same transaction, at a fraction of the round trips."""

    def insert_history(self, entries: Sequence[HistoryEntry]) -> None:
        statement = f"COPY {self.t('case_history')} ({HISTORY_COLUMNS}) FROM STDIN"
        with self.curs.copy(statement) as copy:
            for e in entries:
                copy.write_row(history_row(e))


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
