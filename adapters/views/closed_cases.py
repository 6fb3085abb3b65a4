"""The closed cases as the case summary holds them, for the retention run to decide on."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from adapters.views import schema
from adapters.views.store import ViewStoreMixin
from domain.retention import CaseState
from domain.values import LegalBasis

PAGE = 1000


@dataclass(frozen=True)
class Closed:
    state: CaseState
    holder: str
    version: int


def closed_cases(store: ViewStoreMixin, generation: int) -> Iterator[Closed]:
    """Every closed case's summary, page by page (keyset on the case id)."""
    table = schema.table("case_summary", generation)
    statement = store.sql(
        f"SELECT case_id, doc FROM {table} WHERE closed = 1 AND case_id > %s"
        f" ORDER BY case_id LIMIT {PAGE}"
    )
    after = ""
    while True:
        with store.cursor() as curs:
            curs.execute(statement, (after,))
            rows = [(row["case_id"], row["doc"]) for row in curs.fetchall()]
        for case_id, text in rows:
            yield _closed(case_id, json.loads(text))
        if len(rows) < PAGE:
            return
        after = rows[-1][0]


def _closed(case_id: str, doc: dict[str, Any]) -> Closed:
    closed_on = doc.get("closed_on")
    state = CaseState(
        case_id=case_id,
        legal_basis=LegalBasis(doc["legal_basis"]),
        closed_on=date.fromisoformat(closed_on) if closed_on else None,
        erased=doc.get("erased_on") is not None,
    )
    return Closed(state, doc["holder"], int(doc["version"]))
