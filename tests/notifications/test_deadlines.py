"""Deadline mails only for offers still open, and one row per cause however many outboxes race."""

from __future__ import annotations

import threading
from datetime import date, timedelta

from domain.notifications import previous_working_day
from tests.notifications.conftest import Mailed
from tests.notifications.test_handover_mail import at
from tests.support.api import Api
from tests.support.processes import wait_until
from workers.mail_outbox import MailOutbox


def due_on(mailed: Mailed, case_id: str) -> date:
    [row] = [r for r in mailed.rows(case_id) if r["kind"] == "handover_offered"]
    with mailed.api.services.supervisor.store.cursor() as curs:
        curs.execute(
            mailed.api.services.supervisor.store.sql(
                "SELECT due_on FROM mail_deadlines WHERE event_key = %s"
            ),
            (row["event_key"],),
        )
        return date.fromisoformat(curs.fetchone()["due_on"])


def test_an_answered_offer_gets_no_reminder_and_no_overdue_mail(mailed: Mailed) -> None:
    case_id = mailed.api.offered_case()
    mailed.wait_for(case_id, 1)
    r = mailed.api.client.post(
        f"/cases/{case_id}/handover/reject", json={"reason": "nicht zuständig"},
        headers=mailed.api.jobcenter,
    )  # fmt: skip
    assert r.status_code == 201, r.text
    mailed.api.settle()
    due = due_on(mailed, case_id)
    mailed.clock.set(at(previous_working_day(due), 9))
    mailed.rounds(3)
    mailed.clock.set(at(due + timedelta(days=2), 9))
    mailed.rounds(3)
    assert [m.kind for m in mailed.received(case_id)] == ["handover_offered"]


def test_racing_outboxes_write_one_reminder(mailed: Mailed) -> None:
    """The leader's outbox and two more on the same store (a lead lost mid-round, a
    ``staffel project`` beside) all find the reminder due at once: one row, one mail."""
    case_id = mailed.api.offered_case()
    mailed.wait_for(case_id, 1)
    services = mailed.api.services
    leader = services.mail
    others = [
        MailOutbox(services.cases, services.supervisor.store, services.orgs, mailed.clock,
                   leader.mailer, sender=leader.sender, base_url=leader.base_url)
        for _ in range(2)
    ]  # fmt: skip
    start = threading.Barrier(len(others))
    errors: list[BaseException] = []

    def race(outbox: MailOutbox) -> None:
        start.wait()
        try:
            outbox.step()
        except BaseException as e:
            errors.append(e)

    mailed.clock.set(at(previous_working_day(due_on(mailed, case_id)), 8))
    threads = [threading.Thread(target=race, args=(o,)) for o in others]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    mailed.wait_for(case_id, 2)
    mailed.rounds(3)
    assert not errors, errors
    kinds = [r["kind"] for r in mailed.rows(case_id)]
    assert sorted(kinds) == ["handover_offered", "handover_reminder"]
    assert [m.kind for m in mailed.received(case_id)] == ["handover_offered", "handover_reminder"]


def test_without_an_smtp_host_no_mail_is_written(api: Api) -> None:
    case_id = api.offered_case()
    api.settle()
    head = api.head()
    assert wait_until(lambda: api.services.mail.position >= head, 20)
    assert [r for r in api.services.mail.rows() if r["case_id"] == case_id] == []
