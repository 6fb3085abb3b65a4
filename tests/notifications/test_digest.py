"""The daily digest of due follow-ups (ADR 0018): opt-in per user, at most one a day per user
however many outboxes run, sent from the digest hour (Europe/Berlin) to the work address the
identity provider vouches for; counts and a link only, nothing of a person or a case."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import pytest

from adapters.auth import mint
from tests.notifications.conftest import BASE_URL, Mailed
from tests.notifications.test_handover_mail import at
from tests.support.api import AGENTUR, SECRET, person, registration
from tests.support.served import secret
from tests.support.smtp import Received
from workers.mail_digest import Digests

DAY = date(2026, 3, 10)  # a Tuesday; the digest hour is 7 (the default)


def staff(sub: str, email: str | None, role: str = "caseworker") -> dict[str, str]:
    token = mint(SECRET, sub=sub, org=AGENTUR, roles=[role], name=sub.title(), email=email)
    return {"Authorization": f"Bearer {token}"}


def digests(mailed: Mailed, to: str) -> list[Received]:
    return [m for m in mailed.smtp.received if m.kind == "follow_up_digest" and to in m.recipients]


def choose(mailed: Mailed, headers: dict[str, str], on: bool) -> dict[str, object]:
    r = mailed.api.client.put(
        "/me/notification-settings", json={"follow_up_digest": on}, headers=headers
    )
    assert r.status_code == 200, r.text
    body: dict[str, object] = r.json()
    return body


def case_with_follow_ups(mailed: Mailed, headers: dict[str, str], me: str) -> dict[str, str]:
    """A case of ``me`` with a follow-up for ``me`` overdue on ``DAY`` (its text names the
    person), one for the team due on ``DAY`` and one for ``me`` due later; returns the person."""
    names = {"given_name": secret("Rahel"), "family_name": secret("Tesfay")}
    body = registration(person=person(**names))
    r = mailed.api.client.post("/cases", json=body, headers=headers)
    assert r.status_code == 201, r.text
    case_id = r.json()["case_id"]
    for due_on, assignee, text in (
        (DAY - timedelta(days=2), me, f"Termin mit {names['family_name']} vorbereiten"),
        (DAY, None, "Unterlagen anfordern"),
        (DAY + timedelta(days=3), me, "Nachfragen"),
    ):
        r = mailed.api.client.post(
            f"/cases/{case_id}/follow-ups",
            json={"due_on": due_on.isoformat(), "text": text, "assignee": assignee},
            headers=headers,
        )
        assert r.status_code == 201, r.text
    mailed.api.settle()
    return {**names, "bamf_file_number": body["bamf_file_number"], "case_id": str(case_id)}


def test_an_opted_in_user_gets_one_digest_a_day_with_counts_and_a_link_only(
    mailed: Mailed,
) -> None:
    lea, address = staff("l.neumann", "lea.neumann@agentur.example"), "lea.neumann@agentur.example"
    mailed.clock.set(at(DAY, 6))
    shown = case_with_follow_ups(mailed, lea, "l.neumann")
    assert choose(mailed, lea, True) == {
        "follow_up_digest": True, "email": address, "digest_hour": 7,
    }  # fmt: skip

    mailed.clock.set(at(DAY, 6, 59))  # before the digest hour
    mailed.rounds(3)
    assert digests(mailed, address) == []

    mailed.clock.set(at(DAY, 7))
    assert mailed.smtp.wait_for(1)
    [mail] = digests(mailed, address)
    assert mail.recipients == [address]
    assert mail.message["To"] == address
    assert f"{BASE_URL}/ui/follow-ups" in mail.text
    assert "für Sie: 1 überfällig, 0 heute fällig" in mail.text
    assert "für Ihr Team: 0 überfällig, 1 heute fällig" in mail.text
    raw = b"".join(mailed.smtp.raw).decode("utf-8", "replace")
    for value in shown.values():  # names (also in a follow-up's text), BAMF number, case
        assert value not in mail.text
        assert value not in raw

    mailed.clock.set(at(DAY, 18))  # later the same day: no second digest
    mailed.rounds(3)
    assert len(digests(mailed, address)) == 1

    # the next day two outboxes (a lead lost mid-round) both found the user not yet looked at
    # and both write the digest: the (user, day) key lets one (before the hour, so the leader's
    # own round leaves it to them)
    services = mailed.api.services
    store, base = services.supervisor.store, services.mail.base_url
    racing = [
        Digests(store, mailed.clock, services.directory, hour=7, base_url=base) for _ in range(2)
    ]
    mailed.clock.set(at(DAY + timedelta(days=1), 6, 30))
    entry = services.directory.fresh("l.neumann")
    assert [d.digest_for("l.neumann", DAY + timedelta(days=1), entry) for d in racing] == [1, 0]
    mailed.smtp.wait_for(2)
    mailed.clock.set(at(DAY + timedelta(days=1), 7, 30))
    mailed.rounds(3)
    assert len(digests(mailed, address)) == 2
    rows = [r for r in mailed.api.services.mail.rows() if r["kind"] == "follow_up_digest"]
    assert [r["state"] for r in rows] == ["sent", "sent"]


def test_users_who_did_not_choose_the_digest_get_none(mailed: Mailed) -> None:
    people = {
        "o.out": "olga.out@agentur.example",  # chose it, then turned it off
        "n.never": "nils.never@agentur.example",  # never chose it
        "c.chose": "carla.chose@agentur.example",  # chose it: proves the digest ran
    }
    mailed.clock.set(at(DAY, 6))
    for sub, address in people.items():
        case_with_follow_ups(mailed, staff(sub, address), sub)
    choose(mailed, staff("o.out", people["o.out"]), True)
    assert choose(mailed, staff("o.out", people["o.out"]), False)["follow_up_digest"] is False
    choose(mailed, staff("c.chose", people["c.chose"]), True)

    mailed.clock.set(at(DAY, 8))
    mailed.smtp.wait_for(1)
    mailed.rounds(3)
    assert [m.recipients for m in mailed.smtp.received] == [[people["c.chose"]]]


def test_the_settings_name_the_address_and_refuse_bad_input(mailed: Mailed) -> None:
    client = mailed.api.client
    without = staff("k.ohne", None)
    r = client.get("/me/notification-settings", headers=without)
    assert r.status_code == 200, r.text
    assert r.json() == {"follow_up_digest": False, "email": None, "digest_hour": 7}

    r = client.put("/me/notification-settings", json={"follow_up_digest": "ja"}, headers=without)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "follow_up_digest" in r.text
    r = client.put("/me/notification-settings", json={"digest": True}, headers=without)
    assert r.status_code == 422, r.text
    assert (
        client.get("/me/notification-settings", headers=without).json()["follow_up_digest"] is False
    )

    auditor = staff("a.pruef", "a.pruef@agentur.example", role="auditor")
    r = client.put("/me/notification-settings", json={"follow_up_digest": True}, headers=auditor)
    assert r.status_code == 403, r.text


def test_opted_in_users_are_looked_up_together_each_round(
    mailed: Mailed, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Users who chose the digest but whose provider sent no address yet are looked at again
    every round: all of them in one query, not one each (a Kreis may have hundreds)."""
    for n in range(5):
        choose(mailed, staff(f"ohne.{n}", None), True)
    directory = mailed.api.services.directory
    looked: list[object] = []
    together = directory.fresh_many

    def many(actors: Sequence[str]) -> Any:
        looked.append(tuple(actors))
        return together(actors)

    monkeypatch.setattr(directory, "fresh", looked.append)  # one user at a time
    monkeypatch.setattr(directory, "fresh_many", many)
    mailed.clock.set(at(DAY, 7))
    mailed.rounds(3)
    assert looked, "the digest looked at nobody"
    assert all(isinstance(look, tuple) for look in looked), looked
    last = looked[-1]
    assert isinstance(last, tuple)
    assert {f"ohne.{n}" for n in range(5)} <= set(last)
    assert digests(mailed, "ohne") == []
