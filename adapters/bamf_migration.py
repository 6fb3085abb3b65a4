"""``staffel migrate bamf-index``: move the BAMF file number index to keyed ids (ADR 0010).

Stores written before ADR 0010 hold each number's index under ``legacy_id`` (uuid5 of the number:
anyone with the database could test a number). For every case whose legacy index points at it,
this records the keyed index and releases the legacy one in one save (the release collides with a
concurrent erasure or registration, and the loser retries), then deletes every released legacy
index's stored events, so the database no longer answers "was this number ever registered".
Erased cases are skipped: their number is unreadable and their index was released at erasure
(its rows go in the second step). Imported cases never had an index and get none.

Idempotent and safe to interrupt: a case already keyed is counted and left alone; rows deleted
are gone. Registration checks the legacy id too until a case is migrated, so duplicates stay
refused before, during and after.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg.sql import SQL, Identifier

from adapters.keystore import opened
from domain.aggregates.bamf_index import BamfFileNumberIndex, BamfFileNumberRegistered, legacy_id
from domain.aggregates.case_events import CaseRegistered
from domain.application import StaffelApplication
from domain.bamf_number import normalise_or_none
from domain.values import Redacted

PAGE = 500
RETRIES = 5


@dataclass
class Migrated:
    migrated: int = 0  # keyed index recorded now
    already: int = 0  # keyed before this run
    erased: int = 0  # skipped: erased, number unreadable
    unindexed: int = 0  # skipped: no index points at the case (imported from a peer)
    deleted: int = 0  # released legacy indexes whose rows were deleted
    # cases that keep their legacy index, with why (no personal data: ids and reasons only)
    problems: list[tuple[UUID, str]] = field(default_factory=list)


def count_registrations(app: StaffelApplication) -> int:
    return sum(len(page) for page in _pages(app, CaseRegistered.TOPIC))


def migrate(app: StaffelApplication, advance: Callable[[int], None] = lambda n: None) -> Migrated:
    done = Migrated()
    for page in _pages(app, CaseRegistered.TOPIC):
        for event in opened(app, [app.mapper.to_domain_event(n) for n in page]):
            number = getattr(event, "bamf_file_number", None)
            if isinstance(number, Redacted):
                done.erased += 1
            elif isinstance(number, str):
                _migrate_case(app, event.originator_id, number, done)
        advance(len(page))
    for page in _pages(app, BamfFileNumberRegistered.TOPIC):
        for notification in page:
            index_id = notification.originator_id
            if index_id.version == 5 and _released(app, index_id):
                _delete_stream(app, index_id)
                done.deleted += 1
    return done


def _migrate_case(app: StaffelApplication, case_id: UUID, stored: str, done: Migrated) -> None:
    canonical = normalise_or_none(stored)
    for _ in range(RETRIES):
        legacy = _index(app, legacy_id(stored))
        keyed = None if canonical is None else _index(app, app.bamf_index_id(canonical))
        if keyed is not None and keyed.case_id == case_id:
            done.already += 1
            if legacy is not None and legacy.case_id == case_id:  # interrupted before release
                legacy.release()
                if not _saved(app, legacy):
                    continue
            return
        if legacy is None or legacy.case_id != case_id:
            done.unindexed += 1
            return
        if canonical is None:
            done.problems.append((case_id, "its stored number has no canonical form"))
            return
        if keyed is not None:
            why = "another case holds the same number" if keyed.case_id else "released keyed"
            done.problems.append((case_id, why + f" (index {keyed.id}): resolve by hand"))
            return
        new = BamfFileNumberIndex.point(app.bamf_index_id(canonical), case_id)
        legacy.release()
        if _saved(app, new, legacy):
            done.migrated += 1
            return
    done.problems.append((case_id, "changed concurrently again and again: run once more"))


def _saved(app: StaffelApplication, *objs: Any) -> bool:
    try:
        app.save(*objs)
    except IntegrityError:
        return False
    return True


def _index(app: StaffelApplication, index_id: UUID) -> BamfFileNumberIndex | None:
    if not list(app.recorder.select_events(index_id, limit=1)):
        return None
    index: BamfFileNumberIndex = app.repository.get(index_id)
    return index


def _released(app: StaffelApplication, index_id: UUID) -> bool:
    index = _index(app, index_id)
    return index is not None and index.case_id is None


def _delete_stream(app: StaffelApplication, index_id: UUID) -> None:
    recorder = app.recorder
    table: str = recorder.events_table_name  # type: ignore[attr-defined]
    with recorder.datastore.transaction(commit=True) as curs:  # type: ignore[attr-defined]
        if isinstance(recorder, PostgresApplicationRecorder):
            schema = recorder.datastore.schema or "public"
            delete = SQL("DELETE FROM {}.{} WHERE originator_id = %s")
            curs.execute(delete.format(Identifier(schema), Identifier(table)), (index_id,))
        else:  # deleted bytes are overwritten with zeros in the file too
            curs.execute("PRAGMA secure_delete = ON")
            statement = f"DELETE FROM {table} WHERE originator_id = ?"  # noqa: S608 the library's name
            curs.execute(statement, (index_id.hex,))


def _pages(app: StaffelApplication, topic: str) -> Any:
    start = None
    while page := app.recorder.select_notifications(start=start, limit=PAGE, topics=[topic]):
        yield page
        start = page[-1].id + 1
