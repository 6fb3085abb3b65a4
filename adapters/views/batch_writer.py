"""What every projection's writer shares: the batch's cursor inside its transaction (rows and
tracking record together), the generation's table names, secure deletion after an erasure, and
the encoding of JSON and plain-text columns."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import orjson

from adapters.views import schema

# The standard library's encoder, for what orjson refuses (an integer beyond 64 bits, a lone
# surrogate): one for every row, as ``json.dumps`` with non-default options builds one per call.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def dumps(value: Any) -> str:
    """Compact JSON, not ASCII-escaped: the text ``json.dumps`` writes with these options (a
    float's exponent aside: ``1e-7``, not ``1e-07``), by orjson, about six times faster. Every
    batch encodes (and ``loads`` decodes) each document it changes: a third of a projection's
    time on the bulk path went to the standard library's ``json``."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except orjson.JSONEncodeError:
        return _ENCODER.encode(value)


def loads(text: str) -> Any:
    """A stored document, by orjson; the standard library's reads what orjson refuses
    (``NaN``: a row the standard library wrote before; orjson writes a NaN as ``null``)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def text(value: str) -> str:
    """A plain-text column's value: PostgreSQL refuses NUL in text, and one such event would stop
    the projection for good. The JSON columns keep the exact value (``dumps`` escapes NUL)."""
    return value.replace("\x00", "\ufffd")


class BatchWriter:
    """Writes of one batch, inside the batch's transaction; each projection's writer extends it
    with the view protocol of its projection."""

    def __init__(
        self,
        curs: Any,
        generation: int,
        sql: Callable[[str], str],
        secure: str | None,
        *,
        copy_rows: bool = False,
    ) -> None:
        """``secure``: the statement that makes freed rows leave no trace (None: not needed);
        ``copy_rows``: rows go in with ``COPY`` and keys as one array (PostgreSQL)."""
        self.curs, self.generation, self.sql, self._secure = curs, generation, sql, secure
        self.copy_rows = copy_rows
        self.erased = False  # an erasure was applied: the store compacts its log after commit

    def t(self, base: str) -> str:
        return schema.table(base, self.generation)

    def keys_in(self, column: str, keys: Sequence[Any]) -> tuple[str, list[Any]]:
        """The condition "``column`` is one of ``keys``" and its parameters. On PostgreSQL one
        array (``= ANY``): the statement is the same text whatever the number of keys, so
        psycopg converts it once and the server parses one parameter, where ``IN (%s, ...)``
        with a placeholder per key was a new statement for every batch (parsing 500
        placeholders cost the client a millisecond each time)."""
        if self.copy_rows:
            return f"{column} = ANY(%b)", [list(keys)]
        return f"{column} IN ({', '.join(['%s'] * len(keys))})", list(keys)

    def insert(self, table: str, names: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
        """Insert ``rows`` (values of the columns ``names``) into ``table``. On PostgreSQL with
        one ``COPY``: the same rows and constraint checks as an INSERT, psycopg formats each row
        in C and the server parses plain text (an ``executemany`` executed a statement per
        row; one JSON document or one array per column cost the client a Python call per value
        and the server a JSON parse)."""
        if not rows:
            return
        columns = ", ".join(names)
        if self.copy_rows:
            with self.curs.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(names))
            self.curs.executemany(
                self.sql(f"INSERT INTO {table} ({columns}) VALUES ({marks})"), rows
            )

    def replace(self, table: str, names: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
        """Store ``rows`` (values of the columns ``names``; the first is the table's key, unique
        among the rows) in place of the rows of their keys, inserted where there is none. On
        PostgreSQL those rows are deleted and the new ones copied in (``insert``): the same
        work for the server as an upsert (a new version of each row, its index entries), in two
        statements of which neither parses its rows twice; elsewhere one upsert per row."""
        if not rows:
            return
        key = names[0]
        if self.copy_rows:
            condition, params = self.keys_in(key, [row[0] for row in rows])
            self.curs.execute(f"DELETE FROM {table} WHERE {condition}", params)
            self.insert(table, names, rows)
            return
        columns = ", ".join(names)
        marks = ", ".join(["%s"] * len(names))
        updates = ", ".join(f"{name} = excluded.{name}" for name in names[1:])
        self.curs.executemany(
            self.sql(
                f"INSERT INTO {table} ({columns}) VALUES ({marks})"
                f" ON CONFLICT ({key}) DO UPDATE SET {updates}"
            ),
            rows,
        )

    def delete_keys(self, table: str, column: str, keys: Sequence[Any]) -> None:
        """Delete the rows of ``table`` whose ``column`` is one of ``keys``."""
        if keys:
            condition, params = self.keys_in(column, keys)
            self.curs.execute(self.sql(f"DELETE FROM {table} WHERE {condition}"), params)

    def secure_delete(self) -> None:
        self.erased = True
        if self._secure:
            self.curs.execute(self._secure)
