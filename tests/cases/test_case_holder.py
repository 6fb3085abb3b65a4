"""Exactly one holder; only the holder's organisation records events; nobody acts anonymously."""

from __future__ import annotations

from datetime import date

import pytest

from domain.actor import Actor, NoActorError, acting_as, current_actor
from domain.aggregates.case import STAFF_COMMANDS, Case
from domain.aggregates.case_errors import NotHolderError
from domain.values import LegalStatus
from tests.support.builders import (
    AGENCY,
    COLLEAGUE,
    HOLDER,
    JOBCENTER,
    OTHER_AGENCY,
    OUTSIDER,
    REGISTERED_ON,
    a_case_with_open_items,
    a_person,
    a_registered_case,
    case_events,
    staff_command,
)

# Every staff event except reopening (which needs a closed case, see test_case_lifecycle).
RECORDING_EVENTS = sorted(set(STAFF_COMMANDS) - {"CaseReopened"})


def test_given_a_registration_then_the_registering_organisation_is_the_one_holder() -> None:
    case = a_registered_case(by=HOLDER)

    assert case.holder == AGENCY
    assert case.former_holders == ()
    [registered] = case_events(case)
    assert (registered.actor, registered.org) == (HOLDER.id, HOLDER.org)


@pytest.mark.parametrize("event_type", RECORDING_EVENTS)
def test_given_the_holder_when_a_staff_event_is_recorded_then_it_is_accepted(
    event_type: str,
) -> None:
    case = a_case_with_open_items()
    version = case.version

    with acting_as(COLLEAGUE):  # any member of the holding organisation
        staff_command(event_type)(case)

    assert case.version == version + 1
    last = case_events(case)[-1]
    assert type(last).__name__ == event_type
    assert (last.actor, last.org) == (COLLEAGUE.id, AGENCY)


@pytest.mark.parametrize("event_type", RECORDING_EVENTS)
def test_given_another_organisation_when_it_records_a_staff_event_then_it_is_refused(
    event_type: str,
) -> None:
    case = a_case_with_open_items()
    version, digest = case.version, case.digest

    with acting_as(OUTSIDER), pytest.raises(NotHolderError) as refused:
        staff_command(event_type)(case)

    assert (refused.value.org, refused.value.holder) == (OTHER_AGENCY, AGENCY)
    assert (case.version, case.digest, case.holder) == (version, digest, AGENCY)


def test_given_another_organisation_when_it_offers_a_handover_then_it_is_refused() -> None:
    case = a_registered_case()

    with acting_as(OUTSIDER), pytest.raises(NotHolderError):
        case.offer_handover(to_org=JOBCENTER, reason="take it", due_on=date(2026, 5, 4))

    assert case.handover is None


def test_given_another_organisation_when_it_reopens_a_closed_case_then_it_is_refused() -> None:
    case = a_registered_case()
    with acting_as(HOLDER):
        case.close(reason="moved abroad", closed_on=date(2026, 3, 1))

    with acting_as(OUTSIDER), pytest.raises(NotHolderError):
        case.reopen(reason="came back")

    assert case.closed


def test_given_no_actor_when_a_case_is_registered_then_it_is_refused() -> None:
    with pytest.raises(NoActorError):
        Case.register(
            person=a_person(),
            bamf_file_number=None,
            residence_municipality="Berlin",
            legal_status=LegalStatus.ASYLUM_SEEKER,
            registered_on=REGISTERED_ON,
        )


def test_given_no_actor_when_a_note_is_recorded_then_it_is_refused() -> None:
    case = a_registered_case()

    with pytest.raises(NoActorError):
        staff_command("NoteRecorded")(case)

    assert case.version == 1


def test_given_no_actor_then_current_actor_is_refused_and_acting_as_sets_it_only_inside() -> None:
    with pytest.raises(NoActorError):
        current_actor()

    with acting_as(Actor("system", "staffel")) as actor:
        assert current_actor() == actor

    with pytest.raises(NoActorError):
        current_actor()
