"""``GET /audit/events``: the global log as stored (not upcast), in position order, filtered."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from adapters.audit.canonical import CanonicalReader
from adapters.audit.rows import Row, case_rows, is_case_topic, pages, row_of, type_of
from domain.application import CaseApplication
from projections.history import BOOKKEEPING

SCAN_LIMIT = 20_000  # events read per request at most; ``next_after`` continues from there


@dataclass(frozen=True)
class EventFilter:
    case_id: UUID | None = None
    type: str | None = None
    org: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def matches(self, item: dict[str, Any]) -> bool:
        if self.type is not None and item["type"] != self.type:
            return False
        if self.org is not None and item["org"] != self.org:
            return False
        if self.since is None and self.until is None:
            return True
        try:
            at = _utc(datetime.fromisoformat(item["recorded_at"]))
        except (TypeError, ValueError):
            return False
        return (self.since is None or at >= _utc(self.since)) and (
            self.until is None or at <= _utc(self.until)
        )


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def item_of(reader: CanonicalReader, row: Row) -> dict[str, Any]:
    item: dict[str, Any] = {
        "position": row.position,
        "case_id": str(row.case_id),
        "version": row.version,
        "type": type_of(row.topic),
    }
    try:
        _, state = reader.state(row.state)
    except Exception:  # listed as it is; ``/audit/verify`` says what is wrong with it
        state = {}
    return item | {
        "recorded_at": _text(state.get("timestamp")),
        "actor": _text(state.get("actor")),
        "org": _text(state.get("org")),
        "hash": _text(state.get("hash")),
        "prev_hash": _text(state.get("prev_hash")),
        "data": {k: v for k, v in state.items() if k not in BOOKKEEPING} if state else None,
    }


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _batches(
    app: CaseApplication, after: int, wanted: EventFilter
) -> Iterator[tuple[list[Row], int]]:
    """The case events after ``after``, a batch at a time, with the position each batch reached."""
    if wanted.case_id is not None:
        rows = [r for r in case_rows(app, wanted.case_id) if r.position > after]
        rows.sort(key=lambda r: r.position)
        yield rows, rows[-1].position if rows else after
        return
    for page in pages(app, after=after, size=1000):
        rows = [row_of(n) for n in page if is_case_topic(n.topic)]
        yield rows, page[-1].id


def events_page(
    app: CaseApplication, after: int, limit: int, wanted: EventFilter
) -> tuple[list[dict[str, Any]], int | None]:
    """Up to ``limit`` matching events after position ``after``, and the position to continue
    after (None: the end of the log). At most ``SCAN_LIMIT`` events are read per call."""
    reader = CanonicalReader(app.mapper)
    found: list[dict[str, Any]] = []
    scanned = 0
    for rows, reached in _batches(app, after, wanted):
        for row in rows:
            item = item_of(reader, row)
            if wanted.matches(item):
                found.append(item)
                if len(found) == limit:
                    return found, row.position
        scanned += len(rows)
        if scanned >= SCAN_LIMIT:
            return found, reached
    return found, None
