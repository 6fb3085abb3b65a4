"""Closing and reopening: a closed case accepts only CaseReopened."""

from __future__ import annotations

from datetime import date

import pytest

from domain.actor import acting_as
from domain.aggregates import case_events as ev
from domain.aggregates.case import STAFF_COMMANDS, Case
from domain.aggregates.case_errors import (
    CaseClosedError,
    CaseNotClosedError,
    HandoverOpenError,
    NoOpenHandoverError,
)
from tests.support.builders import (
    HOLDER,
    JOBCENTER,
    RECEIVER,
    a_case_offered_to,
    a_case_with_open_items,
    a_registered_case,
    case_events,
    record_note,
    staff_command,
)

CLOSED_ON = date(2026, 3, 31)


def a_closed_case() -> Case:
    case = a_case_with_open_items()
    with acting_as(HOLDER):
        case.close(reason="moved abroad", closed_on=CLOSED_ON)
    return case


def test_given_an_open_case_when_the_holder_closes_it_then_it_is_closed() -> None:
    case = a_registered_case()

    with acting_as(HOLDER):
        case.close(reason="moved abroad", closed_on=CLOSED_ON)

    assert case.closed
    assert isinstance(case_events(case)[-1], ev.CaseClosed)


@pytest.mark.parametrize("event_type", sorted(set(STAFF_COMMANDS) - {"CaseReopened"}))
def test_given_a_closed_case_when_any_staff_event_but_reopening_is_recorded_then_it_is_refused(
    event_type: str,
) -> None:
    case = a_closed_case()
    version = case.version

    with acting_as(HOLDER), pytest.raises(CaseClosedError):
        staff_command(event_type)(case)

    assert case.version == version
    assert case.closed


def test_given_a_closed_case_when_a_note_is_recorded_then_it_is_refused() -> None:
    case = a_closed_case()

    with pytest.raises(CaseClosedError):
        record_note(case)


def test_given_a_closed_case_when_a_handover_is_offered_then_it_is_refused() -> None:
    case = a_closed_case()

    with acting_as(HOLDER), pytest.raises(CaseClosedError):
        case.offer_handover(to_org=JOBCENTER, reason="recognised", due_on=date(2026, 4, 7))

    assert case.handover is None


def test_given_a_closed_case_when_a_handover_is_withdrawn_then_it_is_refused() -> None:
    case = a_closed_case()

    with acting_as(HOLDER), pytest.raises(CaseClosedError):
        case.withdraw_handover(reason="mistake")


def test_given_a_closed_case_when_another_org_accepts_then_it_is_refused() -> None:
    # A closed case never has an open handover (closing with one is refused), so acceptance
    # and rejection are refused because nothing is on offer.
    case = a_closed_case()

    with acting_as(RECEIVER), pytest.raises(NoOpenHandoverError):
        case.accept_handover(version=case.version, digest=case.digest, accepted_on=CLOSED_ON)
    with acting_as(RECEIVER), pytest.raises(NoOpenHandoverError):
        case.reject_handover(reason="not ours")


def test_given_a_closed_case_when_the_holder_reopens_it_then_it_accepts_events_again() -> None:
    case = a_closed_case()

    with acting_as(HOLDER):
        staff_command("CaseReopened")(case)
    record_note(case)

    assert not case.closed
    reopened, note = case_events(case)[-2:]
    assert isinstance(reopened, ev.CaseReopened)
    assert isinstance(note, ev.NoteRecorded)


def test_given_an_open_case_when_it_is_reopened_then_it_is_refused() -> None:
    case = a_registered_case()

    with acting_as(HOLDER), pytest.raises(CaseNotClosedError):
        case.reopen(reason="just in case")

    assert case.version == 1


def test_given_a_reopened_case_when_it_is_reopened_again_then_it_is_refused() -> None:
    case = a_closed_case()
    with acting_as(HOLDER):
        case.reopen(reason="returned")

    with acting_as(HOLDER), pytest.raises(CaseNotClosedError):
        case.reopen(reason="twice")


def test_given_an_open_handover_when_the_case_is_closed_then_it_is_refused() -> None:
    case = a_case_offered_to(JOBCENTER)

    with acting_as(HOLDER), pytest.raises(HandoverOpenError) as refused:
        case.close(reason="moved abroad", closed_on=CLOSED_ON)

    assert refused.value.to_org == JOBCENTER
    assert not case.closed
