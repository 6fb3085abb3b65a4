"""Status decisions and when they make a handover (Rechtskreiswechsel) due."""

from __future__ import annotations

from datetime import date

import pytest

from domain.actor import acting_as
from domain.aggregates import case_events as ev
from domain.aggregates.case_errors import AsylumDecisionError
from domain.values import LegalBasis, LegalStatus, Protection, RejectionKind
from tests.support.builders import (
    HOLDER,
    RECOGNISED_ON,
    a_recognised_case,
    a_registered_case,
    case_events,
)


def test_given_an_asylum_seeker_then_counselling_is_sgb_iii_and_no_switch_is_due() -> None:
    case = a_registered_case(legal_status=LegalStatus.ASYLUM_SEEKER)

    assert case.legal_basis == LegalBasis.SGB_III
    assert case.switch_due is None


@pytest.mark.parametrize("protection", list(Protection))
def test_given_an_asylum_seeker_when_asylum_is_recognised_then_a_switch_to_sgb_ii_is_due(
    protection: Protection,
) -> None:
    case = a_registered_case(legal_status=LegalStatus.ASYLUM_SEEKER)

    with acting_as(HOLDER):
        case.recognize_asylum(protection=protection, decided_on=RECOGNISED_ON)

    recognised = case_events(case)[-1]
    assert isinstance(recognised, ev.AsylumRecognized)
    assert recognised.switch_to == LegalBasis.SGB_II
    assert case.switch_due == LegalBasis.SGB_II
    assert case.switch_decided_on == RECOGNISED_ON
    assert case.legal_status == LegalStatus(protection.value)
    assert case.legal_basis == LegalBasis.SGB_III  # unchanged until the handover is accepted


def test_given_an_asylum_seeker_when_asylum_is_rejected_then_no_switch_is_due() -> None:
    case = a_registered_case(legal_status=LegalStatus.ASYLUM_SEEKER)

    with acting_as(HOLDER):
        case.reject_asylum(kind=RejectionKind.UNFOUNDED, decided_on=RECOGNISED_ON)

    assert isinstance(case_events(case)[-1], ev.AsylumRejected)
    assert case.switch_due is None
    assert case.legal_basis == LegalBasis.SGB_III


@pytest.mark.parametrize(
    "status", [s for s in LegalStatus if s is not LegalStatus.ASYLUM_SEEKER], ids=str
)
def test_given_no_pending_application_when_asylum_is_rejected_then_it_is_refused(
    status: LegalStatus,
) -> None:
    case = a_registered_case(legal_status=status)

    with acting_as(HOLDER), pytest.raises(AsylumDecisionError):
        case.reject_asylum(kind=RejectionKind.UNFOUNDED, decided_on=RECOGNISED_ON)

    assert case.version == 1


@pytest.mark.parametrize("status", [LegalStatus(p.value) for p in Protection], ids=str)
def test_given_protection_already_granted_when_asylum_is_recognised_then_it_is_refused(
    status: LegalStatus,
) -> None:
    case = a_registered_case(legal_status=status)

    with acting_as(HOLDER), pytest.raises(AsylumDecisionError):
        case.recognize_asylum(protection=Protection.REFUGEE, decided_on=RECOGNISED_ON)

    assert case.version == 1


def test_given_a_recognised_case_when_asylum_is_recognised_again_then_it_is_refused() -> None:
    case = a_recognised_case()

    with acting_as(HOLDER), pytest.raises(AsylumDecisionError):
        case.recognize_asylum(protection=Protection.ASYLUM_ENTITLED, decided_on=date(2026, 5, 2))


def test_given_an_asylum_seeker_when_temporary_protection_is_granted_then_a_switch_is_due() -> None:
    case = a_registered_case(legal_status=LegalStatus.ASYLUM_SEEKER)
    effective_on = date(2026, 6, 15)

    with acting_as(HOLDER):
        case.change_legal_status(status=LegalStatus.TEMPORARY_PROTECTION, effective_on=effective_on)

    changed = case_events(case)[-1]
    assert isinstance(changed, ev.LegalStatusChanged)
    assert changed.switch_to == LegalBasis.SGB_II
    assert case.switch_due == LegalBasis.SGB_II
    assert case.switch_decided_on == effective_on
    assert case.legal_status == LegalStatus.TEMPORARY_PROTECTION


def test_given_an_asylum_seeker_when_a_same_basis_status_follows_then_no_switch_is_due() -> None:
    case = a_registered_case(legal_status=LegalStatus.ASYLUM_SEEKER)

    with acting_as(HOLDER):
        case.change_legal_status(status=LegalStatus.TOLERATED, effective_on=date(2026, 6, 15))

    changed = case_events(case)[-1]
    assert isinstance(changed, ev.LegalStatusChanged)
    assert changed.switch_to is None
    assert case.switch_due is None
    assert case.legal_status == LegalStatus.TOLERATED
