"""The outbox follows the whole log but decodes only the events of cases with an offer open to a
peer (issue 16: the runner decoded every note three times, once per follower); what it ships is
unchanged."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest

from tests.handover.test_cross_deployment_answers import SENDER, note, offered_at_b
from tests.support.federation import Federation, register, stored_events


def test_the_outbox_decodes_only_the_events_of_cases_offered_to_a_peer(
    federation: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = federation.a
    offered = offered_at_b(federation)  # its offer is open at the peer
    local = register(a.app, SENDER, "Tholey").id  # no offer: nothing of it goes anywhere
    for case_id, text in [(local, "a"), (local, "b"), (local, "c"), (offered, "d"), (offered, "e"),
                          (local, "f"), (local, "g"), (local, "h")]:  # fmt: skip
        note(federation, case_id, text)
    decoded: list[UUID] = []
    decode = a.app.mapper.to_domain_event

    def counted(stored: Any) -> Any:
        decoded.append(stored.originator_id)
        return decode(stored)

    monkeypatch.setattr(a.app.mapper, "to_domain_event", counted)
    while a.outbox.step():
        pass
    monkeypatch.undo()

    # the offered case's notes (and its stream, for the bundles); none of the other's 7 events
    assert offered in decoded
    assert local not in decoded
    assert stored_events(federation.b.app, offered) == stored_events(a.app, offered)
    assert stored_events(federation.b.app, local) == []
