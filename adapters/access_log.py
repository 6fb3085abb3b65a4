"""Who read which case when: an append-only table beside the events (written on every read of a
case's personal data; auditors list it)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from adapters.views.store import ViewStoreMixin

CREATE = {
    "sqlite": (
        "CREATE TABLE IF NOT EXISTS access_log (id INTEGER PRIMARY KEY AUTOINCREMENT,"
        " at TEXT NOT NULL, actor TEXT NOT NULL, org TEXT NOT NULL, case_id TEXT NOT NULL,"
        " endpoint TEXT NOT NULL)"
    ),
    "postgres": (
        "CREATE TABLE IF NOT EXISTS access_log (id BIGSERIAL PRIMARY KEY,"
        " at TEXT NOT NULL, actor TEXT NOT NULL, org TEXT NOT NULL, case_id TEXT NOT NULL,"
        " endpoint TEXT NOT NULL)"
    ),
}


class AccessLog:
    def __init__(self, store: ViewStoreMixin) -> None:
        self.store = store
        dialect = "sqlite" if store.PLACEHOLDER == "?" else "postgres"
        with store.cursor(commit=True) as curs:
            curs.execute(CREATE[dialect])
            curs.execute("CREATE INDEX IF NOT EXISTS access_log_case ON access_log (case_id, id)")

    def record(self, *, actor: str, org: str, case_ids: list[str], endpoint: str) -> None:
        if not case_ids:
            return
        at = datetime.now(UTC).isoformat()
        with self.store.cursor(commit=True) as curs:
            curs.executemany(
                self.store.sql(
                    "INSERT INTO access_log (at, actor, org, case_id, endpoint)"
                    " VALUES (%s, %s, %s, %s, %s)"
                ),
                [(at, actor, org, case_id, endpoint) for case_id in case_ids],
            )

    def entries(
        self,
        *,
        case_id: str | None = None,
        actor: str | None = None,
        since: str | None = None,
        after: int = 0,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        where: list[str] = ["id > %s"]
        params: list[object] = [after]
        for column, op, value in (
            ("case_id", "=", case_id),
            ("actor", "=", actor),
            ("at", ">=", since),
        ):
            if value is not None:
                where.append(f"{column} {op} %s")
                params.append(value)
        with self.store.cursor() as curs:
            curs.execute(
                self.store.sql(
                    f"SELECT id, at, actor, org, case_id, endpoint FROM access_log"  # noqa: S608
                    f" WHERE {' AND '.join(where)} ORDER BY id LIMIT {int(limit)}"
                ),
                params,
            )
            return [dict(row) for row in curs.fetchall()]
