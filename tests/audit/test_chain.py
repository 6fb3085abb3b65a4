"""The hash chain over a case stream: GENESIS, prev_hash links, digest, recomputable hashes."""

from __future__ import annotations

import dataclasses
import itertools
import uuid
from datetime import date, datetime, timedelta
from enum import Enum
from typing import Any

import pytest
from eventsourcing.utils import get_topic

from domain.actor import acting_as
from domain.aggregates import case_events as ev
from domain.aggregates.case import Case
from domain.chain import GENESIS, event_hash
from domain.values import Protection
from tests.support.builders import (
    HOLDER,
    JOBCENTER,
    RECEIVER,
    a_case_offered_to,
    a_case_with_open_items,
    a_registered_case,
    accept,
    case_events,
    record_note,
)


def a_long_history() -> Case:
    """Registration, open items, a recognition, a handover accepted, a note by the new holder."""
    case = a_case_with_open_items()
    with acting_as(HOLDER):
        case.recognize_asylum(protection=Protection.REFUGEE, decided_on=date(2026, 4, 20))
    a_case_offered_to(JOBCENTER, case=case)
    accept(case)
    record_note(case, by=RECEIVER)
    return case


def recomputed(event: ev.CaseEvent) -> str:
    state = dict(vars(event))
    state.pop("originator_id")
    state.pop("originator_version")
    return event_hash(
        event.originator_id,
        event.originator_version,
        get_topic(type(event)),
        getattr(type(event), "class_version", 1),
        state,
    )


def test_given_a_new_case_then_its_first_event_links_to_genesis() -> None:
    [registered] = case_events(a_registered_case())

    assert registered.originator_version == 1
    assert registered.prev_hash == GENESIS == "0" * 64


def test_given_a_history_then_each_event_links_to_the_hash_of_its_predecessor() -> None:
    events = case_events(a_long_history())

    assert [e.originator_version for e in events] == list(range(1, len(events) + 1))
    assert events[0].prev_hash == GENESIS
    for before, after in itertools.pairwise(events):
        assert after.prev_hash == before.hash, type(after).__name__
    assert len({e.hash for e in events}) == len(events)


def test_given_each_command_then_the_digest_is_the_hash_of_the_last_event() -> None:
    case = a_registered_case()
    assert case.digest == case_events(case)[-1].hash

    for text in ("first", "second"):
        record_note(case, text=text)
        assert case.digest == case_events(case)[-1].hash

    history = a_long_history()
    assert history.digest == case_events(history)[-1].hash


def test_given_any_recorded_event_when_its_hash_is_recomputed_then_it_matches() -> None:
    events = case_events(a_long_history())

    for event in events:
        assert len(event.hash) == 64
        assert recomputed(event) == event.hash, type(event).__name__


def test_given_a_versioned_event_then_its_class_version_is_part_of_the_hash() -> None:
    case = a_registered_case()
    record_note(case)
    note = case_events(case)[-1]
    state = {
        k: v for k, v in vars(note).items() if k not in ("originator_id", "originator_version")
    }

    assert ev.NoteRecorded.class_version == 2
    as_v1 = event_hash(note.originator_id, 2, get_topic(ev.NoteRecorded), 1, state)
    assert as_v1 != note.hash


def another(value: Any) -> Any:
    """A different value of the same kind, for tampering with one field."""
    if value is None:
        return "tampered"
    if isinstance(value, Enum):
        return next(m for m in type(value) if m is not value)
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str):
        return value + "!"
    if isinstance(value, datetime):
        return value + timedelta(microseconds=1)
    if isinstance(value, date):
        return value + timedelta(days=1)
    if isinstance(value, uuid.UUID):
        return uuid.uuid4()
    if isinstance(value, tuple):
        return (*value, "tampered")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        first = dataclasses.fields(value)[0].name
        return dataclasses.replace(value, **{first: another(getattr(value, first))})
    raise AssertionError(f"no other value for {value!r}")


# The event types of ``a_long_history``: every field of each is tampered with in turn.
HISTORY_TYPES: tuple[type[ev.CaseEvent], ...] = (
    ev.CaseRegistered,
    ev.StepAgreed,
    ev.MeasureStarted,
    ev.PlacementMade,
    ev.MentorAssigned,
    ev.ConsentGiven,
    ev.AsylumRecognized,
    ev.HandoverOffered,
    ev.HandoverAccepted,
    ev.JurisdictionChanged,
    ev.NoteRecorded,
)
TAMPERINGS = [(cls.__name__, f.name) for cls in HISTORY_TYPES for f in dataclasses.fields(cls)]


def test_given_a_long_history_then_it_holds_each_tampered_event_type_once() -> None:
    assert [type(e) for e in case_events(a_long_history())] == list(HISTORY_TYPES)


@pytest.mark.parametrize(
    ("event_type", "field"), TAMPERINGS, ids=[f"{t}.{f}" for t, f in TAMPERINGS]
)
def test_given_an_event_when_any_one_field_changes_then_its_hash_changes(
    event_type: str, field: str
) -> None:
    event = next(e for e in case_events(a_long_history()) if type(e).__name__ == event_type)

    tampered = dataclasses.replace(event, **{field: another(getattr(event, field))})

    assert tampered.hash != event.hash
    assert recomputed(tampered) == tampered.hash


def test_given_a_state_when_case_id_version_topic_or_class_version_change_then_hash_does() -> None:
    case_id, state = uuid.uuid4(), {"text": "x", "prev_hash": GENESIS}
    original = event_hash(case_id, 1, "staffel:Case.NoteRecorded", 2, state)

    assert event_hash(case_id, 1, "staffel:Case.NoteRecorded", 2, dict(state)) == original
    assert event_hash(uuid.uuid4(), 1, "staffel:Case.NoteRecorded", 2, state) != original
    assert event_hash(case_id, 2, "staffel:Case.NoteRecorded", 2, state) != original
    assert event_hash(case_id, 1, "staffel:Case.CaseClosed", 2, state) != original
    assert event_hash(case_id, 1, "staffel:Case.NoteRecorded", 1, state) != original


def test_given_a_stored_hash_in_the_state_then_it_is_not_part_of_the_hash() -> None:
    case_id, state = uuid.uuid4(), {"text": "x"}

    assert event_hash(case_id, 1, "t", 1, {**state, "hash": "a" * 64}) == event_hash(
        case_id, 1, "t", 1, state
    )
