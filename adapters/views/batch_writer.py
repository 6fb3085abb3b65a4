"""What every projection's writer shares: the batch's cursor inside its transaction (rows and
tracking record together), the generation's table names, secure deletion after an erasure, and
the encoding of JSON and plain-text columns."""

from __future__ import annotations

import json
import weakref
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


# connection -> table -> column -> SQL type (``BatchWriter._column_types``); a generation's
# tables are never created again under their name, so an entry never goes stale
_COLUMN_TYPES: weakref.WeakKeyDictionary[Any, dict[str, dict[str, str]]] = (
    weakref.WeakKeyDictionary()
)


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
        rows_as_arrays: bool = False,
    ) -> None:
        """``secure``: the statement that makes freed rows leave no trace (None: not needed);
        ``rows_as_arrays``: ``insert`` sends its rows as one binary array per column
        (PostgreSQL)."""
        self.curs, self.generation, self.sql, self._secure = curs, generation, sql, secure
        self.rows_as_arrays = rows_as_arrays
        self.erased = False  # an erasure was applied: the store compacts its log after commit

    def t(self, base: str) -> str:
        return schema.table(base, self.generation)

    def insert(
        self, table: str, names: Sequence[str], rows: Sequence[tuple[Any, ...]], tail: str = ""
    ) -> None:
        """Insert ``rows`` (values of the columns ``names``) into ``table``, ``tail`` after the
        statement (``ON CONFLICT ...``). On PostgreSQL one statement takes them all: one array
        per column, sent in binary, that ``unnest`` turns back into rows, each cast to its
        column's type. An ``executemany`` executed the statement once per row; one JSON
        document of the rows (``json_populate_recordset``) cost the server a third of an upsert
        of summaries in parsing alone, and the client a dict per row and every document escaped
        a second time."""
        if not rows:
            return
        columns = ", ".join(names)
        if self.rows_as_arrays:
            types = self._column_types(table)
            arrays = ", ".join(f"%b::{types[name]}[]" for name in names)
            self.curs.execute(
                f"INSERT INTO {table} ({columns}) SELECT * FROM unnest({arrays}) {tail}",
                [list(column) for column in zip(*rows, strict=True)],
            )
        else:
            marks = ", ".join(["%s"] * len(names))
            self.curs.executemany(
                self.sql(f"INSERT INTO {table} ({columns}) VALUES ({marks}) {tail}"), rows
            )

    def _column_types(self, table: str) -> dict[str, str]:
        """The SQL types of ``table``'s columns (PostgreSQL), read once per connection and table:
        a column whose values are all NULL in a batch has no type of its own to send."""
        known = _COLUMN_TYPES.setdefault(self.curs.connection, {})
        if table not in known:
            self.curs.execute(
                "SELECT attname, format_type(atttypid, atttypmod) AS type FROM pg_attribute"
                " WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
                (table,),
            )
            known[table] = {row["attname"]: row["type"] for row in self.curs.fetchall()}
        return known[table]

    def secure_delete(self) -> None:
        self.erased = True
        if self._secure:
            self.curs.execute(self._secure)
