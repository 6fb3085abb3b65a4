"""A peer may only add to a case it holds: the authority check on imported bundles."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.federation.bundle import BundleError, VerifiedEvent
from adapters.federation.transfer import check_authority

SENDER, US, THIRD = "agentur-saarland", "jobcenter-st-wendel", "jobcenter-heinsberg"


def _event(version: int, kind: str, org: str, **state: Any) -> VerifiedEvent:
    return VerifiedEvent(
        version, f"staffel:Case.{kind}", 1, {"org": org, **state}, f"{version:064x}"
    )


def _offered_and_switched() -> list[VerifiedEvent]:
    return [
        _event(1, "CaseRegistered", SENDER, holder=SENDER),
        _event(2, "NoteRecorded", SENDER),
        _event(3, "HandoverOffered", SENDER, to_org=US),
        _event(4, "HandoverAccepted", US),
        _event(5, "JurisdictionChanged", US, to_org=US),
    ]


def _local(org: str) -> bool:
    return org == US


def test_the_senders_stream_and_our_answer_confirmed_by_the_sender_are_accepted() -> None:
    check_authority(_offered_and_switched()[:3], 0, SENDER, US, _local)
    check_authority(_offered_and_switched(), 3, SENDER, US, _local)


@pytest.mark.parametrize(
    ("events", "held", "version"),
    [
        # a note the sender claims one of our staff recorded
        ([*_offered_and_switched()[:3], _event(4, "NoteRecorded", US)], 3, 4),
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
        check_authority(events, held, SENDER, US, _local)
    assert refused.value.version == version


def test_a_bundle_for_another_deployment_is_refused() -> None:
    with pytest.raises(BundleError, match="addressed to"):
        check_authority(_offered_and_switched()[:3], 0, SENDER, THIRD, _local)
