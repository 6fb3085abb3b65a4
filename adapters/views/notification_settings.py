"""Each user's choice of e-mail notifications, beside the read models (not events: a preference
of the employee, no fact about a case). One row per actor id (the token's ``sub``); today one
choice: the daily digest of the user's due follow-ups, off until the user turns it on (ADR 0018).
A row goes with the staff directory's entry when that is purged (docs/data-protection.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from adapters.views.store import ViewStoreMixin

TABLE = (
    "CREATE TABLE IF NOT EXISTS notification_settings (actor TEXT PRIMARY KEY,"
    " follow_up_digest INTEGER NOT NULL, changed_at TEXT NOT NULL)"
)
UPSERT = (
    "INSERT INTO notification_settings (actor, follow_up_digest, changed_at) VALUES (%s, %s, %s)"
    " ON CONFLICT (actor) DO UPDATE SET follow_up_digest = excluded.follow_up_digest,"
    " changed_at = excluded.changed_at"
)


@dataclass(frozen=True)
class Choice:
    follow_up_digest: bool = False


class NotificationSettings:
    def __init__(self, store: ViewStoreMixin) -> None:
        self.store = store
        with store.cursor(commit=True) as curs:
            curs.execute(TABLE)

    def get(self, actor: str) -> Choice:
        rows = self.store.rows(
            "SELECT follow_up_digest FROM notification_settings WHERE actor = %s", (actor,)
        )
        return Choice(bool(rows[0]["follow_up_digest"])) if rows else Choice()

    def set(self, actor: str, choice: Choice, at: datetime) -> None:
        with self.store.cursor(commit=True) as curs:
            curs.execute(
                self.store.sql(UPSERT), (actor, int(choice.follow_up_digest), at.isoformat())
            )

    def digest_readers(self) -> list[str]:
        """The actors who chose the daily digest."""
        rows = self.store.rows(
            "SELECT actor FROM notification_settings WHERE follow_up_digest = %s ORDER BY actor",
            (1,),
        )
        return [str(r["actor"]) for r in rows]

    def purge_unknown(self) -> None:
        """Forget the choices of actors the staff directory no longer knows (purged)."""
        with self.store.cursor(commit=True) as curs:
            curs.execute(
                "DELETE FROM notification_settings"
                " WHERE actor NOT IN (SELECT actor FROM staff_directory)"
            )
