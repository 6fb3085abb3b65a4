"""Reading stored events with their positions: the global log page by page, or one case's rows
(the library's ``select_events`` does not say where an event sits in the global log)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg.sql import SQL, Identifier

from domain.application import StaffelApplication

CASE_TOPIC_PREFIX = "staffel:Case."  # the topics of a case's events (ADR 0002)
PAGE = 2000


def is_case_topic(topic: str) -> bool:
    return topic.startswith(CASE_TOPIC_PREFIX)


def type_of(topic: str) -> str:
    """An event's type as the API names it: its class name, from the stable topic."""
    return topic.removeprefix(CASE_TOPIC_PREFIX).rsplit(".", 1)[-1].rsplit(":", 1)[-1]


@dataclass(frozen=True)
class Row:
    position: int
    case_id: UUID
    version: int
    topic: str
    state: bytes


def _uuid(value: UUID | str) -> UUID:
    return value if isinstance(value, UUID) else UUID(value)


def row_of(n: Notification) -> Row:
    return Row(n.id, _uuid(n.originator_id), n.originator_version, n.topic, n.state)


def pages(
    app: StaffelApplication, after: int = 0, stop: int | None = None, size: int = PAGE
) -> Iterator[Sequence[Notification]]:
    """The global log from position ``after + 1`` (to ``stop``), one page at a time."""
    while True:
        page = app.recorder.select_notifications(start=after + 1, limit=size, stop=stop)
        if not page:
            return
        yield page
        after = page[-1].id


# the rows of one case, or the rows below position 1; the column names differ per backend
WHERE = {
    ("postgres", "case"): "originator_id = %s",
    ("postgres", "before"): "notification_id < %s",
    ("sqlite", "case"): "originator_id = ?",
    ("sqlite", "before"): "rowid < ?",
}


def _select(app: StaffelApplication, which: str, param: Any) -> list[Row]:
    recorder: Any = app.recorder
    if isinstance(recorder, PostgresApplicationRecorder):
        statement: Any = SQL(
            "SELECT notification_id AS position, originator_id, originator_version AS version,"
            " topic, state FROM {0}.{1} WHERE {2} ORDER BY originator_version"
        ).format(
            Identifier(recorder.datastore.schema),
            Identifier(recorder.events_table_name),
            SQL(WHERE["postgres", which]),
        )
    else:
        statement = (
            "SELECT rowid AS position, originator_id, originator_version AS version,"  # noqa: S608
            f" topic, state FROM {recorder.events_table_name} WHERE {WHERE['sqlite', which]}"
            " ORDER BY originator_version"
        )
    with recorder.datastore.transaction(commit=False) as curs:
        curs.execute(statement, (param,))
        found = curs.fetchall()
    return [
        Row(
            int(r["position"]),
            _uuid(r["originator_id"]),
            int(r["version"]),
            r["topic"],
            bytes(r["state"]),
        )
        for r in found
        if is_case_topic(r["topic"])
    ]


def case_rows(app: StaffelApplication, case_id: UUID) -> list[Row]:
    """Every stored event of the case, with its position, in version order."""
    sqlite = not isinstance(app.recorder, PostgresApplicationRecorder)
    return _select(app, "case", case_id.hex if sqlite else case_id)


def rows_before_start(app: StaffelApplication) -> list[Row]:
    """Case events stored at a position below 1, in position order. Readers of the global log
    start at 1 and never see them, but they are part of their case's stream: only a forger puts
    them there, and verification and export must not miss them."""
    return sorted(_select(app, "before", 1), key=lambda r: r.position)
