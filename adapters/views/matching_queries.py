"""Reads from the matching projection: people (compact rows for scoring, documents for showing),
offers, employers and volunteers. Lists use keyset pagination like ``CaseQueries``."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from adapters.views import schema
from adapters.views.queries import MAX_LIMIT, Page, _like, _survives_swap, decode_cursor
from adapters.views.queries import encode_cursor as cursor_of
from adapters.views.store import ViewStoreMixin
from domain.matching import occupation_key

Doc = dict[str, Any]
PROJECTION = "matching"
SCORED = "c.case_id, c.legal_status, c.municipality, c.german_level, c.occupations"


class MatchingQueries:
    def __init__(self, store: ViewStoreMixin) -> None:
        self.store = store

    def _t(self, base: str) -> str | None:
        generation = self.store.active_generation(PROJECTION)
        return schema.table(base, generation) if generation else None

    def _rows(self, statement: str, params: Iterable[Any] = ()) -> list[dict[str, Any]]:
        with self.store.cursor() as curs:
            curs.execute(self.store.sql(statement), list(params))
            return [dict(row) for row in curs.fetchall()]

    def _docs(self, base: str, key: str, ids: list[str]) -> dict[str, Doc]:
        table = self._t(base)
        if table is None or not ids:
            return {}
        marks = ", ".join(["%s"] * len(ids))
        rows = self._rows(f"SELECT {key}, doc FROM {table} WHERE {key} IN ({marks})", ids)
        return {r[key]: json.loads(r["doc"]) for r in rows}

    # -- people -------------------------------------------------------------------------------

    @_survives_swap
    def people(self, case_ids: list[str]) -> dict[str, Doc]:
        return self._docs("match_cases", "case_id", case_ids)

    def person(self, case_id: str) -> Doc | None:
        return self.people([case_id]).get(case_id)

    @_survives_swap
    def held_by(self, holder: str) -> list[Mapping[str, Any]]:
        """Compact rows of the open cases ``holder`` holds: what scoring needs (the driver's
        rows, read by column name: copying 10,000 of them into dicts costs more than scoring)."""
        table = self._t("match_cases")
        if table is None:
            return []
        statement = f"SELECT {SCORED} FROM {table} c WHERE c.holder = %s AND c.closed = 0"
        with self.store.cursor() as curs:
            curs.execute(self.store.sql(statement), [holder])
            return list(curs.fetchall())

    @_survives_swap
    def shared_with(self, purpose: str, recipients: list[str]) -> list[dict[str, Any]]:
        """Compact rows of the open cases with an open consent for ``purpose`` to any of
        ``recipients``; ``scopes`` lists each such consent's scope."""
        cases, shares = self._t("match_cases"), self._t("match_shares")
        if cases is None or shares is None or not recipients:
            return []
        marks = ", ".join(["%s"] * len(recipients))
        rows = self._rows(
            f"SELECT {SCORED}, s.scope FROM {shares} s JOIN {cases} c ON c.case_id = s.case_id"
            f" WHERE s.purpose = %s AND s.recipient IN ({marks}) AND c.closed = 0"
            " ORDER BY c.case_id",
            [purpose, *recipients],
        )
        merged: dict[str, dict[str, Any]] = {}
        for row in rows:
            scope = json.loads(row.pop("scope"))
            merged.setdefault(row["case_id"], {**row, "scopes": []})["scopes"].append(scope)
        return list(merged.values())

    @_survives_swap
    def mentees(self, volunteer_id: str) -> list[Doc]:
        cases, mentors = self._t("match_cases"), self._t("match_mentors")
        if cases is None or mentors is None:
            return []
        rows = self._rows(
            f"SELECT c.doc FROM {mentors} m JOIN {cases} c ON c.case_id = m.case_id"
            " WHERE m.volunteer_id = %s AND c.closed = 0 ORDER BY c.case_id",
            [volunteer_id],
        )
        return [json.loads(r["doc"]) for r in rows]

    # -- offers, employers, volunteers ----------------------------------------------------------

    @_survives_swap
    def offer(self, offer_id: str) -> Doc | None:
        return self._docs("match_offers", "offer_id", [offer_id]).get(offer_id)

    @_survives_swap
    def employer(self, employer_id: str) -> Doc | None:
        return self._docs("match_employers", "employer_id", [employer_id]).get(employer_id)

    @_survives_swap
    def employers_by_id(self, ids: list[str]) -> dict[str, Doc]:
        return self._docs("match_employers", "employer_id", ids)

    @_survives_swap
    def volunteer(self, volunteer_id: str) -> Doc | None:
        return self._docs("match_volunteers", "volunteer_id", [volunteer_id]).get(volunteer_id)

    @_survives_swap
    def open_offers(self) -> list[Doc]:
        """Every open offer of an active employer."""
        offers, employers = self._t("match_offers"), self._t("match_employers")
        if offers is None or employers is None:
            return []
        rows = self._rows(
            f"SELECT o.doc FROM {offers} o JOIN {employers} e ON e.employer_id = o.employer_id"
            " WHERE o.state = 'open' AND e.active = 1"
        )
        return [json.loads(r["doc"]) for r in rows]

    @_survives_swap
    def offers(
        self, *, filters: dict[str, str | None], limit: int = 50, cursor: str | None = None
    ) -> Page:
        """Offers, newest first; ``filters``: state, kind, municipality, employer_id,
        occupation, caring_org (the organisation bundling its employers' requests)."""
        offers, employers = self._t("match_offers"), self._t("match_employers")
        if offers is None or employers is None:
            return Page([], None)
        where: list[str] = ["1 = 1"]
        params: list[Any] = []
        columns = {"state": "o.state", "kind": "o.kind", "municipality": "o.municipality",
                   "employer_id": "o.employer_id", "occupation": "o.occupation_key",
                   "caring_org": "e.caring_org"}  # fmt: skip
        for name, value in filters.items():
            if value is not None:
                where.append(f"{columns[name]} = %s")
                params.append(occupation_key(value) if name == "occupation" else value)
        if cursor:
            at, last = decode_cursor(cursor, str, str)
            where.append("(o.published_at < %s OR (o.published_at = %s AND o.offer_id < %s))")
            params += [at, at, last]
        return self._page(
            f"SELECT o.offer_id AS id, o.published_at AS at, o.doc FROM {offers} o"
            f" JOIN {employers} e ON e.employer_id = o.employer_id"
            f" WHERE {' AND '.join(where)} ORDER BY o.published_at DESC, o.offer_id DESC",
            params,
            limit,
        )

    @_survives_swap
    def employers(
        self, *, filters: dict[str, Any], limit: int = 50, cursor: str | None = None
    ) -> Page:
        """Employers by name; ``filters``: account, caring_org, municipality, active, q."""
        return self._directory("match_employers", "employer_id", filters, limit, cursor)

    @_survives_swap
    def volunteers(
        self, *, filters: dict[str, Any], limit: int = 50, cursor: str | None = None
    ) -> Page:
        """Volunteers by name; ``filters``: organisation, login, municipality, language, state,
        with_capacity, q."""
        return self._directory("match_volunteers", "volunteer_id", filters, limit, cursor)

    def _directory(
        self, base: str, key: str, filters: dict[str, Any], limit: int, cursor: str | None
    ) -> Page:
        table = self._t(base)
        if table is None:
            return Page([], None)
        where: list[str] = ["1 = 1"]
        params: list[Any] = []
        for name, value in filters.items():
            if value is None:
                continue
            if name == "municipality" and base == "match_employers":
                where.append("locations LIKE %s")
                params.append(f"%|{value}|%")
            elif name == "language":
                where.append("languages LIKE %s")
                params.append(f"%|{value}|%")
            elif name == "with_capacity":
                where.append("mentees < capacity" if value else "mentees >= capacity")
            elif name == "q":
                where.append("name_key LIKE %s")
                params.append(f"%{_like(str(value).casefold())}%")
            else:
                where.append(f"{name} = %s")
                params.append(int(value) if isinstance(value, bool) else value)
        if cursor:
            name_key, last = decode_cursor(cursor, str, str)
            where.append(f"(name_key > %s OR (name_key = %s AND {key} > %s))")
            params += [name_key, name_key, last]
        return self._page(
            f"SELECT {key} AS id, name_key AS at, doc FROM {table}"
            f" WHERE {' AND '.join(where)} ORDER BY name_key, {key}",
            params,
            limit,
        )

    def _page(self, statement: str, params: list[Any], limit: int) -> Page:
        limit = max(1, min(limit, MAX_LIMIT))
        rows = self._rows(f"{statement} LIMIT {limit + 1}", params)
        items = [json.loads(r["doc"]) for r in rows[:limit]]
        last = rows[limit - 1] if len(rows) > limit else None
        return Page(items, cursor_of(last["at"], last["id"]) if last else None)
