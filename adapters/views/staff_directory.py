"""The staff directory (ADR 0015): each actor's display name and organisation, as the identity
provider's verified claims last said, beside the read models. Events keep the stable actor id
(the token's ``sub``); pages show "Sabine Klein (Agentur für Arbeit Saarland)" through this
table. Learned at every web sign-in and on API calls (written only when something changed, or
once a day to note the actor is still active); an entry not confirmed for ``keep_days`` is
deleted (docs/data-protection.md: employees' data). With the name the work e-mail address the
provider vouches for (its ``email`` claim), which the daily digest of follow-ups goes to (ADR
0018); a token without one keeps the address learned before."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from adapters.views.store import ViewStoreMixin
from domain.principal import Principal

TABLE = (
    "CREATE TABLE IF NOT EXISTS staff_directory (actor TEXT PRIMARY KEY, name TEXT NOT NULL,"
    " org TEXT NOT NULL, seen_at BIGINT NOT NULL, email TEXT)"
)
UPSERT = (
    "INSERT INTO staff_directory (actor, name, org, seen_at, email) VALUES (%s, %s, %s, %s, %s)"
    " ON CONFLICT (actor) DO UPDATE SET name = excluded.name, org = excluded.org,"
    " seen_at = excluded.seen_at, email = COALESCE(excluded.email, staff_directory.email)"
)
DAY = 86400


@dataclass(frozen=True)
class StaffEntry:
    actor: str
    name: str
    org: str
    email: str | None = None


class StaffDirectory:
    def __init__(
        self,
        store: ViewStoreMixin,
        *,
        keep_days: int = 400,
        reload_seconds: float = 30,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store, self.keep_days, self.reload_seconds = store, keep_days, reload_seconds
        self.clock = clock
        self._entries: dict[str, StaffEntry] = {}
        self._written: dict[str, tuple[StaffEntry, int]] = {}  # what this process last wrote
        self._loaded_at = -float("inf")
        self._purged_on = -1  # the day of the last purge in this process
        self._lock = threading.Lock()
        with store.cursor(commit=True) as curs:
            curs.execute(TABLE)
            add_email_column(store, curs)

    def learn(self, principal: Principal) -> None:
        """Note who ``principal`` is; a database write only when the name or organisation
        changed, or on the first call of a day."""
        entry = StaffEntry(principal.sub, principal.name, principal.org, principal.email)
        today = int(self.clock()) // DAY
        if self._written.get(entry.actor) == (entry, today):
            return
        if self._purged_on != today:
            self._purged_on = today
            self.purge()
        with self.store.cursor(commit=True) as curs:
            curs.execute(
                self.store.sql(UPSERT),
                (entry.actor, entry.name, entry.org, int(self.clock()), entry.email),
            )
        with self._lock:
            self._written[entry.actor] = (entry, today)
            known = self._entries.get(entry.actor)
            if entry.email is None and known is not None:  # as the upsert keeps it
                entry = StaffEntry(entry.actor, entry.name, entry.org, known.email)
            self._entries[entry.actor] = entry

    def get(self, actor: str) -> StaffEntry | None:
        """The entry of ``actor``; the table is read again (at most every ``reload_seconds``)
        when this process does not know it, so another process's sign-ins show up."""
        entry = self._entries.get(actor)
        if entry is None and self.clock() - self._loaded_at >= self.reload_seconds:
            self._load()
            entry = self._entries.get(actor)
        return entry

    def members(self, org: str) -> list[StaffEntry]:
        """Everyone known of ``org``, by name (read afresh: other processes' sign-ins too)."""
        self._load()
        return sorted((e for e in self._entries.values() if e.org == org), key=lambda e: e.name)

    def _load(self) -> None:
        with self.store.cursor() as curs:
            curs.execute("SELECT actor, name, org, email FROM staff_directory")
            rows = curs.fetchall()
        with self._lock:
            self._entries = {
                r["actor"]: StaffEntry(r["actor"], r["name"], r["org"], r["email"]) for r in rows
            }
            self._loaded_at = self.clock()

    def fresh(self, actor: str) -> StaffEntry | None:
        """The entry of ``actor`` as the table holds it now (another process's sign-in too)."""
        with self.store.cursor() as curs:
            curs.execute(
                self.store.sql("SELECT actor, name, org, email FROM staff_directory"
                               " WHERE actor = %s"), (actor,),
            )  # fmt: skip
            r = curs.fetchone()
        return StaffEntry(r["actor"], r["name"], r["org"], r["email"]) if r else None

    def fresh_many(self, actors: Sequence[str]) -> dict[str, StaffEntry]:
        """``fresh`` for many actors in one query: those the table holds."""
        if not actors:
            return {}
        marks = ", ".join(["%s"] * len(actors))
        rows = self.store.rows(
            f"SELECT actor, name, org, email FROM staff_directory WHERE actor IN ({marks})",
            list(actors),
        )
        return {r["actor"]: StaffEntry(r["actor"], r["name"], r["org"], r["email"]) for r in rows}

    def purge(self) -> None:
        """Delete the entries not confirmed for ``keep_days``."""
        cutoff = int(self.clock()) - self.keep_days * DAY
        with self.store.cursor(commit=True) as curs:
            sql = self.store.sql("DELETE FROM staff_directory WHERE seen_at < %s")
            curs.execute(sql, (cutoff,))
        with self._lock:
            self._entries, self._loaded_at = {}, -float("inf")


def add_email_column(store: ViewStoreMixin, curs: Any) -> None:
    """The ``email`` column, added to a directory made before it existed. Looked for first: on
    PostgreSQL an ``ALTER TABLE`` locks the table even when it changes nothing, on every start;
    on SQLite two processes starting at once may both find it missing, and the second's
    ``ALTER`` then finds it there."""
    if store.PLACEHOLDER == "%s":  # PostgreSQL
        curs.execute(
            "SELECT 1 AS found FROM information_schema.columns WHERE table_schema ="
            " current_schema() AND table_name = 'staff_directory' AND column_name = 'email'"
        )
        if curs.fetchone() is None:
            curs.execute("ALTER TABLE staff_directory ADD COLUMN IF NOT EXISTS email TEXT")
        return
    curs.execute("PRAGMA table_info(staff_directory)")
    if "email" not in {r["name"] for r in curs.fetchall()}:
        try:
            curs.execute("ALTER TABLE staff_directory ADD COLUMN email TEXT")
        except sqlite3.OperationalError as e:
            if "duplicate column" not in str(e):
                raise
