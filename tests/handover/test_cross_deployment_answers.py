"""Answers across deployments, in-process (each outbox posts into the other's app): the sender's
log decides. A stale acknowledgement is refused until the receiver has read what the sender
recorded since; a rejection and a withdrawal reach both; a bundle without events is refused."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from adapters.federation.bundle import BundleError
from adapters.federation.signing import sign
from adapters.federation.transfer import import_bundle
from domain.actor import Actor, acting_as
from domain.aggregates import case_events as ev
from domain.chain import GENESIS
from domain.values import NoteCategory, Protection
from service_layer.federation import peer_key
from tests.support.federation import (
    PROBLEM,
    SAARLAND,
    ST_WENDEL,
    Federation,
    count_of,
    open_federation,
    register,
    stored_events,
)

SENDER = Actor("cw-saarland", SAARLAND)


@pytest.fixture
def federation(tmp_path: Path) -> Iterator[Federation]:
    federation = open_federation(tmp_path)
    yield federation
    federation.close()


def note(federation: Federation, case_id: UUID, text: str) -> None:
    with acting_as(SENDER):
        federation.a.app.record(
            case_id, "NoteRecorded", {"text": text, "category": NoteCategory.GENERAL}
        )


def offered_at_b(federation: Federation) -> UUID:
    """A case recognised at A, offered by A's policy, its bundle delivered into B."""
    a = federation.a
    case_id = register(a.app, SENDER, "Tholey").id
    with acting_as(SENDER):
        a.app.record(
            case_id,
            "AsylumRecognized",
            {"protection": Protection.REFUGEE, "decided_on": date(2026, 4, 20)},
        )
    a.run_policy()
    a.outbox.step()
    assert stored_events(federation.b.app, case_id) == stored_events(a.app, case_id)
    return case_id


def read_at_b(federation: Federation, case_id: UUID) -> dict[str, Any]:
    b = federation.b
    b.catch_up()
    response = b.client.get(f"/cases/{case_id}/history", headers=b.auth("t.weber", ST_WENDEL))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def answer(federation: Federation, case_id: UUID, what: str, body: dict[str, Any]) -> Any:
    b = federation.b
    return b.client.post(
        f"/cases/{case_id}/handover/{what}", json=body, headers=b.auth("t.weber", ST_WENDEL)
    )


def test_a_stale_acceptance_is_refused_until_the_receiver_has_read_the_newer_stream(
    federation: Federation,
) -> None:
    a, b = federation.a, federation.b
    case_id = offered_at_b(federation)
    read = read_at_b(federation, case_id)
    note(federation, case_id, "nach dem Angebot")  # the sender still holds the case

    stale = answer(federation, case_id, "accept", {k: read[k] for k in ("version", "digest")})

    assert stale.status_code == 409, stale.text
    assert stale.headers["content-type"].startswith(PROBLEM)
    assert count_of(a.app, case_id, ev.HandoverAccepted) == 0
    assert a.app.get_case(case_id).holder == SAARLAND

    a.outbox.step()  # the newer stream: every event of an open offer goes to the peer
    reread = read_at_b(federation, case_id)
    assert reread["version"] == read["version"] + 1
    fresh = answer(federation, case_id, "accept", {k: reread[k] for k in ("version", "digest")})

    assert fresh.status_code == 201, fresh.text
    for deployment in (a, b):
        assert deployment.app.get_case(case_id).holder == ST_WENDEL
        assert count_of(deployment.app, case_id, ev.HandoverAccepted) == 1
    assert stored_events(b.app, case_id) == stored_events(a.app, case_id)


def test_a_rejection_is_recorded_by_the_sender_and_reaches_the_receiver(
    federation: Federation,
) -> None:
    a, b = federation.a, federation.b
    case_id = offered_at_b(federation)

    rejected = answer(federation, case_id, "reject", {"reason": "nicht unser Kreis"})

    assert rejected.status_code == 201, rejected.text
    a.outbox.step()
    for deployment in (a, b):
        assert count_of(deployment.app, case_id, ev.HandoverRejected) == 1
        case = deployment.app.get_case(case_id)
        assert (case.holder, case.handover) == (SAARLAND, None)
    assert stored_events(b.app, case_id) == stored_events(a.app, case_id)
    late = answer(federation, case_id, "accept", {"version": 99, "digest": GENESIS})
    assert late.status_code == 409, late.text


def test_a_withdrawal_reaches_the_receiver_which_can_no_longer_accept(
    federation: Federation,
) -> None:
    a, b = federation.a, federation.b
    case_id = offered_at_b(federation)
    read = read_at_b(federation, case_id)
    with acting_as(SENDER):
        a.app.withdraw_handover(case_id, reason="falscher Kreis")
    a.outbox.step()
    assert stored_events(b.app, case_id) == stored_events(a.app, case_id)

    accepted = answer(federation, case_id, "accept", {k: read[k] for k in ("version", "digest")})

    assert accepted.status_code == 409, accepted.text
    assert count_of(a.app, case_id, ev.HandoverAccepted) == 0
    assert a.app.get_case(case_id).holder == SAARLAND


def test_a_signed_bundle_without_events_is_refused(federation: Federation) -> None:
    a, b = federation.a, federation.b
    case_id = offered_at_b(federation)
    empty = sign(
        {"protocol": "staffel-bundle/1", "case_id": str(UUID(int=7)), "sender": SAARLAND,
         "receiver": ST_WENDEL, "version": 0, "digest": GENESIS, "created_at": "2026-11-24",
         "events": []},
        a.services.signing_key,
    )  # fmt: skip
    head = b.head()

    with pytest.raises(BundleError):
        import_bundle(b.app, b.store, empty, peer_key(b.services, SAARLAND))
    response = b.client.post("/handovers/inbox", json=empty)

    assert response.status_code == 422, response.text
    assert b.head() == head
    assert stored_events(b.app, case_id) == stored_events(a.app, case_id)
