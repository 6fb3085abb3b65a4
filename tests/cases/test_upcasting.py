"""A note stored at class version 1 (before ``category`` existed) still loads, as a general note,
and a consent stored before ``valid_until`` existed as one without an end; the hash chain still
verifies: the hash covers the event as stored, before upcasting."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import StoredEvent

from adapters.chain_check import stored_state, verify_case
from domain.actor import acting_as
from domain.aggregates.case_events import CaseRegistered, ConsentGiven, NoteRecorded
from domain.application import StaffelApplication
from domain.chain import event_hash
from domain.values import ConsentPurpose, NoteCategory
from tests.support.store import HOLDER, STORAGE_MODES, MakeApp, note, register

OLD_TEXT = "Termin wahrgenommen, Unterlagen fehlen"


def store_v1_note(app: StaffelApplication, case_id: UUID) -> str:
    """Insert a NoteRecorded as version 1 wrote it: no ``category``, no ``class_version``."""
    return store_v1(app, case_id, NoteRecorded.TOPIC, {"text": OLD_TEXT})


def store_v1(app: StaffelApplication, case_id: UUID, topic: str, fields: dict[str, Any]) -> str:
    """Insert an event of ``topic`` with ``fields`` as its class version 1 wrote it."""
    case = app.get_case(case_id)
    version = case.version + 1
    state: dict[str, Any] = {
        "timestamp": datetime(2023, 5, 4, 9, 30, tzinfo=UTC),
        "actor": HOLDER.id,
        "org": HOLDER.org,
        "prev_hash": case.digest,
        **fields,
    }
    state["hash"] = event_hash(case_id, version, topic, 1, state)
    data = app.mapper.transcoder.encode(state)
    if app.mapper.compressor:
        data = app.mapper.compressor.compress(data)
    if app.mapper.cipher:
        data = app.mapper.cipher.encrypt(data)
    app.recorder.insert_events(
        [
            StoredEvent(
                originator_id=case_id,
                originator_version=version,
                topic=topic,
                state=data,
            )
        ]
    )
    return str(state["hash"])


@pytest.mark.parametrize("mode", ["plain", "encrypted+compressed"])
def test_a_version_1_note_is_upcast_to_a_general_note_and_its_chain_verifies(
    make_app: MakeApp, mode: str
) -> None:
    settings: dict[str, Any] = STORAGE_MODES[mode]
    writer = make_app(**settings)
    case_id = register(writer).id
    stored_hash = store_v1_note(writer, case_id)

    reader = make_app(**settings, aggregate_cache_size=0)
    registered, old_note = list(reader.events.get(case_id))

    assert isinstance(registered, CaseRegistered)
    assert isinstance(old_note, NoteRecorded)
    assert old_note.category is NoteCategory.GENERAL
    assert old_note.text == OLD_TEXT
    assert old_note.prev_hash == registered.hash
    assert old_note.hash == stored_hash
    case = reader.get_case(case_id)
    assert (case.version, case.digest) == (2, stored_hash)

    # what is stored stays version 1: no category, no class_version
    stored = list(reader.recorder.select_events(case_id))[1]
    class_version, state = stored_state(reader.mapper, stored)
    assert class_version == 1
    assert "category" not in state
    assert verify_case(reader, case_id) == []


def test_a_note_recorded_after_an_upcast_one_chains_onto_the_stored_hash(
    make_app: MakeApp,
) -> None:
    app = make_app()
    case_id = register(app).id
    stored_hash = store_v1_note(app, case_id)

    with acting_as(HOLDER):
        recorded = app.record(case_id, "NoteRecorded", note("Sprachkurs vermittelt"))

    (new_note,) = app.events.get(case_id, gt=2)
    assert isinstance(new_note, NoteRecorded)
    assert new_note.prev_hash == stored_hash
    assert (recorded.version, recorded.digest) == (3, new_note.hash)
    class_version, state = stored_state(app.mapper, list(app.recorder.select_events(case_id))[2])
    assert (class_version, state["category"]) == (2, NoteCategory.COUNSELLING)
    assert verify_case(app, case_id) == []


def test_a_consent_stored_before_valid_until_existed_holds_until_withdrawn(
    make_app: MakeApp,
) -> None:
    app = make_app()
    case_id = register(app).id
    fields = {
        "consent_id": "c-alt",
        "purpose": ConsentPurpose.SHARE_WITH_MENTOR,
        "recipient": "drk-heinsberg",
        "scope": ("name",),
        "given_on": date(2023, 5, 4),
    }
    stored_hash = store_v1(app, case_id, ConsentGiven.TOPIC, fields)

    reader = make_app(aggregate_cache_size=0)
    _, old = list(reader.events.get(case_id))
    assert isinstance(old, ConsentGiven)
    assert (old.consent_id, old.valid_until, old.hash) == ("c-alt", None, stored_hash)
    case = reader.get_case(case_id)
    assert case.consents == {"c-alt": True}
    assert case.dated_follow_ups == ()  # no end: nothing to follow up
    assert verify_case(reader, case_id) == []
    with acting_as(HOLDER):  # withdrawn as any other consent
        reader.record(
            case_id, "ConsentWithdrawn", {"consent_id": "c-alt", "withdrawn_on": date(2024, 1, 2)}
        )
    assert verify_case(reader, case_id) == []
