"""Givens for the audit tests: a small store of cases, and a forger who edits stored rows with
SQL (the events table holds the transcoder's JSON as a BLOB/bytea when neither cipher nor
compression is configured)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.postgres import PostgresApplicationRecorder

from adapters.chain_check import stored_state
from domain.aggregates.case import Case
from domain.application import StaffelApplication
from domain.chain import event_hash
from domain.sealing import sealing_with
from tests.support.builders import (
    RECEIVER,
    a_case_offered_to,
    a_registered_case,
    accept,
    record_note,
)

Found = list[tuple[str | None, int | None, str]]


def seed(app: StaffelApplication, cases: int = 3, notes: int = 4) -> list[UUID]:
    """``cases`` cases of a registration and ``notes`` notes each, then one handed over to the
    Jobcenter (registered, recognised, offered, accepted, a note by the Jobcenter)."""
    with sealing_with(app.keys):
        built: list[Case] = []
        for _ in range(cases):
            case = a_registered_case()
            for k in range(notes):
                record_note(case, text=f"Termin {k} wahrgenommen, Gespräch geführt")
            built.append(case)
        handed_over = a_case_offered_to()
        accept(handed_over)
        record_note(handed_over, by=RECEIVER, text="Erstgespräch im Jobcenter")
        app.save(*built, handed_over)
    return [c.id for c in [*built, handed_over]]


def found(result: dict[str, Any]) -> Found:
    return [(p["case_id"], p["version"], p["kind"]) for p in result["problems"]]


@dataclass
class Forger:
    """Edits the events table directly, as someone with database access would."""

    app: StaffelApplication

    @property
    def pg(self) -> bool:
        return isinstance(self.app.recorder, PostgresApplicationRecorder)

    def sql(self, statement: str, params: tuple[Any, ...] = ()) -> list[Any]:
        table = self.app.recorder.events_table_name  # type: ignore[attr-defined]
        statement = statement.replace("EVENTS", table)
        if not self.pg:
            statement = statement.replace("%s", "?").replace("notification_id", "rowid")
        with self.app.recorder.datastore.transaction(commit=True) as curs:  # type: ignore[attr-defined]
            curs.execute(statement, params)
            try:
                return list(curs.fetchall())
            except Exception:
                return []

    def oid(self, case_id: UUID) -> Any:
        return case_id if self.pg else case_id.hex

    def row(self, case_id: UUID, version: int) -> dict[str, Any]:
        rows = self.sql(
            "SELECT notification_id AS position, topic, state FROM EVENTS"
            " WHERE originator_id = %s AND originator_version = %s",
            (self.oid(case_id), version),
        )
        return {
            "position": rows[0]["position"],
            "topic": rows[0]["topic"],
            "state": bytes(rows[0]["state"]),
        }

    def set_state(self, case_id: UUID, version: int, data: bytes) -> None:
        self.sql(
            "UPDATE EVENTS SET state = %s WHERE originator_id = %s AND originator_version = %s",
            (data, self.oid(case_id), version),
        )

    def change_byte(self, case_id: UUID, version: int, old: bytes, new: bytes) -> None:
        data = self.row(case_id, version)["state"]
        assert old in data
        assert len(old) == len(new)
        self.set_state(case_id, version, data.replace(old, new, 1))

    def change_sealed_byte(self, case_id: UUID, version: int) -> None:
        """One character of a sealed personal value (its ciphertext) changed."""
        data = self.row(case_id, version)["state"]
        at = data.index(b'"box":"') + len(b'"box":"') + 20
        new = b"B" if data[at : at + 1] != b"B" else b"C"
        self.set_state(case_id, version, data[:at] + new + data[at + 1 :])

    def delete(self, case_id: UUID, version: int) -> None:
        self.sql(
            "DELETE FROM EVENTS WHERE originator_id = %s AND originator_version = %s",
            (self.oid(case_id), version),
        )

    def swap(self, case_id: UUID, a: int, b: int) -> None:
        for old, new in ((a, -1), (b, a), (-1, b)):
            self.sql(
                "UPDATE EVENTS SET originator_version = %s"
                " WHERE originator_id = %s AND originator_version = %s",
                (new, self.oid(case_id), old),
            )

    def insert(
        self, case_id: UUID, version: int, topic: str, data: bytes, position: int | None = None
    ) -> None:
        if position is None:
            self.sql(
                "INSERT INTO EVENTS (originator_id, originator_version, topic, state)"
                " VALUES (%s, %s, %s, %s)",
                (self.oid(case_id), version, topic, data),
            )
        else:
            self.sql(
                "INSERT INTO EVENTS (originator_id, originator_version, topic, state,"
                " notification_id) VALUES (%s, %s, %s, %s, %s)",
                (self.oid(case_id), version, topic, data, position),
            )

    # -- forging events whose own hash verifies ------------------------------------------------

    def typed(self, case_id: UUID, version: int) -> tuple[str, int, dict[str, Any]]:
        stored = next(
            s for s in self.app.recorder.select_events(case_id) if s.originator_version == version
        )
        class_version, state = stored_state(self.app.mapper, stored)
        return stored.topic, class_version, state

    def encode(
        self, case_id: UUID, version: int, topic: str, class_version: int, state: dict[str, Any]
    ) -> tuple[bytes, str]:
        """The stored bytes of an event with this content, hashed as the application would."""
        body = {k: v for k, v in state.items() if k != "hash"}
        digest = event_hash(case_id, version, topic, class_version, body)
        full = {**body, "hash": digest} | (
            {"class_version": class_version} if class_version > 1 else {}
        )
        return self.app.mapper.transcoder.encode(full), digest

    def forge_next(
        self, case_id: UUID, prev_hash: str, text: str, position: int | None = None
    ) -> int:
        """A note appended after the case's head: its own hash verifies; ``prev_hash`` as given."""
        head = max(s.originator_version for s in self.app.recorder.select_events(case_id))
        topic, class_version, state = self.typed(case_id, head)
        assert topic == "staffel:Case.NoteRecorded"
        state = {**state, "text": text, "prev_hash": prev_hash}
        data, _ = self.encode(case_id, head + 1, topic, class_version, state)
        self.insert(case_id, head + 1, topic, data, position)
        return head + 1

    def rewrite(
        self,
        case_id: UUID,
        version: int,
        change: Callable[[dict[str, Any]], None],
        *,
        relink: bool = True,
    ) -> None:
        """Change event ``version`` and recompute its hash; with ``relink``, also every later
        event's ``prev_hash`` and hash, so that the whole chain verifies again."""
        head = max(s.originator_version for s in self.app.recorder.select_events(case_id))
        prev = None
        for v in range(version, head + 1 if relink else version + 1):
            topic, class_version, state = self.typed(case_id, v)
            if v == version:
                change(state)
            if prev is not None:
                state["prev_hash"] = prev
            data, prev = self.encode(case_id, v, topic, class_version, state)
            self.set_state(case_id, v, data)
