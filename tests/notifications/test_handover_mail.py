"""E-mail to the team an offer is made to: when offered, one working day before the deadline,
when overdue; through a real SMTP server; nothing of the person in it (ADR 0018)."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

from adapters.clock import BERLIN
from domain.notifications import previous_working_day
from tests.notifications.conftest import BASE_URL, TEAM, Mailed
from tests.support.api import RECOGNIZED, person, registration
from tests.support.served import secret


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=BERLIN)


def offer(mailed: Mailed) -> tuple[str, dict[str, str], date]:
    """A case offered to the Jobcenter; returns its id, the person's details and the deadline."""
    details = {"given_name": secret("Rahel"), "family_name": secret("Tesfay"),
               "nationality": "ER", "bamf_file_number": ""}  # fmt: skip
    body = registration(
        person=person(given_name=details["given_name"], family_name=details["family_name"])
    )
    details["bamf_file_number"] = body["bamf_file_number"]
    r = mailed.api.client.post("/cases", json=body, headers=mailed.api.agentur)
    assert r.status_code == 201, r.text
    case_id = str(r.json()["case_id"])
    mailed.api.record(case_id, RECOGNIZED)
    item = mailed.api.wait_for_offer(case_id)
    return case_id, details, date.fromisoformat(item["due_on"])


def test_the_offer_mail_reaches_the_team_with_a_link_and_nothing_personal(mailed: Mailed) -> None:
    case_id, details, due_on = offer(mailed)
    [mail] = mailed.wait_for(case_id, 1)

    assert mail.recipients == [TEAM]
    assert mail.message["To"] == TEAM
    assert mail.sender == "staffel@kreis-heinsberg.example"
    assert mail.kind == "handover_offered"
    assert f"{BASE_URL}/ui/handovers?direction=incoming" in mail.text
    assert case_id in mail.text
    assert due_on.strftime("%d.%m.%Y") in mail.text
    raw = b"".join(mailed.smtp.raw).decode("ascii", "replace")
    for value in (details["given_name"], details["family_name"], details["bamf_file_number"]):
        assert value not in mail.text
        assert value not in raw
    assert not re.search(r"\bER\b|Eritrea", mail.text)
    [row] = mailed.rows(case_id)
    assert (row["state"], row["attempts"]) == ("sent", 1)


def test_the_reminder_comes_one_working_day_before_and_the_overdue_mail_after(
    mailed: Mailed,
) -> None:
    case_id, _, due_on = offer(mailed)
    mailed.wait_for(case_id, 1)
    remind_on = previous_working_day(due_on)

    mailed.clock.set(at(remind_on - timedelta(days=1), 23, 50))
    mailed.rounds()
    assert len(mailed.received(case_id)) == 1  # not yet

    mailed.clock.set(at(remind_on, 0, 5))
    [_, reminder] = mailed.wait_for(case_id, 2)
    assert reminder.kind == "handover_reminder"
    assert reminder.recipients == [TEAM]
    assert case_id in reminder.text

    mailed.clock.set(at(due_on, 23, 50))  # the deadline's own day: not overdue yet
    mailed.rounds()
    assert len(mailed.received(case_id)) == 2

    mailed.clock.set(at(due_on + timedelta(days=1), 0, 5))
    [*_, overdue] = mailed.wait_for(case_id, 3)
    assert overdue.kind == "handover_overdue"
    assert "überfällig" in overdue.text

    mailed.clock.set(at(due_on + timedelta(days=5), 9))
    mailed.rounds(3)
    assert [m.kind for m in mailed.received(case_id)] == [
        "handover_offered", "handover_reminder", "handover_overdue",
    ]  # fmt: skip
    assert {r["state"] for r in mailed.rows(case_id)} == {"sent"}


def test_a_mail_refused_with_4xx_is_sent_again_later_and_arrives_once(mailed: Mailed) -> None:
    mailed.smtp.refuse_next = 1
    case_id, _, _ = offer(mailed)
    mailed.rounds(3)
    assert mailed.received(case_id) == []
    [row] = mailed.rows(case_id)
    assert (row["state"], row["attempts"]) == ("pending", 1)
    assert "451" in row["last_error"]

    mailed.clock.advance(seconds=29)  # the first retry waits mail_retry_seconds (30)
    mailed.rounds(3)
    assert mailed.received(case_id) == []

    mailed.clock.advance(seconds=2)
    mailed.wait_for(case_id, 1)
    mailed.rounds(3)
    assert len(mailed.received(case_id)) == 1
    [row] = mailed.rows(case_id)
    assert (row["state"], row["attempts"]) == ("sent", 2)


def test_while_the_server_fails_one_attempt_waits_for_the_backoff(mailed: Mailed) -> None:
    """Sending runs in the workers' round: a failing (or hanging) server is tried once per
    backoff period, not once per waiting mail, so the read models are not held up."""
    mailed.smtp.refuse_next = 10**6
    first, second = mailed.api.offered_case(), mailed.api.offered_case()
    mailed.rounds(3)
    assert mailed.smtp.refused == 1
    assert [r["attempts"] for r in mailed.rows(first) + mailed.rows(second)].count(0) == 1

    mailed.smtp.refuse_next = 0
    mailed.clock.advance(seconds=31)
    mailed.wait_for(first, 1)
    mailed.wait_for(second, 1)
