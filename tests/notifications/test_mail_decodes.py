"""The mail outbox follows the whole log but decodes only offers and the events that close them,
and nothing at all without an SMTP host (issue 16: the runner decoded every note once per
follower); the mails it writes are unchanged."""

from __future__ import annotations

from typing import Any

import pytest

from domain.aggregates import case_events as ev
from tests.notifications.conftest import Mailed
from tests.support.api import Api, note


def decoded_while_stepping(api: Api, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The topics the mail outbox decodes while it catches up (the runner stopped, so nothing
    else decodes meanwhile)."""
    decoded: list[str] = []
    mapper = api.services.cases.mapper
    decode = mapper.to_domain_event

    def counted(stored: Any) -> Any:
        decoded.append(stored.topic)
        return decode(stored)

    monkeypatch.setattr(mapper, "to_domain_event", counted)
    for _ in range(20):
        if not api.services.mail.step():
            break
    monkeypatch.undo()
    return decoded


def test_the_mail_outbox_decodes_only_offers_and_their_answers(
    mailed: Mailed, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = mailed.api
    case_id = api.offered_case()
    mailed.wait_for(case_id, 1)
    api.services.supervisor.stop()  # the test steps the mail outbox itself
    for text in ("Erstgespräch", "Sprachkurs", "Bewerbung"):
        api.record(case_id, note(text))
    r = api.client.post(
        f"/cases/{case_id}/handover/reject", json={"reason": "nicht zuständig"},
        headers=api.jobcenter,
    )  # fmt: skip
    assert r.status_code == 201, r.text

    assert decoded_while_stepping(api, monkeypatch) == [ev.HandoverRejected.TOPIC]
    assert [m.kind for m in mailed.received(case_id)] == ["handover_offered"]


def test_without_an_smtp_host_the_mail_outbox_decodes_nothing(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    case_id = api.offered_case()
    api.services.supervisor.stop()
    api.record(case_id, note())
    assert decoded_while_stepping(api, monkeypatch) == []
    assert api.services.mail.position == api.head()
