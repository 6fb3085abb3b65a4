"""Web sessions kept in the database (ADR 0009, how sessions end): the session cookie holds only a
random id; the row holds who signed in and until when. Signing out deletes the row, so the old
cookie stops working in every Staffel process on the database at once. The row is keyed by the
SHA-256 of the id: whoever reads the table cannot take over a session."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import time
from collections.abc import Callable

from adapters.views.store import ViewStoreMixin
from domain.principal import Principal, Role

TABLE = (
    "CREATE TABLE IF NOT EXISTS web_sessions (id TEXT PRIMARY KEY, sub TEXT NOT NULL,"
    " name TEXT NOT NULL, org TEXT NOT NULL, roles TEXT NOT NULL, expires_at BIGINT NOT NULL)"
)
INDEX = "CREATE INDEX IF NOT EXISTS web_sessions_expiry ON web_sessions (expires_at)"
SESSION_ID = re.compile(r"[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(32)


def _key(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class WebSessions:
    def __init__(self, store: ViewStoreMixin, clock: Callable[[], float] = time.time) -> None:
        self.store, self.clock = store, clock
        with store.cursor(commit=True) as curs:
            curs.execute(TABLE)
            curs.execute(INDEX)

    def start(self, principal: Principal, expires_at: int) -> str:
        """A new session for ``principal`` until ``expires_at`` (the token's ``exp``); returns
        the id for the cookie. Expired sessions are purged on the way."""
        session_id = secrets.token_urlsafe(32)
        roles = json.dumps(sorted(principal.roles))
        row = (_key(session_id), principal.sub, principal.name, principal.org, roles, expires_at)
        with self.store.cursor(commit=True) as curs:
            curs.execute(
                self.store.sql("INSERT INTO web_sessions VALUES (%s, %s, %s, %s, %s, %s)"), row
            )
        self.purge()
        return session_id

    def principal(self, session_id: str) -> Principal | None:
        """Who the session belongs to; None for an unknown, ended or expired session, or for a
        cookie that is no session id at all (whatever its size)."""
        if not SESSION_ID.fullmatch(session_id):
            return None
        with self.store.cursor() as curs:
            curs.execute(
                self.store.sql(
                    "SELECT sub, name, org, roles, expires_at FROM web_sessions"
                    " WHERE id = %s AND expires_at > %s"
                ),
                (_key(session_id), int(self.clock())),
            )
            row = curs.fetchone()
        if row is None:
            return None
        try:
            roles = frozenset(Role(r) for r in json.loads(row["roles"]))
        except ValueError:  # a role this version no longer knows: sign in again
            return None
        return Principal(row["sub"], row["name"], row["org"], roles, int(row["expires_at"]))

    def end(self, session_id: str) -> None:
        with self.store.cursor(commit=True) as curs:
            curs.execute(
                self.store.sql("DELETE FROM web_sessions WHERE id = %s"), (_key(session_id),)
            )

    def purge(self) -> None:
        """Delete the expired sessions."""
        with self.store.cursor(commit=True) as curs:
            sql = self.store.sql("DELETE FROM web_sessions WHERE expires_at <= %s")
            curs.execute(sql, (int(self.clock()),))

    def count(self, *, expired: bool = False) -> int:
        """How many sessions are live (or, with ``expired``, expired but not yet purged)."""
        live = "SELECT COUNT(*) AS n FROM web_sessions WHERE expires_at > %s"
        gone = "SELECT COUNT(*) AS n FROM web_sessions WHERE expires_at <= %s"
        with self.store.cursor() as curs:
            curs.execute(self.store.sql(gone if expired else live), (int(self.clock()),))
            return int(curs.fetchone()["n"])
