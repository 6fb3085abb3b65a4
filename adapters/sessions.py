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
from typing import Any

from adapters.views.store import ViewStoreMixin
from domain.principal import Principal, Role

TABLE = (
    "CREATE TABLE IF NOT EXISTS web_sessions (id TEXT PRIMARY KEY, sub TEXT NOT NULL,"
    " name TEXT NOT NULL, org TEXT NOT NULL, roles TEXT NOT NULL, expires_at BIGINT NOT NULL)"
)
INDEX = "CREATE INDEX IF NOT EXISTS web_sessions_expiry ON web_sessions (expires_at)"
# a sign-in under way at the identity provider (ADR 0015): the state, nonce and PKCE verifier
# Authlib keeps, until the provider sends the browser back (or ten minutes have passed)
PENDING = (
    "CREATE TABLE IF NOT EXISTS web_sign_ins (id TEXT PRIMARY KEY, data TEXT NOT NULL,"
    " expires_at BIGINT NOT NULL)"
)
# the provider's ID token of a session, the hint for its logout (RP-initiated logout)
ID_TOKENS = (
    "CREATE TABLE IF NOT EXISTS web_session_id_tokens (id TEXT PRIMARY KEY,"
    " id_token TEXT NOT NULL, expires_at BIGINT NOT NULL)"
)
PENDING_SECONDS = 600
SESSION_ID = re.compile(r"[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(32)


def _key(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class WebSessions:
    def __init__(self, store: ViewStoreMixin, clock: Callable[[], float] = time.time) -> None:
        self.store, self.clock = store, clock
        with store.cursor(commit=True) as curs:
            curs.execute(TABLE)
            curs.execute(INDEX)
            curs.execute(PENDING)
            curs.execute(ID_TOKENS)

    def start(self, principal: Principal, expires_at: int, id_token: str | None = None) -> str:
        """A new session for ``principal`` until ``expires_at`` (the token's ``exp``); returns
        the id for the cookie. Expired sessions are purged on the way. ``id_token``: the
        provider's, kept for its logout when the session ends."""
        session_id = secrets.token_urlsafe(32)
        roles = json.dumps(sorted(principal.roles))
        key = _key(session_id)
        row = (key, principal.sub, principal.name, principal.org, roles, expires_at)
        with self.store.cursor(commit=True) as curs:
            curs.execute(
                self.store.sql("INSERT INTO web_sessions VALUES (%s, %s, %s, %s, %s, %s)"), row
            )
            if id_token:
                sql = "INSERT INTO web_session_id_tokens VALUES (%s, %s, %s)"
                curs.execute(self.store.sql(sql), (key, id_token, expires_at))
        self.purge()
        return session_id

    def hold(self, data: dict[str, Any]) -> str:
        """Keep a sign-in under way (Authlib's state, nonce, PKCE verifier) for ten minutes;
        returns the id for its cookie."""
        pending_id = secrets.token_urlsafe(32)
        row = (_key(pending_id), json.dumps(data), int(self.clock()) + PENDING_SECONDS)
        with self.store.cursor(commit=True) as curs:
            curs.execute(self.store.sql("INSERT INTO web_sign_ins VALUES (%s, %s, %s)"), row)
        return pending_id

    def take(self, pending_id: str) -> dict[str, Any] | None:
        """The sign-in under way, once: a second use of the same cookie finds nothing."""
        if not SESSION_ID.fullmatch(pending_id):
            return None
        with self.store.cursor(commit=True) as curs:
            curs.execute(
                self.store.sql("SELECT data, expires_at FROM web_sign_ins WHERE id = %s"),
                (_key(pending_id),),
            )
            row = curs.fetchone()
            curs.execute(
                self.store.sql("DELETE FROM web_sign_ins WHERE id = %s OR expires_at <= %s"),
                (_key(pending_id), int(self.clock())),
            )
        if row is None or int(row["expires_at"]) <= int(self.clock()):
            return None
        data: dict[str, Any] = json.loads(row["data"])
        return data

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

    def end(self, session_id: str) -> str | None:
        """Delete the session; returns the provider's ID token it was started with, if any."""
        if not SESSION_ID.fullmatch(session_id):
            return None
        key = _key(session_id)
        with self.store.cursor(commit=True) as curs:
            curs.execute(
                self.store.sql("SELECT id_token FROM web_session_id_tokens WHERE id = %s"), (key,)
            )
            row = curs.fetchone()
            curs.execute(self.store.sql("DELETE FROM web_sessions WHERE id = %s"), (key,))
            curs.execute(self.store.sql("DELETE FROM web_session_id_tokens WHERE id = %s"), (key,))
        return str(row["id_token"]) if row else None

    def purge(self) -> None:
        """Delete the expired sessions."""
        with self.store.cursor(commit=True) as curs:
            for table in ("web_sessions", "web_session_id_tokens", "web_sign_ins"):
                sql = self.store.sql(f"DELETE FROM {table} WHERE expires_at <= %s")  # noqa: S608
                curs.execute(sql, (int(self.clock()),))

    def count(self, *, expired: bool = False) -> int:
        """How many sessions are live (or, with ``expired``, expired but not yet purged)."""
        live = "SELECT COUNT(*) AS n FROM web_sessions WHERE expires_at > %s"
        gone = "SELECT COUNT(*) AS n FROM web_sessions WHERE expires_at <= %s"
        with self.store.cursor() as curs:
            curs.execute(self.store.sql(gone if expired else live), (int(self.clock()),))
            return int(curs.fetchone()["n"])
