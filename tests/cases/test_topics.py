"""Stored topics are stable names, not module paths: renaming a ``TOPIC`` fails here, moving a
class to another module does not break a stored log."""

from __future__ import annotations

import sys
from typing import Any

import pytest
from eventsourcing.utils import get_topic, resolve_topic

from adapters.chain_check import stored_state
from adapters.keystore import opened
from domain.actor import acting_as
from domain.aggregates import bamf_index, case_events
from domain.aggregates.bamf_index import (
    BamfFileNumberIndex,
    BamfFileNumberReassigned,
    BamfFileNumberRegistered,
    BamfFileNumberReleased,
)
from domain.aggregates.case import Case
from domain.aggregates.case_events import CASE_EVENTS, CaseRegistered, NoteRecorded
from domain.values import ErasureGround
from tests.support.store import (
    RECEIVER,
    MakeApp,
    assert_same_typed,
    note,
    record_every_event_type,
)

# Frozen: these strings are in stored logs. Never edit one; add register_topic(old, cls) instead.
EVENT_TOPICS = [
    "staffel:Case.CaseRegistered",
    "staffel:Case.LegalStatusChanged",
    "staffel:Case.AsylumRecognized",
    "staffel:Case.AsylumRejected",
    "staffel:Case.CompetenceAssessed",
    "staffel:Case.StepAgreed",
    "staffel:Case.StepCompleted",
    "staffel:Case.MeasureStarted",
    "staffel:Case.MeasureEnded",
    "staffel:Case.PlacementMade",
    "staffel:Case.PlacementEnded",
    "staffel:Case.MentorAssigned",
    "staffel:Case.MentorReleased",
    "staffel:Case.ConsentGiven",
    "staffel:Case.ConsentWithdrawn",
    "staffel:Case.NoteRecorded",
    "staffel:Case.ResidenceChanged",
    "staffel:Case.CaseClosed",
    "staffel:Case.CaseReopened",
    "staffel:Case.HandoverOffered",
    "staffel:Case.HandoverAccepted",
    "staffel:Case.HandoverRejected",
    "staffel:Case.HandoverWithdrawn",
    "staffel:Case.JurisdictionChanged",
    "staffel:Case.PersonalDataErased",
    "staffel:Case.CaseAssigned",
    "staffel:Case.FollowUpCreated",
    "staffel:Case.FollowUpCompleted",
    "staffel:Case.FollowUpPostponed",
    "staffel:Case.FollowUpCancelled",
    "staffel:Case.FactCorrected",
]
INDEX_EVENT_TOPICS = [
    "staffel:BamfFileNumberIndex.Registered",
    "staffel:BamfFileNumberIndex.Released",
    "staffel:BamfFileNumberIndex.Reassigned",
]
CASE_TOPIC = "staffel:Case"
INDEX_TOPIC = "staffel:BamfFileNumberIndex"


def test_the_topics_of_the_classes_are_the_frozen_ones() -> None:
    assert sorted(get_topic(cls) for cls in CASE_EVENTS) == sorted(EVENT_TOPICS)
    assert len(set(EVENT_TOPICS)) == len(EVENT_TOPICS) == len(CASE_EVENTS)
    index_events = [BamfFileNumberRegistered, BamfFileNumberReleased, BamfFileNumberReassigned]
    assert [get_topic(cls) for cls in index_events] == INDEX_EVENT_TOPICS
    assert (get_topic(Case), get_topic(BamfFileNumberIndex)) == (CASE_TOPIC, INDEX_TOPIC)


def test_each_frozen_topic_resolves_to_its_class() -> None:
    for topic in EVENT_TOPICS:
        cls = resolve_topic(topic)
        assert cls in CASE_EVENTS
        assert get_topic(cls) == topic
    assert resolve_topic(INDEX_EVENT_TOPICS[0]) is BamfFileNumberRegistered
    assert resolve_topic(INDEX_EVENT_TOPICS[1]) is BamfFileNumberReleased
    assert resolve_topic(INDEX_EVENT_TOPICS[2]) is BamfFileNumberReassigned
    assert resolve_topic(CASE_TOPIC) is Case
    assert resolve_topic(INDEX_TOPIC) is BamfFileNumberIndex


def test_the_stored_topics_are_the_frozen_ones(make_app: MakeApp) -> None:
    app = make_app(snapshot_interval=5)
    case_id = record_every_event_type(app, erase=False)
    [registered] = opened(app, [app.mapper.to_domain_event(app.recorder.select_events(case_id)[0])])
    with acting_as(RECEIVER):  # the last topic: the erasure (it leaves nothing to read after it)
        app.erase_personal_data(case_id, ground=ErasureGround.SUBJECT_REQUEST, reason="Antrag")

    stored = list(app.recorder.select_events(case_id))
    assert {s.topic for s in stored} == set(EVENT_TOPICS)
    for s in stored:
        assert type(app.mapper.to_domain_event(s)) is resolve_topic(s.topic)
    _, registered_state = stored_state(app.mapper, stored[0])
    assert registered_state["originator_topic"] == CASE_TOPIC

    assert isinstance(registered, CaseRegistered)
    assert isinstance(registered.bamf_file_number, str)
    index_id = app.bamf_index_id(registered.bamf_file_number)
    index_stored = list(app.recorder.select_events(index_id))
    assert [s.topic for s in index_stored] == INDEX_EVENT_TOPICS[:2]  # released by the erasure
    assert stored_state(app.mapper, index_stored[0])[1]["originator_topic"] == INDEX_TOPIC

    assert app.snapshots is not None
    snapshots = list(app.snapshots.recorder.select_events(case_id))
    assert snapshots
    for snapshot in snapshots:
        assert stored_state(app.mapper, snapshot)[1]["topic"] == CASE_TOPIC


def test_a_stored_log_still_loads_after_the_classes_moved_to_another_module(
    make_app: MakeApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = make_app(snapshot_interval=7)
    case_id = record_every_event_type(writer, erase=False)  # a note is recorded after the move
    before = writer.get_case(case_id)
    stored = list(writer.recorder.select_events(case_id))
    assert all("domain" not in s.topic for s in stored)
    assert all(cls.__module__ == "domain.aggregates.case_events" for cls in CASE_EVENTS)

    # Move every class: its module path changes, the old modules are gone.
    moved: list[Any] = [*CASE_EVENTS, Case, BamfFileNumberIndex, BamfFileNumberRegistered]
    for cls in moved:
        monkeypatch.setattr(cls, "__module__", "staffel_archive.relocated")
    for module in (case_events.__name__, bamf_index.__name__, "domain.aggregates.case"):
        monkeypatch.delitem(sys.modules, module)

    reader = make_app(aggregate_cache_size=0, snapshot_interval=0)
    events = list(reader.events.get(case_id))
    assert [get_topic(type(e)) for e in events] == [s.topic for s in stored]
    after = reader.get_case(case_id)
    assert type(after) is Case
    assert_same_typed(after.__dict__, before.__dict__)

    with acting_as(RECEIVER):  # the holder since the handover
        reader.record(case_id, "NoteRecorded", note("nach dem Umzug der Klassen"))
    (last,) = reader.recorder.select_events(case_id, desc=True, limit=1)
    assert last.topic == NoteRecorded.TOPIC == "staffel:Case.NoteRecorded"
