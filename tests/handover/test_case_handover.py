"""Offering, withdrawing, rejecting a handover: at most one open, only the offered org answers."""

from __future__ import annotations

from datetime import date

import pytest

from domain.actor import acting_as
from domain.aggregates import case_events as ev
from domain.aggregates.case_errors import (
    HandoverOpenError,
    NoOpenHandoverError,
    NotHolderError,
    NotOfferedOrganisationError,
    OfferToHolderError,
)
from domain.values import LegalBasis, OpenHandover
from tests.support.builders import (
    AGENCY,
    HOLDER,
    JOBCENTER,
    OTHER_AGENCY,
    OUTSIDER,
    RECEIVER,
    a_case_offered_to,
    a_recognised_case,
    a_registered_case,
    accept,
    case_events,
)

DUE_ON = date(2026, 5, 4)


def test_given_a_due_switch_when_the_holder_offers_then_the_offer_names_the_new_basis() -> None:
    case = a_recognised_case()
    version, digest = case.version, case.digest

    with acting_as(HOLDER):
        case.offer_handover(to_org=JOBCENTER, reason="recognised", due_on=DUE_ON)

    offered = case_events(case)[-1]
    assert isinstance(offered, ev.HandoverOffered)
    assert (offered.to_org, offered.legal_basis, offered.due_on) == (
        JOBCENTER,
        LegalBasis.SGB_II,
        DUE_ON,
    )
    assert (offered.offered_version, offered.offered_digest) == (version, digest)
    assert case.handover == OpenHandover(JOBCENTER, LegalBasis.SGB_II, AGENCY, version)
    assert case.holder == AGENCY


def test_given_an_open_handover_when_a_second_is_offered_then_it_is_refused() -> None:
    case = a_case_offered_to(JOBCENTER)
    version = case.version

    with acting_as(HOLDER), pytest.raises(HandoverOpenError) as refused:
        case.offer_handover(to_org=OTHER_AGENCY, reason="moved", due_on=DUE_ON)

    assert refused.value.to_org == JOBCENTER
    assert case.version == version
    assert case.handover is not None
    assert case.handover.to_org == JOBCENTER


def test_given_a_case_when_the_holder_offers_it_to_itself_then_it_is_refused() -> None:
    case = a_registered_case()

    with acting_as(HOLDER), pytest.raises(OfferToHolderError):
        case.offer_handover(to_org=AGENCY, reason="loop", due_on=DUE_ON)

    assert case.handover is None
    assert case.version == 1


def test_given_an_open_handover_when_another_org_accepts_then_it_is_refused() -> None:
    case = a_case_offered_to(JOBCENTER)

    with acting_as(OUTSIDER), pytest.raises(NotOfferedOrganisationError) as refused:
        case.accept_handover(version=case.version, digest=case.digest, accepted_on=DUE_ON)

    assert (refused.value.org, refused.value.to_org) == (OTHER_AGENCY, JOBCENTER)
    assert case.holder == AGENCY


def test_given_an_open_handover_when_the_holder_accepts_it_itself_then_it_is_refused() -> None:
    case = a_case_offered_to(JOBCENTER)

    with acting_as(HOLDER), pytest.raises(NotOfferedOrganisationError):
        case.accept_handover(version=case.version, digest=case.digest, accepted_on=DUE_ON)


def test_given_an_open_handover_when_another_org_rejects_then_it_is_refused() -> None:
    case = a_case_offered_to(JOBCENTER)

    with acting_as(OUTSIDER), pytest.raises(NotOfferedOrganisationError):
        case.reject_handover(reason="not ours")

    assert case.handover is not None


def test_given_no_open_handover_when_one_is_accepted_or_rejected_then_it_is_refused() -> None:
    case = a_recognised_case()

    with acting_as(RECEIVER), pytest.raises(NoOpenHandoverError):
        case.accept_handover(version=case.version, digest=case.digest, accepted_on=DUE_ON)
    with acting_as(RECEIVER), pytest.raises(NoOpenHandoverError):
        case.reject_handover(reason="nothing to reject")


def test_given_an_open_handover_when_the_holder_withdraws_then_none_is_open() -> None:
    case = a_case_offered_to(JOBCENTER)

    with acting_as(HOLDER):
        case.withdraw_handover(reason="sent to the wrong Jobcenter")

    assert isinstance(case_events(case)[-1], ev.HandoverWithdrawn)
    assert case.handover is None
    assert case.holder == AGENCY
    assert case.switch_due == LegalBasis.SGB_II  # still due: a new offer can follow


def test_given_an_open_handover_when_the_receiver_withdraws_then_it_is_refused() -> None:
    case = a_case_offered_to(JOBCENTER)

    with acting_as(RECEIVER), pytest.raises(NotHolderError):
        case.withdraw_handover(reason="not mine to withdraw")

    assert case.handover is not None


def test_given_no_open_handover_when_the_holder_withdraws_then_it_is_refused() -> None:
    case = a_registered_case()

    with acting_as(HOLDER), pytest.raises(NoOpenHandoverError):
        case.withdraw_handover(reason="nothing open")


def test_given_an_open_handover_when_the_receiver_rejects_then_the_holder_keeps_the_case() -> None:
    case = a_case_offered_to(JOBCENTER)

    with acting_as(RECEIVER):
        case.reject_handover(reason="person lives elsewhere")

    rejected = case_events(case)[-1]
    assert isinstance(rejected, ev.HandoverRejected)
    assert (rejected.actor, rejected.org) == (RECEIVER.id, JOBCENTER)
    assert case.handover is None
    assert case.holder == AGENCY
    assert case.former_holders == ()


def test_given_a_rejected_handover_when_a_new_offer_follows_then_it_can_be_accepted() -> None:
    case = a_case_offered_to(JOBCENTER)
    with acting_as(RECEIVER):
        case.reject_handover(reason="person lives elsewhere")

    a_case_offered_to(JOBCENTER, case=case)
    accept(case)

    assert case.holder == JOBCENTER
