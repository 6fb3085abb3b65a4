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
        rows_as_json: bool = False,
    ) -> None:
        """``secure``: the statement that makes freed rows leave no trace (None: not needed);
        ``rows_as_json``: ``insert`` sends its rows as one JSON parameter (PostgreSQL)."""
        self.curs, self.generation, self.sql, self._secure = curs, generation, sql, secure
        self.rows_as_json = rows_as_json
        self.erased = False  # an erasure was applied: the store compacts its log after commit

    def t(self, base: str) -> str:
        return schema.table(base, self.generation)

    def insert(
        self, table: str, names: Sequence[str], rows: Sequence[tuple[Any, ...]], tail: str = ""
    ) -> None:
        """Insert ``rows`` (values of the columns ``names``) into ``table``, ``tail`` after the
        statement (``ON CONFLICT ...``). On PostgreSQL one statement takes them all, as one JSON
        array that ``json_populate_recordset`` turns into rows of the table's type: an
        ``executemany`` executed the statement once per row, and on the bulk path psycopg's work
        per row (and the server's per execution) outweighed the row's own."""
        if not rows:
            return
        columns = ", ".join(names)
        if self.rows_as_json:
            self.curs.execute(
                f"INSERT INTO {table} ({columns}) SELECT {columns}"
                f" FROM json_populate_recordset(NULL::{table}, %s::json) {tail}",
                (dumps([dict(zip(names, row, strict=True)) for row in rows]),),
            )
        else:
            marks = ", ".join(["%s"] * len(names))
            self.curs.executemany(
                self.sql(f"INSERT INTO {table} ({columns}) VALUES ({marks}) {tail}"), rows
            )

    def secure_delete(self) -> None:
        self.erased = True
        if self._secure:
            self.curs.execute(self._secure)
