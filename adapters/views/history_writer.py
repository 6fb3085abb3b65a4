"""The history view's writer (``projections.history.HistoryWriter``): one row per entry, with the
entry as a reader who may see every field is shown it (``shown``, JSON text, ADR 0014
addendum): encoded once when the event is projected, not on every read."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from adapters.views.batch_writer import BatchWriter, dumps, text
from projections.history import HistoryEntry, HistoryWriter

HISTORY_COLUMNS = (
    "case_id, version, type, recorded_at, occurred_on, actor, org, summary, data, hash,"
    " prev_hash, position, erased_summary, erased_data, shown"
)


class SqlHistoryWriter(BatchWriter, HistoryWriter):
    def insert_history(self, entries: Sequence[HistoryEntry]) -> None:
        self.curs.executemany(
            self.sql(
                f"INSERT INTO {self.t('case_history')} VALUES "
                "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
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
                f" RETURNING case_id, {SHOWN_COLUMNS}"
            ),
            list(case_ids),
        )
        erased = self.curs.fetchall()
        if erased:  # each erased entry shown as it now reads
            self.curs.executemany(
                self.sql(
                    f"UPDATE {self.t('case_history')} SET shown = %s"
                    " WHERE case_id = %s AND version = %s"
                ),
                [_erased_shown(_values(r)) for r in erased],
            )


class PostgresHistoryWriter(SqlHistoryWriter):
    """On PostgreSQL, history rows go in with one ``COPY`` per batch: the same rows and the same
    constraint checks as the INSERTs, in the same transaction, at a fraction of the round trips."""

    def insert_history(self, entries: Sequence[HistoryEntry]) -> None:
        statement = f"COPY {self.t('case_history')} ({HISTORY_COLUMNS}) FROM STDIN"
        with self.curs.copy(statement) as copy:
            for e in entries:
                copy.write_row(history_row(e))


SHOWN_COLUMNS = (
    "version, type, recorded_at, occurred_on, actor, org, summary, data, hash, prev_hash, position"
)


def entry(
    version: int,
    type_: str,
    recorded_at: str,
    occurred_on: str | None,
    actor: str,
    org: str,
    summary: str,
    data: Any,
    hash_: str,
    prev_hash: str,
    position: int,
) -> dict[str, Any]:
    """A history row's entry, field by field in ``HistoryEntryOut``'s order; ``data`` as given
    (decoded, or the stored text as an ``orjson.Fragment``)."""
    return {
        "version": version,
        "type": type_,
        "recorded_at": recorded_at,
        "occurred_on": occurred_on,
        "actor": actor,
        "org": org,
        "summary": summary,
        "data": data,
        "hash": hash_,
        "prev_hash": prev_hash,
        "position": position,
    }


def shown_text(fields: dict[str, Any]) -> str:
    """The entry as a reader who may see every field is shown it (``HistoryEntryOut``), from
    ``entry`` with ``data`` as the stored text (an ``orjson.Fragment``)."""
    return orjson.dumps(fields | {"withheld": []}).decode()


def _erased_shown(values: tuple[Any, ...]) -> tuple[str, str, int]:
    """The ``shown`` of an entry just erased, from its row's values (``SHOWN_COLUMNS``), with
    the row's key."""
    (case_id, version, type_, recorded_at, occurred_on, actor, org, summary, data, hash_,
     prev_hash, position) = values  # fmt: skip
    fields = entry(version, type_, recorded_at, occurred_on, actor, org, summary,
                   orjson.Fragment(data), hash_, prev_hash, position)  # fmt: skip
    return shown_text(fields), case_id, version


def _values(row: Any) -> tuple[Any, ...]:
    """A fetched row's values in column order (a tuple, or a mapping by column name)."""
    return tuple(row.values()) if isinstance(row, Mapping) else tuple(row)


def history_row(e: HistoryEntry) -> tuple[Any, ...]:
    recorded_at = e.recorded_at.isoformat()
    occurred_on = e.occurred_on.isoformat() if e.occurred_on else None
    actor, org, summary, data = text(e.actor), text(e.org), text(e.summary), dumps(e.data)
    fields = (e.version, e.type, recorded_at, occurred_on, actor, org, summary, data)
    return (
        str(e.case_id),
        *fields,
        e.hash,
        e.prev_hash,
        e.position,
        None if e.erased_summary is None else text(e.erased_summary),
        None if e.erased_data is None else dumps(e.erased_data),
        shown_text(entry(*fields[:7], orjson.Fragment(data), e.hash, e.prev_hash, e.position)),
    )
