"""``staffel audit export``: the log as JSON lines, each stored case event with what its hash
covers (ADR 0003) and its position, for ``python -m verifier.audit_verify``."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any, TextIO
from uuid import UUID

from adapters.audit.canonical import CanonicalReader
from adapters.audit.rows import Row, case_rows, is_case_topic, pages, row_of, rows_before_start
from adapters.audit.verify import Advance
from domain.application import StaffelApplication


def line_of(reader: CanonicalReader, row: Row) -> dict[str, Any]:
    item: dict[str, Any] = {
        "position": row.position,
        "case_id": str(row.case_id),
        "version": row.version,
        "topic": row.topic,
    }
    try:
        class_version, state = reader.state(row.state)
    except Exception as e:  # exported as it is: the verifier reports it as changed
        return item | {"class_version": None, "state": None, "error": type(e).__name__}
    return item | {"class_version": class_version, "state": state, "hash": state.get("hash")}


def dumps(item: dict[str, Any]) -> str:
    text = json.dumps(item, ensure_ascii=False, allow_nan=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: only the escaped form can be written
        text = json.dumps(item, allow_nan=False)
    return text


def all_rows(app: StaffelApplication, advance: Advance) -> Iterator[Row]:
    yield from rows_before_start(app)
    done = 0
    for page in pages(app):
        for n in page:
            if is_case_topic(n.topic):
                yield row_of(n)
        advance(page[-1].id - done)
        done = page[-1].id


def export(
    app: StaffelApplication,
    out: TextIO,
    case_id: UUID | None = None,
    advance: Advance = lambda n: None,
) -> int:
    """Write the export of the store (or of one case); return the number of events written."""
    reader = CanonicalReader(app.mapper)
    rows: Iterable[Row] = case_rows(app, case_id) if case_id else all_rows(app, advance)
    count = 0
    for row in rows:
        out.write(dumps(line_of(reader, row)) + "\n")
        count += 1
    return count
