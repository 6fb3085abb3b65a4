"""Sending the e-mail outbox's rows through SMTP: each claimed, sent outside any transaction,
recorded; retried with exponential backoff or marked failed (ADR 0018). Also the outbox's tables
and its state for ``staffel mail status``."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any, Protocol

import structlog

from adapters.clock import Clock
from adapters.mailer import PermanentMailError, TemporaryMailError
from adapters.views.store import ViewStoreMixin

log = structlog.get_logger("staffel.mail")
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
MAX_BACKOFF = 3600.0
SEND_BATCH = 20


class Mailer(Protocol):
    def send(self, message: EmailMessage) -> None: ...


def stamp(instant: datetime) -> str:
    """A sortable UTC text (fixed width: compared as text in both databases)."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class MailSender:
    def __init__(
        self, store: ViewStoreMixin, clock: Clock, mailer: Mailer | None, *, sender: str,
        retry_seconds: float = 30.0, claim_seconds: float = 30.0,
    ) -> None:  # fmt: skip
        self.store, self.clock, self.mailer, self.sender = store, clock, mailer, sender
        self.retry_seconds = retry_seconds
        # how long a send may take before another attempt may start (SMTP timeout: 10 s)
        self.claim_seconds = claim_seconds
        self._paused_until: datetime | None = None  # after a temporary failure (``_send``)
        ensure_tables(store)

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
