"""A peer may only add to a case it holds, and never speaks for us: the authority check on
imported bundles (ADR 0006, "Who may author which event in a bundle")."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.federation.authority import SentReceipt, check_authority
from adapters.federation.bundle import BundleError, VerifiedEvent, build_bundle
from domain.actor import Actor, acting_as
from tests.support.federation import PROBLEM, Federation, register

SENDER, US, THIRD = "agentur-saarland", "jobcenter-st-wendel", "jobcenter-heinsberg"


def _event(at: int, kind: str, org: str, **state: Any) -> VerifiedEvent:
    return VerifiedEvent(at, f"staffel:Case.{kind}", 1, {"org": org, **state}, f"{at:064x}")


def _offered_and_switched() -> list[VerifiedEvent]:
    return [
        _event(1, "CaseRegistered", SENDER, holder=SENDER),
        _event(2, "NoteRecorded", SENDER),
        _event(3, "HandoverOffered", SENDER, to_org=US),
        _event(4, "HandoverAccepted", US, actor="t.weber", version=3, digest=f"{3:064x}"),
        _event(5, "JurisdictionChanged", US, to_org=US),
    ]


# the receipt we signed for the offer above: accepted at version 3 by t.weber
OUR_RECEIPT = SentReceipt(3, f"{3:064x}", "accepted", "t.weber", US)


def _local(org: str) -> bool:
    return org == US


def test_the_senders_stream_and_our_answer_confirmed_by_the_sender_are_accepted() -> None:
    check_authority(_offered_and_switched()[:3], 0, SENDER, US, _local)
    check_authority(_offered_and_switched(), 3, SENDER, US, _local, [OUR_RECEIPT])


def test_a_case_coming_back_holds_our_own_earlier_events_which_we_hold_already() -> None:
    back = [
        *_offered_and_switched(),
        _event(6, "NoteRecorded", US),
        _event(7, "HandoverOffered", US, to_org=SENDER),
        _event(8, "HandoverAccepted", SENDER, version=7, digest=f"{7:064x}"),
        _event(9, "JurisdictionChanged", SENDER, to_org=SENDER),
        _event(10, "NoteRecorded", SENDER),
        _event(11, "HandoverOffered", SENDER, to_org=US),
    ]
    check_authority(back, 9, SENDER, US, _local)


@pytest.mark.parametrize(
    ("events", "held", "version"),
    [
        # an acceptance in our name we never signed a receipt for, in a case new to us
        (_offered_and_switched(), 0, 4),
        # ... or after the offer we hold
        (_offered_and_switched(), 3, 4),
        # a note the sender claims one of our staff recorded
        ([*_offered_and_switched()[:3], _event(4, "NoteRecorded", US)], 3, 4),
        # a rejection in our name we never sent
        ([*_offered_and_switched()[:3], _event(4, "HandoverRejected", US, actor="t.weber")], 3, 4),
        # the jurisdiction changed to us without our acceptance before it
        ([*_offered_and_switched()[:3], _event(4, "JurisdictionChanged", US, to_org=US)], 3, 4),
        # a case registered in our name that we do not hold
        ([_event(1, "CaseRegistered", US, holder=US)], 0, 1),
    ],
)
def test_events_in_our_name_are_refused_whatever_the_signature(
    events: list[VerifiedEvent], held: int, version: int
) -> None:
    with pytest.raises(BundleError, match="one of our organisations") as refused:
        check_authority(events, held, SENDER, US, _local)
    assert refused.value.version == version


@pytest.mark.parametrize(
    "receipt",
    [
        SentReceipt(3, f"{3:064x}", "rejected", "t.weber", US),  # we rejected
        SentReceipt(3, f"{3:064x}", "accepted", "m.muster", US),  # someone else accepted
        SentReceipt(2, f"{2:064x}", "accepted", "t.weber", US),  # another version
        SentReceipt(3, f"{9:064x}", "accepted", "t.weber", US),  # another digest
    ],
)
def test_an_acceptance_in_our_name_must_match_the_receipt_we_signed(receipt: SentReceipt) -> None:
    with pytest.raises(BundleError, match="one of our organisations") as refused:
        check_authority(_offered_and_switched(), 3, SENDER, US, _local, [receipt])
    assert refused.value.version == 4


def _rejected_twice() -> list[VerifiedEvent]:
    """We rejected the offer at version 3; the sender offered again at 5."""
    return [
        *_offered_and_switched()[:3],
        _event(4, "HandoverRejected", US, actor="t.weber"),
        _event(5, "HandoverOffered", SENDER, to_org=US),
        _event(6, "HandoverRejected", US, actor="t.weber"),
    ]


def test_a_rejection_receipt_stands_for_the_one_offer_it_answers() -> None:
    rejected = SentReceipt(3, f"{3:064x}", "rejected", "t.weber", US)
    check_authority(_rejected_twice()[:4], 3, SENDER, US, _local, [rejected])
    # the same receipt does not make a second rejection, of a later offer, ours
    with pytest.raises(BundleError, match="one of our organisations") as refused:
        check_authority(_rejected_twice(), 3, SENDER, US, _local, [rejected])
    assert refused.value.version == 6
    # a receipt signed before the offer was made answers none
    early = SentReceipt(2, f"{2:064x}", "rejected", "t.weber", US)
    with pytest.raises(BundleError, match="one of our organisations") as refused:
        check_authority(_rejected_twice()[:4], 2, SENDER, US, _local, [early])
    assert refused.value.version == 4
    # with our second receipt, for the second offer, both are ours
    again = SentReceipt(5, f"{5:064x}", "rejected", "t.weber", US)
    check_authority(_rejected_twice(), 3, SENDER, US, _local, [rejected, again])


@pytest.mark.parametrize(
    ("events", "held", "version"),
    [
        # a note in our name after our real acceptance
        ([*_offered_and_switched(), _event(6, "NoteRecorded", US)], 3, 6),
        # the sender writes on after it handed the case to us
        ([*_offered_and_switched(), _event(6, "NoteRecorded", SENDER)], 5, 6),
        # the sender hands the case back to itself after the switch
        ([*_offered_and_switched(), _event(6, "JurisdictionChanged", SENDER, to_org=SENDER)], 5, 6),
        # a third organisation's answer to an offer it was never made
        ([*_offered_and_switched()[:3], _event(4, "HandoverAccepted", THIRD)], 3, 4),
        # a case registered by someone else than the sender
        ([_event(1, "CaseRegistered", THIRD, holder=THIRD)], 0, 1),
    ],
)
def test_events_the_sender_may_not_write_are_refused_naming_the_first(
    events: list[VerifiedEvent], held: int, version: int
) -> None:
    with pytest.raises(BundleError) as refused:
        check_authority(events, held, SENDER, US, _local, [OUR_RECEIPT])
    assert refused.value.version == version


def test_a_bundle_for_another_deployment_is_refused() -> None:
    with pytest.raises(BundleError, match="addressed to"):
        check_authority(_offered_and_switched()[:3], 0, SENDER, THIRD, _local)


# -- through the inbox: a peer's signed bundle with an acceptance in our name -------------------


def test_a_signed_bundle_with_an_acceptance_we_never_gave_is_refused(
    federation: Federation,
) -> None:
    a, b = federation.a, federation.b
    by_a = Actor("cw-saarland", SENDER)
    case_id = register(a.app, by_a, "Tholey").id
    with acting_as(by_a):
        a.app.offer_handover(case_id, to_org=US, reason="Rechtskreiswechsel")
    a.outbox.step()
    offered = a.app.get_case(case_id)
    with acting_as(Actor("t.weber", US)):  # A forges St. Wendel's acceptance in its own log
        a.app.accept_handover(case_id, version=offered.version, digest=offered.digest)
    forged = build_bundle(a.app, case_id, SENDER, a.services.signing_key, US)
    head = b.head()

    refused = b.client.post("/handovers/inbox", json=forged)

    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith(PROBLEM)
    assert refused.json()["first_bad_version"] == offered.version + 1
    assert "one of our organisations" in refused.json()["detail"]
    assert b.head() == head
    assert b.app.get_case(case_id).holder == SENDER
