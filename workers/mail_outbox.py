"""The e-mail outbox: notifications to a team's address, written exactly once, sent at least once.

Following the log with tracking, an offer to an organisation with a ``team_email`` writes its mail
row and the offer's deadline row in the same transaction as the tracking record (a compare-and-
set: an overlapping batch writes nothing); an answer closes the deadline. Each round the open
deadlines are compared with the clock: one working day before the deadline a reminder, the day
after it the overdue mail, each row written with the deadline's flag in one transaction; from
the digest hour on, each day's digest of due follow-ups to the users who chose it
(``mail_digest``). Every row's key is (event, kind, recipient), inserted ``ON CONFLICT DO
NOTHING``: never two rows for one cause, however many processes try. Only the leader runs this
(``workers/leader.py``).

Sending (``workers/mail_sending.py``) claims each due row, sends it through SMTP outside any
transaction, then records it sent; a failure is retried with exponential backoff (4xx,
connection errors) or marked failed (5xx). A process killed between the send and the record
sends that mail again after the restart: at least once. ADR 0018."""

from __future__ import annotations

from datetime import date
from typing import Any, cast
from uuid import UUID

import structlog

from adapters.clock import BERLIN, Clock
from adapters.orgs import Organisations
from adapters.views.store import ViewStoreMixin
from domain.aggregates import case_events as ev
from domain.application import StaffelApplication
from domain.errors import CaseNotFoundError
from domain.notifications import MailKind, handover_mail, is_overdue, reminder_day
from workers.mail_digest import Digests
from workers.mail_sending import Mailer, MailSender, stamp
from workers.tracked import Tracked, decodes_to

log = structlog.get_logger("staffel.mail")
TRACKING_KEY = "mail_outbox"
# events after which a case has no open offer (``case.handover = None``)
CLOSING = (
    ev.HandoverAccepted, ev.HandoverRejected, ev.HandoverWithdrawn, ev.PersonalDataErased,
    ev.CaseRegistered,
)  # fmt: skip


class MailOutbox:
    def __init__(
        self,
        app: StaffelApplication,
        store: ViewStoreMixin,
        orgs: Organisations,
        clock: Clock,
        mailer: Mailer | None,
        *,
        sender: str,
        base_url: str,
        retry_seconds: float = 30.0,
        claim_seconds: float = 30.0,
        digests: Digests | None = None,
    ) -> None:
        """``mailer`` None: mail is not configured; the log is followed and nothing written.
        ``digests``: the daily digests of due follow-ups (``workers/mail_digest.py``)."""
        self.app, self.store, self.orgs, self.clock = app, store, orgs, clock
        self.mailer, self.sender, self.base_url = mailer, sender, base_url
        self.digests = digests
        self.tracked = Tracked(store, TRACKING_KEY)
        self.sending = MailSender(
            store, clock, mailer, sender=sender, retry_seconds=retry_seconds,
            claim_seconds=claim_seconds,
        )  # fmt: skip

    @property
    def position(self) -> int:
        return self.store.max_tracking_id(TRACKING_KEY) or 0

    def step(self) -> int:
        with self.tracked.following("mail_batch_refused") as position:
            notifications = self.app.recorder.select_notifications(start=position + 1, limit=200)
            if notifications:
                # decoded are only the offers and the closings: the rest writes no mail rows
                # (and without a mailer, nothing is written but the position)
                wanted = (ev.HandoverOffered, *CLOSING) if self.mailer is not None else ()
                events = [
                    cast(ev.CaseEvent, self.app.mapper.to_domain_event(n))
                    for n in notifications
                    if wanted and decodes_to(n.topic, wanted)
                ]
                with self.store.cursor(commit=True) as curs:
                    self.store.advance_tracking(curs, TRACKING_KEY, position, notifications[-1].id)
                    self._follow(curs, events)
                self.tracked.moved(notifications[-1].id)
        if self.mailer is None:
            return len(notifications)
        digests = self.digests.step() if self.digests is not None else 0
        return len(notifications) + self._deadlines() + digests + self.sending.send_due()

    # -- writing the rows -------------------------------------------------------------------

    def _follow(self, curs: Any, events: list[ev.CaseEvent]) -> None:
        sql = self.store.sql
        for event in events:
            case_id = str(event.originator_id)
            if isinstance(event, CLOSING):
                curs.execute(
                    sql("UPDATE mail_deadlines SET open = 0 WHERE case_id = %s AND open = 1"),
                    (case_id,),
                )
            if not isinstance(event, ev.HandoverOffered):
                continue
            org = self.orgs.get(event.to_org)
            if org is None or org.team_email is None:
                continue
            key = f"{case_id}:{event.originator_version}"
            offered_on = event.timestamp.astimezone(BERLIN).date()
            remind_on = reminder_day(offered_on, event.due_on)
            curs.execute(
                sql("INSERT INTO mail_deadlines VALUES (%s, %s, %s, %s, %s, %s, 1, %s, 0)"
                    " ON CONFLICT DO NOTHING"),
                (key, case_id, event.to_org, event.offered_version, event.due_on.isoformat(),
                 remind_on.isoformat() if remind_on else None, 0 if remind_on else 1),
            )  # fmt: skip
            self._write(curs, key, MailKind.HANDOVER_OFFERED, org.team_email, case_id,
                        org.name, event.due_on)  # fmt: skip

    def _write(
        self, curs: Any, key: str, kind: MailKind, recipient: str, case_id: str,
        org_name: str, due_on: date,
    ) -> None:  # fmt: skip
        mail = handover_mail(
            kind, org_name=org_name, case_ref=case_id, due_on=due_on, base_url=self.base_url
        )
        now = stamp(self.clock.now())
        curs.execute(
            self.store.sql(
                "INSERT INTO mail_outbox VALUES (%s, %s, %s, %s, %s, %s, %s, 0, %s, 'pending',"
                " NULL, NULL) ON CONFLICT DO NOTHING"
            ),
            (key, kind.value, recipient, case_id, mail.subject, mail.body, now, now),
        )

    def _deadlines(self) -> int:
        """Write the reminders and overdue mails the clock has made due; returns how many."""
        today = self.clock.today()
        with self.store.cursor() as curs:
            curs.execute(
                self.store.sql(
                    "SELECT * FROM mail_deadlines WHERE open = 1 AND ((reminded = 0 AND"
                    " remind_on <= %s) OR (overdue = 0 AND due_on < %s))"
                ),
                (today.isoformat(), today.isoformat()),
            )
            due = [dict(r) for r in curs.fetchall()]
        return sum(self._deadline(d, today) for d in due)

    def _deadline(self, d: dict[str, Any], today: date) -> int:
        sql = self.store.sql
        due_on = date.fromisoformat(d["due_on"])
        org = self.orgs.get(d["to_org"])
        try:
            handover = self.app.get_case(UUID(d["case_id"])).handover
        except CaseNotFoundError:
            handover = None
        still_open = (
            handover is not None
            and handover.to_org == d["to_org"]
            and handover.offered_version == d["offered_version"]
        )
        overdue = is_overdue(due_on, today)
        with self.store.cursor(commit=True) as curs:
            if not still_open or org is None or org.team_email is None:
                curs.execute(sql("UPDATE mail_deadlines SET open = 0 WHERE event_key = %s"),
                             (d["event_key"],))  # fmt: skip
                return 0
            kind = MailKind.HANDOVER_OVERDUE if overdue else MailKind.HANDOVER_REMINDER
            self._write(curs, d["event_key"], kind, org.team_email, d["case_id"], org.name, due_on)
            curs.execute(
                sql("UPDATE mail_deadlines SET reminded = 1, overdue = %s, open = %s"
                    " WHERE event_key = %s"),
                (int(overdue), int(not overdue), d["event_key"]),
            )  # fmt: skip
        return 1

    # -- sending ----------------------------------------------------------------------------

    def rows(self, state: str | None = None) -> list[dict[str, Any]]:
        return self.sending.rows(state)
