"""Reads of the follow-up view: an organisation's follow-ups by assignee and state, by due date
(keyset pagination, the cursor being the sort key of the last item); the Team page's figures."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from adapters.views.queries import Page

MAX_LIMIT = 200


class FollowUpQueries:
    """Mixed into ``CaseQueries`` (its ``_table`` and ``_rows``)."""

    if TYPE_CHECKING:

        def _table(self, projection: str, base: str) -> str | None: ...

        def _rows(
            self, statement: str, params: tuple[Any, ...] | list[Any]
        ) -> list[dict[str, Any]]: ...

    def follow_ups(
        self,
        *,
        org: str,
        assignee: str | None,
        team: bool,
        state: str | None = "open",
        case_id: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page:
        """Follow-ups of ``org`` due first: those for ``assignee`` and, with ``team``, those for
        the team (no assignee); ``state`` None: every state."""
        from adapters.views.queries import Page, decode_cursor, encode_cursor

        table = self._table("follow_ups", "follow_ups")
        if table is None:
            return Page([], None)
        who = []
        if assignee is not None:
            who.append("assignee = %s")
        if team:
            who.append("assignee IS NULL")
        where = ["org = %s", f"({' OR '.join(who) or '1 = 0'})"]
        params: list[Any] = [org, *([assignee] if assignee is not None else [])]
        if state is not None:
            where.append("state = %s")
            params.append(state)
        if case_id is not None:
            where.append("case_id = %s")
            params.append(case_id)
        if cursor:
            due, last_case, last_id = decode_cursor(cursor, str, str, str)
            where.append(
                "(due_on > %s OR (due_on = %s AND (case_id > %s"
                " OR (case_id = %s AND follow_up_id > %s))))"
            )
            params += [due, due, last_case, last_case, last_id]
        limit = max(1, min(limit, MAX_LIMIT))
        rows = self._rows(
            f"SELECT doc FROM {table} WHERE {' AND '.join(where)}"
            f" ORDER BY due_on, case_id, follow_up_id LIMIT {limit + 1}",
            params,
        )
        docs = [json.loads(r["doc"]) for r in rows]
        last = docs[limit - 1] if len(docs) > limit else None
        next_cursor = (
            encode_cursor(last["due_on"], last["case_id"], last["follow_up_id"]) if last else None
        )
        return Page(docs[:limit], next_cursor)

    def due_counts(self, *, org: str, assignee: str, today: str) -> dict[str, int]:
        """How many open follow-ups of ``org`` are overdue and due ``today`` (ISO date), for
        ``assignee`` (``mine_*``) and for the team (``team_*``): the daily digest's figures."""
        counts = dict.fromkeys(("mine_overdue", "mine_today", "team_overdue", "team_today"), 0)
        table = self._table("follow_ups", "follow_ups")
        if table is None:
            return counts
        rows = self._rows(
            f"SELECT assignee IS NULL AS team, due_on < %s AS overdue, COUNT(*) AS n FROM {table}"
            " WHERE org = %s AND state = 'open' AND due_on <= %s"
            " AND (assignee = %s OR assignee IS NULL) GROUP BY 1, 2",
            (today, org, today, assignee),
        )
        for r in rows:
            who = "team" if r["team"] else "mine"
            counts[f"{who}_{'overdue' if r['overdue'] else 'today'}"] += int(r["n"])
        return counts

    def case_follow_ups(self, case_id: str, org: str) -> list[dict[str, Any]]:
        """Every follow-up of ``org`` on the case, open ones first, by due date."""
        table = self._table("follow_ups", "follow_ups")
        if table is None:
            return []
        rows = self._rows(
            f"SELECT doc FROM {table} WHERE case_id = %s AND org = %s ORDER BY due_on",
            (case_id, org),
        )
        docs = [json.loads(r["doc"]) for r in rows]
        return sorted(docs, key=lambda d: (d["state"] != "open", d["due_on"]))

    def unassigned(self, *, holder: str, limit: int = 100) -> list[dict[str, Any]]:
        """Open cases of ``holder`` without a caseworker, by name."""
        table = self._table("case_summary", "case_summary")
        if table is None:
            return []
        rows = self._rows(
            f"SELECT doc FROM {table} WHERE holder = %s AND caseworker IS NULL AND closed = 0"
            f" ORDER BY name_key, case_id LIMIT {max(1, min(limit, MAX_LIMIT))}",
            (holder,),
        )
        return [json.loads(r["doc"]) for r in rows]
