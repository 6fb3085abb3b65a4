"""The daily digest of due follow-ups (ADR 0018), written into the e-mail outbox by its leader.

From ``digest_hour`` (Europe/Berlin) on, each user who chose the digest (``notification_settings``)
and whose staff-directory entry holds a work address is looked at once a day: a row in
``mail_digests`` keyed (actor, day) is inserted ``ON CONFLICT DO NOTHING``, and only the
transaction that inserted it writes the mail row, in the same transaction. So however many
outboxes race (a lead lost mid-round), a user gets at most one digest a day, and a process that
dies after the commit leaves it to the outbox's sending (at least once). A day with nothing
overdue or due sends nothing. The mail holds counts and a link only."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import structlog

from adapters.clock import BERLIN, Clock
from adapters.views.notification_settings import NotificationSettings
from adapters.views.queries import CaseQueries
from adapters.views.staff_directory import StaffDirectory, StaffEntry
from adapters.views.store import ViewStoreMixin
from domain.notifications import DueCounts, MailKind, digest_mail
from workers.mail_sending import stamp

log = structlog.get_logger("staffel.mail")
TABLE = (
    "CREATE TABLE IF NOT EXISTS mail_digests (actor TEXT NOT NULL, day TEXT NOT NULL,"
    " mailed INTEGER NOT NULL, PRIMARY KEY (actor, day))"
)


class Digests:
    def __init__(
        self, store: ViewStoreMixin, clock: Clock, directory: StaffDirectory, *, hour: int,
        base_url: str, keep_days: int = 7,
    ) -> None:  # fmt: skip
        self.store, self.clock, self.directory = store, clock, directory
        self.hour, self.base_url, self.keep_days = hour, base_url, keep_days
        self.choices = NotificationSettings(store)
        self.queries = CaseQueries(store)
        self._purged_on: date | None = None
        with store.cursor(commit=True) as curs:
            curs.execute(TABLE)

    def step(self) -> int:
        """Write today's digests that are due; returns how many were written."""
        now = self.clock.now().astimezone(BERLIN)
        today = now.date()
        if now.hour < self.hour:
            return 0
        if self._purged_on != today:
            self._purged_on = today
            self.purge(today - timedelta(days=self.keep_days))
            self.choices.purge_unknown()
        day = today.isoformat()
        readers = self.choices.digest_readers()
        looked_at = {
            r["actor"]
            for r in self.store.rows("SELECT actor FROM mail_digests WHERE day = %s", (day,))
        }
        waiting = [actor for actor in readers if actor not in looked_at]
        # one query for all of them, each round: those without an address (yet) cost no more
        entries = self.directory.fresh_many(waiting)
        return sum(self.digest_for(actor, today, entries.get(actor)) for actor in waiting)

    def digest_for(self, actor: str, today: date, entry: StaffEntry | None) -> int:
        """Write ``actor``'s digest of ``today`` unless another outbox did (1: written)."""
        if entry is None or entry.email is None:
            return 0  # no address known (yet): looked at again in the next round
        counts = DueCounts(
            **self.queries.due_counts(org=entry.org, assignee=actor, today=today.isoformat())
        )
        sql = self.store.sql
        with self.store.cursor(commit=True) as curs:
            curs.execute(
                sql("INSERT INTO mail_digests VALUES (%s, %s, %s) ON CONFLICT DO NOTHING"),
                (actor, today.isoformat(), int(counts.any)),
            )
            if _rowcount(curs) != 1 or not counts.any:
                return 0  # another outbox took this user's day, or nothing is due
            self._write(curs, actor, entry.email, today, counts)
        log.info("digest_written", day=today.isoformat())
        return 1

    def _write(self, curs: Any, actor: str, email: str, today: date, counts: DueCounts) -> None:
        mail = digest_mail(today, counts, base_url=self.base_url)
        now = stamp(self.clock.now())
        curs.execute(
            self.store.sql(
                "INSERT INTO mail_outbox VALUES (%s, %s, %s, NULL, %s, %s, %s, 0, %s, 'pending',"
                " NULL, NULL) ON CONFLICT DO NOTHING"
            ),
            (f"digest:{actor}:{today.isoformat()}", MailKind.FOLLOW_UP_DIGEST.value, email,
             mail.subject, mail.body, now, now),
        )  # fmt: skip

    def purge(self, before: date) -> None:
        """Forget the days before ``before`` (the markers only; sent mails stay in the outbox)."""
        with self.store.cursor(commit=True) as curs:
            curs.execute(
                self.store.sql("DELETE FROM mail_digests WHERE day < %s"), (before.isoformat(),)
            )


def _rowcount(curs: Any) -> int:
    return int(getattr(curs, "sqlite_cursor", curs).rowcount)  # as mail_sending._claim
