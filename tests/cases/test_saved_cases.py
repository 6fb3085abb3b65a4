"""Issue 16: a write's first attempt runs on the case as this process saved it last
(``domain/saved_cases.py``), without reading the case from the store. Optimistic concurrency
keeps that correct when another process wrote the case meanwhile: the save collides and the
command runs again on the stored state; a command the copy refuses is decided again on the
stored state. Two applications on one store stand for two processes."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import pytest

from adapters.chain_check import verify_case
from domain.actor import Actor, acting_as
from domain.aggregates.case import Case
from domain.values import Plan
from tests.support.store import HOLDER, MakeApp, note, record_every_event_type, register


def state(case: Case) -> dict[str, Any]:
    return {k: v for k, v in vars(case).items() if k != "_pending_events"}


def test_a_write_after_this_process_saved_the_case_reads_nothing_first(
    make_app: MakeApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app()
    case_id = register(app).id
    with acting_as(HOLDER):
        app.record(case_id, "NoteRecorded", note("Erstgespräch"))
    reads: list[UUID] = []
    original = app.repository.get

    def get(aggregate_id: UUID, **kwargs: Any) -> Any:
        reads.append(aggregate_id)
        return original(aggregate_id, **kwargs)

    monkeypatch.setattr(app.repository, "get", get)
    with acting_as(HOLDER):
        recorded = app.record(case_id, "NoteRecorded", note("Sprachkurs angemeldet"))
    assert recorded.version == 3
    assert reads == []


def test_the_case_a_write_runs_on_is_the_stored_case(make_app: MakeApp) -> None:
    """Every event type, then a note: the copy kept for the next write equals the case read
    from its stored events by another process, field by field (the chain's digest included)."""
    app, other = make_app(), make_app()
    case_id = record_every_event_type(app, erase=False)
    with acting_as(Actor("staff-1", app.get_case(case_id).holder)):
        app.record(case_id, "NoteRecorded", note("Nachgespräch"))
    kept = app._saved_cases.copy_of(case_id)
    assert kept is not None
    assert state(kept) == state(other.get_case(case_id))


def test_a_write_on_a_case_another_process_moved_on_is_stored_on_the_new_state(
    make_app: MakeApp,
) -> None:
    app, other = make_app(), make_app()
    case_id = register(app).id
    with acting_as(HOLDER):
        app.record(case_id, "NoteRecorded", note("hier"))
        other.record(case_id, "NoteRecorded", note("dort"))
        recorded = app.record(case_id, "NoteRecorded", note("wieder hier"))
    assert recorded.version == 4
    assert verify_case(app, case_id) == []
    assert app.keys is not None
    opened = app.keys.open_events(list(app.events.get(case_id)))
    assert [getattr(e, "text", None) for e in opened][1:] == ["hier", "dort", "wieder hier"]


def test_a_stale_copy_never_refuses_what_the_stored_case_allows(make_app: MakeApp) -> None:
    """The other process agreed a step this process has not seen: completing it here is
    refused by the copy (no such step), then decided on the stored case, which has it."""
    app, other = make_app(), make_app()
    case_id = register(app).id
    step = {"step_id": "s1", "description": "B1-Kurs", "due_on": date(2026, 11, 30),
            "plan": Plan.EINGLIEDERUNGSVEREINBARUNG}  # fmt: skip
    with acting_as(HOLDER):
        app.record(case_id, "NoteRecorded", note("hier"))
        other.record(case_id, "StepAgreed", step)
        recorded = app.record(
            case_id, "StepCompleted", {"step_id": "s1", "completed_on": date(2026, 11, 20)}
        )
    assert recorded.version == 4
    assert app.get_case(case_id).steps == {"s1": True}
