"""The matching view's writer (``projections.matching_view.MatchingWriter``): one row per
document (its ``doc`` and the columns queries filter on), plus, for a person, one row per open
consent (``match_shares``) and per mentor (``match_mentors``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from adapters.views.batch_writer import BatchWriter, dumps, loads, text
from domain.matching import occupation_key
from projections.matching_view import MatchingWriter
from projections.partner_docs import Doc


def _bars(values: Iterable[str]) -> str:
    """``|a|b|``: a list a ``LIKE '%|a|%'`` finds exactly."""
    return "|" + "|".join(text(v).replace("|", "/") for v in values) + "|"


def _case(d: Doc) -> tuple[Any, ...]:
    return (d["case_id"], text(d["holder"]), int(d["closed"]), text(d["municipality"]),
            d["legal_status"], d["german_level"], dumps(d["occupations"]))  # fmt: skip


def _offer(d: Doc) -> tuple[Any, ...]:
    return (d["offer_id"], d["employer_id"], d["state"], d["kind"], text(d["municipality"]),
            text(occupation_key(d["occupation"])), d["published_at"])  # fmt: skip


def _employer(d: Doc) -> tuple[Any, ...]:
    return (d["employer_id"], text(d["account"]), text(d["caring_org"]), int(d["active"]),
            text(d["name"].casefold()), _bars(d["locations"]))  # fmt: skip


def _volunteer(d: Doc) -> tuple[Any, ...]:
    return (d["volunteer_id"], text(d["organisation"]), text(d["login"]), d["state"],
            text(d["municipality"]), _bars(d["languages"]), d["capacity"], len(d["mentees"]),
            text(d["name"].casefold()))  # fmt: skip


# kind -> (table, key column, other columns, their values)
ROWS: dict[str, tuple[str, str, tuple[str, ...], Callable[[Doc], tuple[Any, ...]]]] = {
    "cases": ("match_cases", "case_id",
              ("holder", "closed", "municipality", "legal_status", "german_level", "occupations"),
              _case),
    "offers": ("match_offers", "offer_id",
               ("employer_id", "state", "kind", "municipality", "occupation_key", "published_at"),
               _offer),
    "employers": ("match_employers", "employer_id",
                  ("account", "caring_org", "active", "name_key", "locations"), _employer),
    "volunteers": ("match_volunteers", "volunteer_id",
                   ("organisation", "login", "state", "municipality", "languages", "capacity",
                    "mentees", "name_key"), _volunteer),
}  # fmt: skip


def _links(d: Doc) -> tuple[Any, Any]:
    return d["consents"], d["mentors"]


class SqlMatchingWriter(BatchWriter, MatchingWriter):
    """A person's consent and mentor rows are rewritten only when they changed in the batch:
    most events (a recognition, a handover) change neither."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._stored_links: dict[str, tuple[Any, Any]] = {}  # case_id -> as its rows hold them

    def load_docs(self, kind: str, ids: Iterable[str]) -> dict[str, Doc]:
        table, key, _, _ = ROWS[kind]
        condition, params = self.keys_in(key, list(ids))
        self.curs.execute(
            self.sql(f"SELECT {key}, doc FROM {self.t(table)} WHERE {condition}"), params
        )
        docs = {row[key]: loads(row["doc"]) for row in self.curs.fetchall()}
        if kind == "cases":
            self._stored_links.update((case_id, _links(d)) for case_id, d in docs.items())
        return docs

    def save_docs(self, kind: str, docs: Sequence[Doc]) -> None:
        table, key, columns, values = ROWS[kind]
        self.replace(self.t(table), (key, *columns, "doc"), [(*values(d), dumps(d)) for d in docs])
        if kind == "cases":
            self._save_links(docs)

    def _save_links(self, docs: Sequence[Doc]) -> None:
        """A person's open consents and mentors, as rows the shared queries join on."""
        docs = [d for d in docs if _links(d) != self._stored_links.get(d["case_id"], ([], []))]
        self._stored_links.update((d["case_id"], _links(d)) for d in docs)
        if not docs:
            return
        ids = [d["case_id"] for d in docs]
        for table in ("match_shares", "match_mentors"):
            self.delete_keys(self.t(table), "case_id", ids)
        shares = [
            (d["case_id"], text(c["consent_id"]), c["purpose"], text(c["recipient"]),
             dumps(c["scope"]))
            for d in docs for c in d["consents"]
        ]  # fmt: skip
        self.insert(
            self.t("match_shares"),
            ("case_id", "consent_id", "purpose", "recipient", "scope"),
            shares,
        )
        mentors = {(text(m["volunteer_id"]), d["case_id"]) for d in docs for m in d["mentors"]}
        self.insert(self.t("match_mentors"), ("volunteer_id", "case_id"), sorted(mentors))
