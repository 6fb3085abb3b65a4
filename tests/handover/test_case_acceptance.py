"""Accepting a handover: acknowledge the current version and digest, then the holder changes."""

from __future__ import annotations

from datetime import date

import pytest

from domain.actor import Actor, acting_as
from domain.aggregates import case_events as ev
from domain.aggregates.case_errors import NotHolderError, StaleAcknowledgementError
from domain.values import LegalBasis
from tests.support.builders import (
    AGENCY,
    HOLDER,
    JOBCENTER,
    OTHER_AGENCY,
    RECEIVER,
    RECOGNISED_ON,
    TODAY,
    a_case_offered_to,
    a_recognised_case,
    a_registered_case,
    accept,
    case_events,
    record_note,
)


def test_given_a_note_after_the_receiver_read_when_it_accepts_then_the_ack_is_stale() -> None:
    case = a_case_offered_to(JOBCENTER)
    read_version, read_digest = case.version, case.digest  # the receiver reads the case
    record_note(case, by=HOLDER)  # ... and the holder records one more note

    with acting_as(RECEIVER), pytest.raises(StaleAcknowledgementError) as refused:
        case.accept_handover(version=read_version, digest=read_digest, accepted_on=TODAY)

    assert (refused.value.version, refused.value.digest) == (case.version, case.digest)
    assert refused.value.version == read_version + 1
    assert case.holder == AGENCY
    assert case.handover is not None


def test_given_the_current_version_but_another_digest_when_accepted_then_it_is_stale() -> None:
    case = a_case_offered_to(JOBCENTER)

    with acting_as(RECEIVER), pytest.raises(StaleAcknowledgementError) as refused:
        case.accept_handover(version=case.version, digest="f" * 64, accepted_on=TODAY)

    assert (refused.value.version, refused.value.digest) == (case.version, case.digest)
    assert case.holder == AGENCY


def test_given_the_current_digest_but_another_version_when_accepted_then_it_is_stale() -> None:
    case = a_case_offered_to(JOBCENTER)

    with acting_as(RECEIVER), pytest.raises(StaleAcknowledgementError) as refused:
        case.accept_handover(version=case.version - 1, digest=case.digest, accepted_on=TODAY)

    assert (refused.value.version, refused.value.digest) == (case.version, case.digest)
    assert case.holder == AGENCY


def test_given_a_recognition_when_the_receiver_accepts_then_jurisdiction_changes_with_it() -> None:
    case = a_case_offered_to(JOBCENTER, case=a_recognised_case(decided_on=date(2026, 4, 20)))
    case.collect_events()  # the receiver's view: everything before is stored
    version, digest = case.version, case.digest

    accept(case, by=RECEIVER, accepted_on=date(2026, 4, 27))

    accepted, changed = case_events(case)
    assert isinstance(accepted, ev.HandoverAccepted)
    assert (accepted.version, accepted.digest) == (version, digest)
    assert isinstance(changed, ev.JurisdictionChanged)
    assert (changed.from_org, changed.to_org) == (AGENCY, JOBCENTER)
    assert (changed.legal_basis_before, changed.legal_basis_after) == (
        LegalBasis.SGB_III,
        LegalBasis.SGB_II,
    )
    assert changed.effective_on == date(2026, 5, 1)  # the month rule, not the acceptance date
    assert (accepted.originator_version, changed.originator_version) == (version + 1, version + 2)
    assert changed.prev_hash == accepted.hash
    assert {(e.actor, e.org) for e in (accepted, changed)} == {(RECEIVER.id, JOBCENTER)}


def test_given_an_accepted_switch_then_the_receiver_holds_under_the_new_basis() -> None:
    case = a_case_offered_to(JOBCENTER, case=a_recognised_case(decided_on=RECOGNISED_ON))

    accept(case)

    assert case.holder == JOBCENTER
    assert case.former_holders == (AGENCY,)
    assert case.legal_basis == LegalBasis.SGB_II
    assert case.switch_due is None
    assert case.handover is None


def test_given_a_move_without_basis_change_then_it_takes_effect_on_acceptance() -> None:
    case = a_case_offered_to(OTHER_AGENCY, case=a_registered_case())
    case.collect_events()
    moved_in = date(2026, 2, 17)

    with acting_as(Actor("staff-aa-hh", OTHER_AGENCY)):
        case.accept_handover(version=case.version, digest=case.digest, accepted_on=moved_in)

    _, changed = case_events(case)
    assert isinstance(changed, ev.JurisdictionChanged)
    assert changed.legal_basis_before == changed.legal_basis_after == LegalBasis.SGB_III
    assert changed.effective_on == moved_in
    assert case.holder == OTHER_AGENCY


def test_given_an_accepted_handover_when_the_former_holder_records_then_it_is_refused() -> None:
    case = a_case_offered_to(JOBCENTER)
    accept(case)

    with pytest.raises(NotHolderError) as refused:
        record_note(case, by=HOLDER)

    assert (refused.value.org, refused.value.holder) == (AGENCY, JOBCENTER)


def test_given_an_accepted_handover_when_the_receiver_records_then_it_is_accepted() -> None:
    case = a_case_offered_to(JOBCENTER)
    accept(case)

    record_note(case, by=RECEIVER, text="first meeting at the Jobcenter")

    note = case_events(case)[-1]
    assert isinstance(note, ev.NoteRecorded)
    assert note.org == JOBCENTER
