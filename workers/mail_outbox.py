"""The e-mail outbox: notifications to a team's address, written exactly once, sent at least once.

Following the log with tracking, an offer to an organisation with a ``team_email`` writes its mail
row and the offer's deadline row in the same transaction as the tracking record (a compare-and-
set: an overlapping batch writes nothing); an answer closes the deadline. Each round the open
deadlines are compared with the clock: one working day before the deadline a reminder, the day
after it the overdue mail, each row written with the deadline's flag in one transaction. Every
row's key is (event, kind, recipient), inserted ``ON CONFLICT DO NOTHING``: never two rows for
one cause, however many processes try. Only the leader runs this (``workers/leader.py``).

Sending reads the due rows, sends each through SMTP outside any transaction, then records it sent;
a failure is retried with exponential backoff (4xx, connection errors) or marked failed (5xx). A
process killed between the send and the record sends that mail again after the restart: at least
once; its Message-ID is derived from the key, so a receiving server or client can drop the twin.
ADR 0018."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any, Protocol
from uuid import UUID

import structlog

from adapters.clock import BERLIN, Clock
from adapters.mailer import PermanentMailError, TemporaryMailError
from adapters.orgs import Organisations
from adapters.views.store import OverlappingBatchError, ViewStoreMixin
from domain.aggregates import case_events as ev
from domain.application import StaffelApplication
from domain.errors import CaseNotFoundError
from domain.notifications import MailKind, handover_mail, is_overdue, reminder_day

log = structlog.get_logger("staffel.mail")
TRACKING_KEY = "mail_outbox"
TABLES = (
    "CREATE TABLE IF NOT EXISTS mail_outbox (event_key TEXT NOT NULL, kind TEXT NOT NULL,"
    " recipient TEXT NOT NULL, case_id TEXT, subject TEXT NOT NULL, body TEXT NOT NULL,"
    " created_at TEXT NOT NULL, attempts INTEGER NOT NULL, next_attempt_at TEXT NOT NULL,"
    " state TEXT NOT NULL, last_error TEXT, sent_at TEXT,"
    " PRIMARY KEY (event_key, kind, recipient))",
    "CREATE INDEX IF NOT EXISTS mail_outbox_due ON mail_outbox (state, next_attempt_at)",
    "CREATE TABLE IF NOT EXISTS mail_deadlines (event_key TEXT PRIMARY KEY, case_id TEXT NOT NULL,"
    " to_org TEXT NOT NULL, offered_version INTEGER NOT NULL, due_on TEXT NOT NULL,"
    " remind_on TEXT, open INTEGER NOT NULL, reminded INTEGER NOT NULL,"
    " overdue INTEGER NOT NULL)",
    "CREATE INDEX IF NOT EXISTS mail_deadlines_open ON mail_deadlines (open, case_id)",
)
# events after which a case has no open offer (``case.handover = None``)
CLOSING = (
    ev.HandoverAccepted, ev.HandoverRejected, ev.HandoverWithdrawn, ev.PersonalDataErased,
    ev.CaseRegistered,
)  # fmt: skip
MAX_BACKOFF = 3600.0
SEND_BATCH = 20


class Mailer(Protocol):
    def send(self, message: EmailMessage) -> None: ...


def stamp(instant: datetime) -> str:
    """A sortable UTC text (fixed width: compared as text in both databases)."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


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
    ) -> None:
        """``mailer`` None: mail is not configured; the log is followed and nothing written."""
        self.app, self.store, self.orgs, self.clock = app, store, orgs, clock
        self.mailer, self.sender, self.base_url = mailer, sender, base_url
        self.retry_seconds = retry_seconds
        # how long a send may take before another attempt may start (SMTP timeout: 10 s)
        self.claim_seconds = claim_seconds
        self._paused_until: datetime | None = None  # after a temporary failure (``_send``)
        ensure_tables(store)

    @property
    def position(self) -> int:
        return self.store.max_tracking_id(TRACKING_KEY) or 0

    def step(self) -> int:
        position = self.position
        notifications = self.app.recorder.select_notifications(start=position + 1, limit=200)
        if notifications:
            events = [self.app.mapper.to_domain_event(n) for n in notifications]
            try:
                with self.store.cursor(commit=True) as curs:
                    self.store.advance_tracking(curs, TRACKING_KEY, position, notifications[-1].id)
                    if self.mailer is not None:
                        self._follow(curs, [e for e in events if isinstance(e, ev.CaseEvent)])
            except OverlappingBatchError:
                log.info("mail_batch_refused", start=position)
        if self.mailer is None:
            return len(notifications)
        return len(notifications) + self._deadlines() + self.send_due()

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
        with self.store.cursor() as curs:
            if state is None:
                curs.execute("SELECT * FROM mail_outbox ORDER BY created_at, event_key, kind")
            else:
                curs.execute(
                    self.store.sql(
                        "SELECT * FROM mail_outbox WHERE state = %s ORDER BY created_at, event_key"
                    ),
                    (state,),
                )
            return [dict(r) for r in curs.fetchall()]

    def send_due(self) -> int:
        if self.mailer is None or (self._paused_until and self.clock.now() < self._paused_until):
            return 0
        with self.store.cursor() as curs:
            curs.execute(
                self.store.sql(
                    "SELECT * FROM mail_outbox WHERE state = 'pending' AND next_attempt_at <= %s"
                    " ORDER BY next_attempt_at LIMIT %s"
                ),
                (stamp(self.clock.now()), SEND_BATCH),
            )
            due = [dict(r) for r in curs.fetchall()]
        sent, self._paused_until = 0, None
        for row in due:
            sent += self._send(row)
            if self._paused_until is not None:
                break  # the server is failing: the other rows wait too (see ``_send``)
        return sent

    def _send(self, row: dict[str, Any]) -> int:
        assert self.mailer is not None
        attempts = self._claim(row)
        if attempts is None:
            return 0  # another outbox took it (a lead lost mid-round): never two senders at once
        try:
            self.mailer.send(self.message(row))
        except TemporaryMailError as e:
            delay = min(MAX_BACKOFF, self.retry_seconds * 2 ** (attempts - 1))
            later = stamp(self.clock.now() + timedelta(seconds=delay))
            self._update(row, "pending", later, str(e), None)
            # sending runs in the workers' round: while the server fails (or hangs until the
            # timeout) no further mail is tried before this one's retry, so the read models are
            # held up by at most one attempt per backoff period
            self._paused_until = self.clock.now() + timedelta(seconds=delay)
            log.warning("mail_retry", kind=row["kind"], attempts=attempts, error=str(e))
            return 0
        except PermanentMailError as e:
            self._update(row, "failed", row["next_attempt_at"], str(e), None)
            log.error("mail_failed", kind=row["kind"], error=str(e))
            return 0
        self._update(row, "sent", row["next_attempt_at"], None, stamp(self.clock.now()))
        log.info("mail_sent", kind=row["kind"], event_key=row["event_key"])
        return 1

    def _claim(self, row: dict[str, Any]) -> int | None:
        """Take the row for one attempt: count it and push its next attempt past the send's
        longest time (so a process that dies mid-send leaves it due again, not lost); None when
        another outbox took it first (its next attempt is no longer the one read)."""
        lease = stamp(self.clock.now() + timedelta(seconds=self.claim_seconds))
        with self.store.cursor(commit=True) as curs:
            curs.execute(
                self.store.sql(
                    "UPDATE mail_outbox SET attempts = attempts + 1, next_attempt_at = %s"
                    " WHERE event_key = %s AND kind = %s AND recipient = %s"
                    " AND state = 'pending' AND next_attempt_at = %s AND attempts = %s"
                ),
                (lease, row["event_key"], row["kind"], row["recipient"],
                 row["next_attempt_at"], row["attempts"]),
            )  # fmt: skip
            if int(getattr(curs, "sqlite_cursor", curs).rowcount) != 1:  # as keystore.py
                return None
        row["next_attempt_at"] = lease
        return int(row["attempts"]) + 1

    def message(self, row: dict[str, Any]) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = row["recipient"]
        message["Subject"] = row["subject"]
        message["X-Staffel-Kind"] = row["kind"]  # for the team's mail filters
        message["Date"] = formatdate(self.clock.now().timestamp(), usegmt=True)
        key = f"{row['event_key']}|{row['kind']}|{row['recipient']}".encode()
        domain = self.sender.rpartition("@")[2] or "staffel"
        message["Message-ID"] = f"<{hashlib.sha256(key).hexdigest()[:40]}@{domain}>"
        message.set_content(row["body"])
        return message

    def _update(
        self, row: dict[str, Any], state: str, next_at: str, error: str | None,
        sent_at: str | None,
    ) -> None:  # fmt: skip
        with self.store.cursor(commit=True) as curs:
            curs.execute(
                self.store.sql(
                    "UPDATE mail_outbox SET state = %s, next_attempt_at = %s,"
                    " last_error = %s, sent_at = %s"
                    " WHERE event_key = %s AND kind = %s AND recipient = %s"
                ),
                (state, next_at, error, sent_at,
                 row["event_key"], row["kind"], row["recipient"]),
            )  # fmt: skip


def ensure_tables(store: ViewStoreMixin) -> None:
    with store.cursor(commit=True) as curs:
        for statement in TABLES:
            curs.execute(statement)


def outbox_status(store: ViewStoreMixin, now: datetime) -> dict[str, Any]:
    """For ``staffel mail status``: rows per state and kind, the oldest unsent, the failed ones."""
    ensure_tables(store)
    with store.cursor() as curs:
        curs.execute(
            "SELECT state, kind, COUNT(*) AS n FROM mail_outbox GROUP BY state, kind"
            " ORDER BY state, kind"
        )
        counts = [dict(r) for r in curs.fetchall()]
        curs.execute(
            "SELECT created_at, next_attempt_at, attempts, last_error FROM mail_outbox"
            " WHERE state = 'pending' ORDER BY created_at LIMIT 1"
        )
        oldest = curs.fetchone()
        curs.execute(
            "SELECT event_key, kind, recipient, attempts, last_error FROM mail_outbox"
            " WHERE state = 'failed' ORDER BY created_at DESC LIMIT 20"
        )
        failed = [dict(r) for r in curs.fetchall()]
    pending = dict(oldest) if oldest else None
    if pending is not None:
        created = datetime.strptime(pending["created_at"], "%Y-%m-%dT%H:%M:%S.%fZ")
        pending["age_seconds"] = round((now - created.replace(tzinfo=UTC)).total_seconds(), 1)
    return {
        "counts": [{"state": c["state"], "kind": c["kind"], "mails": int(c["n"])} for c in counts],
        "oldest_pending": pending,
        "failed": failed,
    }
