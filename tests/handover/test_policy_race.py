"""The policy's offer collides with a write of the holder (both save the case's next version at
once): the policy decides again on the case as it now stands and offers; the case is never left
without its offer."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from adapters.settings import Settings
from bootstrap import build_case_application
from domain.actor import Actor, acting_as
from domain.aggregates import case_events as ev
from domain.aggregates.case import Case
from domain.application import StaffelApplication
from domain.values import NoteCategory, Protection
from tests.support.federation import (
    AGENTUR,
    JOBCENTER,
    Deployment,
    count_of,
    register,
    stored_events,
)

HOLDER = Actor("cw-agentur", AGENTUR)


@pytest.fixture
def colleague(backend: str) -> Iterator[StaffelApplication]:
    """Another API process on the same database, where the holder's caseworker writes."""
    app = build_case_application(Settings(database_url=backend))
    yield app
    app.close()


def test_an_offer_colliding_with_a_write_of_the_holder_is_made_after_all(
    deployment: Deployment, colleague: StaffelApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = deployment.app
    case_id = register(app, HOLDER, "Wegberg").id
    with acting_as(HOLDER):
        app.record(
            case_id,
            "AsylumRecognized",
            {"protection": Protection.REFUGEE, "decided_on": date(2026, 4, 20)},
        )
    offer_handover = Case.offer_handover
    collisions: list[int] = []

    def holder_writes_meanwhile(case: Case, **fields: Any) -> None:
        if not collisions:  # the first time: the caseworker saves a note just before the policy
            with acting_as(HOLDER):
                recorded = colleague.record(
                    case.id, "NoteRecorded", {"text": "Anruf", "category": NoteCategory.GENERAL}
                )
            collisions.append(recorded.version)
        offer_handover(case, **fields)

    monkeypatch.setattr(Case, "offer_handover", holder_writes_meanwhile)
    deployment.run_policy()

    assert collisions == [3]
    assert count_of(app, case_id, ev.HandoverOffered) == 1
    offered = stored_events(app, case_id)[-1]
    assert offered.topic == ev.HandoverOffered.TOPIC
    assert (offered.version, offered.state["to_org"], offered.state["offered_version"]) == (
        4,
        JOBCENTER,
        3,
    )
    assert app.get_case(case_id).handover is not None
