"""Reads from the read models: what the API and the web interface show. Never from the aggregate.

Lists use keyset pagination: the cursor is the sort key of the last item, opaque to clients.
"""

from __future__ import annotations

import base64
import functools
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, ParamSpec, TypeVar

import orjson
from eventsourcing.persistence import OperationalError, ProgrammingError

from adapters.views import schema
from adapters.views.follow_up_queries import FollowUpQueries
from adapters.views.history_writer import entry
from adapters.views.statistics import case_statistics
from adapters.views.store import ViewStoreMixin
from domain import policy
from domain.bamf_number import normalise_or_none
from domain.search_terms import terms
from projections.history import SHOWN_SINCE
from projections.summary import Doc

MAX_LIMIT = 200
# how long a process reuses what it looked up as a projection's active generation: a swap in
# another process shows after at most this long (at once where the old tables are dropped)
GENERATION_TTL = 1.0  # seconds
P = ParamSpec("P")
R = TypeVar("R")


class BadCursorError(ValueError):
    pass


# what neither database stores as a key: NUL (PostgreSQL's text refuses it), lone surrogates
# (not encodable), integers beyond 64 bits
UNSTORABLE_TEXT = re.compile("[\x00\ud800-\udfff]")
INT64 = range(-(2**63), 2**63)


def encode_cursor(*key: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, *kinds: type) -> list[Any]:
    """The sort key in ``cursor``: one value of each of ``kinds`` (a key of other types would
    reach the database and fail there, or compare text with numbers on SQLite)."""
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except ValueError as e:
        raise BadCursorError("cursor is not one this service issued") from e
    if (
        not isinstance(key, list)
        or len(key) != len(kinds)
        or any(type(value) is not kind for value, kind in zip(key, kinds, strict=True))
        or any(isinstance(v, str) and UNSTORABLE_TEXT.search(v) for v in key)
        or any(isinstance(v, int) and v not in INT64 for v in key)
    ):
        raise BadCursorError("cursor is not one this service issued")
    return key


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None
    total: int | None = None  # all matches over every page, where the query counts them


@dataclass(frozen=True)
class HistoryDocument:
    """A case's history as the read model's one query encoded it: ``document``, the entries as
    a reader who may see every field is shown them (each ``withheld: []``, JSON), and ``types``
    the event types among them. A reader who sees every field of those types gets ``document``
    as it is: no entry decoded, none encoded again (issue 16); any other reader, ``history()``,
    the rows with the summaries as they read once erased (read then, up to ``version``)."""

    case_id: str
    version: int
    digest: str
    document: bytes
    types: frozenset[str]
    rows: Callable[[], list[dict[str, Any]]]

    def history(self) -> History:
        entries = [e for e in self.rows() if e["version"] <= self.version]
        return History(self.case_id, self.version, self.digest, entries)


@dataclass(frozen=True)
class History:
    case_id: str
    version: int
    digest: str
    # rows of the history read model; ``erased_summary`` is the summary line as it reads once
    # erased (None: nothing personal in clear), from which a withheld line is made
    # (``projections.withholding``) without composing a summary at read time
    entries: list[dict[str, Any]]


def _survives_swap(read: Callable[P, R]) -> Callable[P, R]:
    """A generation swapped in (``staffel replay``, a new projection version) drops the tables it
    replaces, so a read that looked the old generation up just before the swap finds its table
    gone ("no such table"): it reads again, once, from the generation now active."""

    @functools.wraps(read)
    def read_again_after_a_swap(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return read(*args, **kwargs)
        except (OperationalError, ProgrammingError):
            queries = args[0]
            if isinstance(queries, CaseQueries):
                queries.forget_generations()
            return read(*args, **kwargs)

    return read_again_after_a_swap


class CaseQueries(FollowUpQueries):
    def __init__(self, store: ViewStoreMixin) -> None:
        self.store = store
        # projection -> (looked up at, its active generation and the version that built it): not
        # a query per read
        self._generations: dict[str, tuple[float, tuple[int, int] | None]] = {}

    def forget_generations(self) -> None:
        self._generations = {}

    def _active(self, projection: str) -> tuple[int, int] | None:
        now = time.monotonic()
        cached = self._generations.get(projection)
        if cached is None or now - cached[0] > GENERATION_TTL:
            cached = (now, self.store.active(projection))
            if cached[1] is not None:  # none yet: ask again next time
                self._generations[projection] = cached
        return cached[1]

    def _table(self, projection: str, base: str) -> str | None:
        active = self._active(projection)
        return schema.table(base, active[0]) if active else None

    def _rows(self, statement: str, params: tuple[Any, ...] | list[Any]) -> list[dict[str, Any]]:
        return self.store.rows(statement, params)

    @_survives_swap
    def history(self, case_id: str) -> History | None:
        table = self._table("case_history", "case_history")
        if table is None:
            return None
        rows = self._rows(
            f"SELECT version, type, recorded_at, occurred_on, actor, org, summary, data, hash,"
            f" prev_hash, position, erased_summary FROM {table} WHERE case_id = %s"
            " ORDER BY version",
            (case_id,),
        )
        if not rows:
            return None
        entries = [{**row, "data": json.loads(row["data"])} for row in rows]
        return History(case_id, entries[-1]["version"], entries[-1]["hash"], entries)

    @_survives_swap
    def case_with_history(self, case_id: str) -> tuple[Doc, HistoryDocument] | None:
        """The case's summary and its history in one query."""
        summary = self._table("case_summary", "case_summary")
        history = self._table("case_history", "case_history")
        if summary is None or history is None:
            return None
        active = self._active("case_history")
        shown_kept = active is not None and active[1] >= SHOWN_SINCE
        if self.store.PLACEHOLDER == "%s" and shown_kept:
            # PostgreSQL: the summary, then each row's entry as the projection encoded it
            # (``shown``), in version order; joined here. Concatenated by the server instead
            # (``string_agg``), the same answer cost PostgreSQL 0.26 ms a read, 0.12 ms as rows,
            # and this process no more (issue 16, ADR 0014 addendum).
            rows = self.store.tuples(
                "SELECT 0 AS part, NULL::integer AS version, NULL AS hash, NULL AS type,"
                f" doc AS text FROM {summary} WHERE case_id = %s"
                " UNION ALL"
                f" SELECT 1, version, hash, type, shown FROM {history} WHERE case_id = %s"
                " ORDER BY part, version",
                (case_id, case_id),
            )
            if len(rows) < 2 or rows[0][0] != 0:  # no such case, or nothing projected yet
                return None

            def stored_rows() -> list[dict[str, Any]]:
                found = self.history(case_id)
                return found.entries if found is not None else []

            entries = [row[4] for row in rows[1:]]
            if None not in entries:  # else a row lacks its entry: read from the columns below
                _, version, digest, _, _ = rows[-1]
                return orjson.loads(rows[0][4]), HistoryDocument(
                    case_id,
                    version,
                    digest,
                    ("[" + ",".join(entries) + "]").encode(),
                    frozenset(row[3] for row in rows[1:]),
                    stored_rows,
                )
        found = self._case_with_history_rows(summary, history, case_id)
        if found is None:
            return None
        doc, stored = found
        shown = [{k: v for k, v in e.items() if k != "erased_summary"} | {"withheld": []}
                 for e in stored]  # fmt: skip
        return doc, HistoryDocument(
            case_id,
            stored[-1]["version"],
            stored[-1]["hash"],
            orjson.dumps(shown),
            frozenset(e["type"] for e in stored),
            lambda: stored,
        )

    def _case_with_history_rows(
        self, summary: str, history: str, case_id: str
    ) -> tuple[Doc, list[dict[str, Any]]] | None:
        rows = self.store.tuples(
            f"SELECT 0 AS part, doc, NULL AS version, NULL AS type, NULL AS recorded_at,"
            f" NULL AS occurred_on, NULL AS actor, NULL AS org, NULL AS summary, NULL AS data,"
            f" NULL AS hash, NULL AS prev_hash, NULL AS position, NULL AS erased_summary"
            f" FROM {summary} WHERE case_id = %s"
            " UNION ALL"
            " SELECT 1 AS part, NULL AS doc, version, type, recorded_at, occurred_on, actor, org,"
            " summary, data, hash, prev_hash, position, erased_summary"
            f" FROM {history} WHERE case_id = %s ORDER BY part, version",
            (case_id, case_id),
        )
        if len(rows) < 2 or rows[0][0] != 0:
            return None
        doc = orjson.loads(rows[0][1])
        entries = [
            entry(version, type_, recorded_at, occurred_on, actor, org, summary_,
                  orjson.loads(data), hash_, prev_hash, position)
            | {"erased_summary": erased_summary}
            for _, _, version, type_, recorded_at, occurred_on, actor, org, summary_, data, hash_,
            prev_hash, position, erased_summary in rows[1:]
        ]  # fmt: skip
        return doc, entries

    @_survives_swap
    def summary(self, case_id: str) -> Doc | None:
        table = self._table("case_summary", "case_summary")
        if table is None:
            return None
        rows = self._rows(f"SELECT doc FROM {table} WHERE case_id = %s", (case_id,))
        return json.loads(rows[0]["doc"]) if rows else None

    @_survives_swap
    def search(
        self,
        *,
        q: str | None = None,
        holder: str | None = None,
        office: str | None = None,
        legal_status: str | None = None,
        handover: str | None = None,
        bamf_file_number: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page:
        """Cases by name (prefix of family or given name), BAMF file number, holder, office,
        legal status and handover state, ordered by name."""
        table = self._table("case_summary", "case_summary")
        if table is None:
            return Page([], None)
        where, params = ["1 = 1"], []
        for column, value in (
            ("holder", holder),
            ("office", office),
            ("legal_status", legal_status),
            ("handover_state", handover),
            ("bamf_file_number", bamf_file_number and _number(bamf_file_number)),
        ):
            if value is not None:
                where.append(f"{column} = %s")
                params.append(value)
        if q:
            clause, found = _text_search(q)
            where.append(clause)
            params += found
        counted = (" AND ".join(where), list(params))
        if cursor:
            last_name, last_id = decode_cursor(cursor, str, str)
            where.append("(name_key > %s OR (name_key = %s AND case_id > %s))")
            params += [last_name, last_name, last_id]
        limit = max(1, min(limit, MAX_LIMIT))
        rows = self._rows(
            f"SELECT case_id, doc, name_key FROM {table} WHERE {' AND '.join(where)}"
            f" ORDER BY name_key, case_id LIMIT {limit + 1}",
            params,
        )
        items = [json.loads(r["doc"]) for r in rows[:limit]]
        more = len(rows) > limit
        last = rows[limit - 1] if more else None
        total = (
            len(items)
            if not cursor and not more
            else self._rows(f"SELECT COUNT(*) AS n FROM {table} WHERE {counted[0]}", counted[1])[0][
                "n"
            ]
        )
        next_cursor = encode_cursor(last["name_key"], last["case_id"]) if last else None
        return Page(items, next_cursor, int(total))

    @_survives_swap
    def handovers(
        self,
        *,
        org: str,
        direction: str,
        state: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
        overdue_only: bool = False,
        now: datetime | None = None,
    ) -> Page:
        """Offers to (incoming) or from (outgoing) ``org``, oldest first, with age and overdue."""
        table = self._table("case_summary", "handovers")
        if table is None:
            return Page([], None)
        column = "to_org" if direction == "incoming" else "from_org"
        where, params = [f"{column} = %s"], [org]
        if state is not None:
            where.append("state = %s")
            params.append(state)
        if overdue_only:
            today = policy.day_in_germany(now or datetime.now(UTC)).isoformat()  # ADR 0022
            where.append("state = 'offered' AND due_on < %s")
            params.append(today)
        if cursor:
            last_at, last_id, last_version = decode_cursor(cursor, str, str, int)
            where.append(
                "(offered_at > %s OR (offered_at = %s AND (case_id > %s"
                " OR (case_id = %s AND offer_version > %s))))"
            )
            params += [last_at, last_at, last_id, last_id, last_version]
        limit = max(1, min(limit, MAX_LIMIT))
        rows = self._rows(
            f"SELECT doc FROM {table} WHERE {' AND '.join(where)}"
            f" ORDER BY offered_at, case_id, offer_version LIMIT {limit + 1}",
            params,
        )
        docs = [json.loads(r["doc"]) for r in rows]
        items = [with_age(d, now) for d in docs[:limit]]
        last = docs[limit - 1] if len(docs) > limit else None
        next_cursor = (
            encode_cursor(last["offered_at"], last["case_id"], last["offer_version"])
            if last
            else None
        )
        return Page(items, next_cursor)

    def handovers_due(self, *, holder: str, limit: int = 50, cursor: str | None = None) -> Page:
        """Cases whose Rechtskreiswechsel is due and that nobody has been offered yet."""
        return self.search(holder=holder, handover="due", limit=limit, cursor=cursor)

    @_survives_swap
    def statistics(
        self,
        *,
        org: str,
        now: datetime | None = None,
        start: date | None = None,
        end: date | None = None,
    ) -> dict[str, Any]:
        """Caseload and statistics for the working group or a team lead, from the summaries,
        for the whole time or the days ``start``..``end`` (``adapters.views.statistics``). Also
        the cases ``org`` handed over: it registered them, and held them on a period's last day
        before the handover."""
        table = self._table("case_summary", "case_summary")
        offers = self._table("case_summary", "handovers")
        if table is None or offers is None:
            return case_statistics([], now or datetime.now(UTC), start, end, org)
        # two selects, so each keeps its index
        statement = (
            f"SELECT doc FROM {table} WHERE holder = %s"
            f" UNION ALL SELECT doc FROM {table} WHERE holder <> %s AND case_id IN"
            f" (SELECT case_id FROM {offers} WHERE from_org = %s AND state = 'accepted')"
        )
        params = [org, org, org]
        docs = [json.loads(r["doc"]) for r in self._rows(statement, params)]
        return case_statistics(docs, now or datetime.now(UTC), start, end, org)


def with_age(handover: dict[str, Any], now: datetime | None = None) -> dict[str, Any]:
    now = now or datetime.now(UTC)
    offered_at = datetime.fromisoformat(handover["offered_at"])
    today = policy.day_in_germany(now)  # due_on is a German day (ADR 0022)
    overdue = handover["state"] == "offered" and date.fromisoformat(handover["due_on"]) < today
    return {**handover, "age_days": (now - offered_at).days, "overdue": overdue}


def _text_search(q: str) -> tuple[str, list[str]]:
    """The search text as SQL (``domain.search_terms``): every word begins a word of the search
    key, or the digits are part of the BAMF file number (its separator dropped)."""
    found = terms(q)
    words = [w for w in (_like(w) for w in found.words) if w]
    clauses, params = [], []
    if words:
        clauses.append(
            "(" + " AND ".join(["(search_key LIKE %s OR search_key LIKE %s)"] * len(words)) + ")"
        )
        for word in words:
            params += [f"{word}%", f"% {word}%"]
    if found.digits:
        clauses.append("REPLACE(bamf_file_number, '-', '') LIKE %s")
        params.append(f"%{found.digits}%")
    return "(" + (" OR ".join(clauses) or "1 = 0") + ")", params


def _like(text: str) -> str:
    return text.replace("\\", "").replace("%", "").replace("_", "")


__all__ = ["BadCursorError", "CaseQueries", "History", "Page"]


def _number(text: str) -> str:
    """A BAMF file number searched for, in canonical form; text that is none matches none."""
    return normalise_or_none(text) or "-"
