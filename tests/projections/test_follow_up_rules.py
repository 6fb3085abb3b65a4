"""The follow-up derivation rules (ADR 0017), as properties of the pure fold over the events of
random valid command sequences on one case (handovers, closing, assignment, follow-ups by hand and
their settlement included). No database: the fold and the projection with an in-memory writer."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.strategies import DataObject

from domain import follow_ups as fu
from domain import policy
from domain.aggregates import case_events as ev
from domain.aggregates.case import Case
from domain.application import StaffelApplication
from domain.sealing import sealing_with
from projections import follow_ups, summary
from projections.follow_ups import FollowUpProjection, State
from tests.projections.test_projection_properties import DrawChooser
from tests.support.builders import case_events
from tests.support.projections import World, open_follow_ups, register, run_command, valid_commands
from tests.support.store import record_every_event_type


def a_case_with_history(data: DataObject) -> tuple[Case, list[ev.CaseEvent]]:
    chooser, world = DrawChooser(data), World.fresh()
    case, _ = register(world, chooser, with_bamf=False)
    for _ in range(data.draw(st.integers(0, 40), label="commands")):
        run_command(case, chooser.choice(valid_commands(case)), world, chooser)
    return case, case_events(case)


def fold_all(events: Iterable[ev.CaseEvent]) -> State:
    state: State | None = None
    for event in events:
        state = follow_ups.fold(state, event)
    assert state is not None
    return state


class MemoryWriter:
    def __init__(self) -> None:
        self.states: dict[str, State] = {}

    def load_follow_up_states(self, case_ids: Iterable[str]) -> dict[str, State]:
        return {k: self.states[k] for k in case_ids if k in self.states}

    def save_follow_up_states(self, states: Sequence[State]) -> None:
        self.states.update({s["case_id"]: s for s in states})

    def secure_delete(self) -> None:
        pass


RULES = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@RULES
@given(data=st.data())
def test_open_follow_ups_belong_to_whoever_must_act(data: DataObject) -> None:
    case, events = a_case_with_history(data)
    state = fold_all(events)
    doc: Any = None
    for event in events:
        doc = summary.fold(doc, event)
    is_open = [r for r in follow_ups.rows(state) if r["state"] == "open"]

    if case.closed or case.erased:
        assert is_open == []  # closing (or erasing) the case closes its follow-ups
    for row in is_open:
        if row["source"] == "handover":  # the receiver's team answers an offer
            assert case.handover is not None
            assert (row["org"], row["assignee"]) == (case.handover.to_org, None)
        else:  # everything else is the holder's: a handover closed the sender's
            assert row["org"] == case.holder
        if row["source"] not in ("manual", "handover"):  # derived: for the caseworker
            assert row["assignee"] == doc["caseworker"]

    handover_rows = [r for r in is_open if r["source"] == "handover"]
    offers = [e for e in events if isinstance(e, ev.HandoverOffered)]
    if case.handover is None:
        assert handover_rows == []
    else:  # exactly one, due at the answer deadline
        assert [(r["follow_up_id"], r["due_on"]) for r in handover_rows] == [
            (fu.handover(offers[-1].originator_version), offers[-1].due_on.isoformat())
        ]


@RULES
@given(data=st.data())
def test_the_view_and_the_case_agree_on_which_follow_ups_are_open(data: DataObject) -> None:
    case, events = a_case_with_history(data)
    state = fold_all(events)
    if case.closed or case.erased:
        return
    in_view = {
        r["follow_up_id"]
        for r in follow_ups.rows(state)
        if r["state"] == "open" and r["source"] != "handover"
    }
    assert in_view == set(open_follow_ups(case))


@RULES
@given(data=st.data())
def test_done_postponed_and_cancelled_act_on_the_holder_s_follow_up(data: DataObject) -> None:
    _, events = a_case_with_history(data)
    state: State | None = None
    for event in events:
        state = follow_ups.fold(state, event)
        if not isinstance(
            event, ev.FollowUpCompleted | ev.FollowUpCancelled | ev.FollowUpPostponed
        ):
            continue
        row = state["items"][f"{event.org}|{event.follow_up_id}"]
        match event:
            case ev.FollowUpCompleted():
                assert (row["state"], row["settled_on"]) == ("done", event.completed_on.isoformat())
            case ev.FollowUpCancelled():
                assert row["state"] == "cancelled"
            case ev.FollowUpPostponed():
                assert (row["state"], row["due_on"]) == ("open", event.due_on.isoformat())


@RULES
@given(data=st.data())
def test_batches_of_any_size_and_replays_give_the_same_view(data: DataObject) -> None:
    """Exactly once: a batch split anywhere, or an event given again, changes nothing."""
    _, events = a_case_with_history(data)
    once = fold_all(events)
    writer, projection, i = MemoryWriter(), FollowUpProjection(), 0
    while i < len(events):
        size = data.draw(st.integers(1, 5), label="batch")
        again = data.draw(st.integers(0, i), label="replayed from") if i else 0
        batch = [(e, n) for n, e in enumerate(events[again : i + size], start=again)]
        projection.process(batch, writer)
        i += size
    [state] = writer.states.values()
    # the version is of the last event the projection folds (FOLLOWED), not of the last one
    assert without_version(state) == without_version(once)
    assert follow_ups.rows(state) == follow_ups.rows(once)


def working_days_between(start: date, end: date) -> int:
    return sum((start + timedelta(days=d)).weekday() < 5 for d in range(1, (end - start).days + 1))


@RULES
@given(data=st.data())
def test_a_new_caseworker_has_one_first_meeting_and_a_consent_s_end_its_follow_up(
    data: DataObject,
) -> None:
    case, events = a_case_with_history(data)
    state = fold_all(events)
    is_open = [r for r in follow_ups.rows(state) if r["state"] == "open"]

    # the first meeting: of the last assignment to someone new since the handover or closing
    assigned: str | None = None
    meeting: ev.CaseAssigned | None = None
    for event in events:
        match event:
            case ev.CaseAssigned() if event.caseworker != assigned:
                assigned = event.caseworker
                meeting = event if event.caseworker is not None else None
            case ev.JurisdictionChanged():
                assigned, meeting = None, None
            case ev.CaseClosed():
                meeting = None
            case ev.FollowUpCompleted() | ev.FollowUpCancelled() if meeting is not None:
                if event.follow_up_id == fu.first_meeting(meeting.originator_version):
                    meeting = None
    meetings = [r for r in is_open if r["source"] == "first_meeting"]
    if meeting is None or case.erased:
        assert meetings == []
    else:
        [row] = meetings
        assert (row["follow_up_id"], row["assignee"], row["org"], row["text"]) == (
            fu.first_meeting(meeting.originator_version),
            meeting.caseworker,
            case.holder,
            "Erstgespräch führen",
        )
        due = date.fromisoformat(row["due_on"])
        if not any(
            isinstance(e, ev.FollowUpPostponed) and e.follow_up_id == row["follow_up_id"]
            for e in events
        ):
            assigned_on = policy.day_in_germany(meeting.timestamp)  # a German working day
            assert (working_days_between(assigned_on, due), due.weekday() < 5) == (5, True)

    # a consent's end: for a consent in force, 14 days before its last day
    given = {e.consent_id: e for e in events if isinstance(e, ev.ConsentGiven)}
    for row in (r for r in is_open if r["source"] == "consent"):
        consent = given[fu.kind_of(row["follow_up_id"])[1]]
        assert case.consents[consent.consent_id] is True  # a withdrawal closes it
        assert consent.valid_until is not None
        postponed = any(
            isinstance(e, ev.FollowUpPostponed) and e.follow_up_id == row["follow_up_id"]
            for e in events
        )
        if not postponed:
            assert row["due_on"] == (consent.valid_until - timedelta(days=14)).isoformat()
        assert row["text"].startswith("Einwilligung läuft ab")


def without_version(state: State) -> State:
    return {k: v for k, v in state.items() if k != "version"}


@RULES
@given(data=st.data())
def test_the_events_the_projection_passes_over_change_nothing_but_the_version(
    data: DataObject,
) -> None:
    """``FollowUpProjection`` folds only ``FOLLOWED`` events (a batch of notes loads and saves
    no state): folding only those gives every case the same follow-ups and facts as folding all,
    whichever batches the events come in."""
    _, events = a_case_with_history(data)
    followed = [e for e in events if isinstance(e, follow_ups.FOLLOWED)]
    assert without_version(fold_all(followed)) == without_version(fold_all(events))
    writer = MemoryWriter()
    size = data.draw(st.integers(1, 8), label="batch size")
    for start in range(0, len(events), size):
        batch = [(e, i) for i, e in enumerate(events[start : start + size], start)]
        FollowUpProjection().process(batch, writer)
    [stored] = writer.states.values()
    assert follow_ups.rows(stored) == follow_ups.rows(fold_all(events))


def test_every_event_type_outside_followed_changes_nothing_but_the_version(
    make_app: Callable[..., StaffelApplication],
) -> None:
    """Each type of ``CASE_EVENTS`` that ``FOLLOWED`` leaves out, on a case with every type
    recorded: the state after it is the state before it, but for the version."""
    app = make_app()
    with sealing_with(app.keys):
        case_id = record_every_event_type(app, erase=False)
        events = [e for e in app.events.get(case_id) if isinstance(e, ev.CaseEvent)]
    passed_over = {type(e) for e in events} - set(follow_ups.FOLLOWED)
    assert passed_over == set(ev.CASE_EVENTS) - set(follow_ups.FOLLOWED) - {ev.PersonalDataErased}
    state: State | None = None
    for event in events:
        after = follow_ups.fold(state, event)
        if type(event) in passed_over:
            assert state is not None
            assert without_version(after) == without_version(state), event
        state = after
