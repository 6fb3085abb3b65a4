"""The summary view's writer (``projections.summary.SummaryWriter``): one row per case with the
columns queries filter on, and the handover queues, one row per offer."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from adapters.views.batch_writer import BatchWriter, dumps, loads, text
from domain.search_terms import search_key
from projections.summary import Doc, SummaryWriter, current_handover, handover_state


class SqlSummaryWriter(BatchWriter, SummaryWriter):
    def load_summaries(self, case_ids: Iterable[str]) -> dict[str, Doc]:
        condition, params = self.keys_in("case_id", list(case_ids))
        self.curs.execute(
            self.sql(f"SELECT doc FROM {self.t('case_summary')} WHERE {condition}"), params
        )
        return {d["case_id"]: d for d in (loads(row["doc"]) for row in self.curs.fetchall())}

    def save_summaries(self, docs: Sequence[Doc]) -> None:
        self.replace(self.t("case_summary"), SUMMARY_COLUMNS, [summary_row(d) for d in docs])

    def save_handovers(self, docs: Sequence[Doc]) -> None:
        self.delete_keys(self.t("handovers"), "case_id", sorted(d["case_id"] for d in docs))
        rows = [
            (h["case_id"], h["offer_version"], h["from_org"], h["to_org"], h["state"],
             h["offered_at"], h["due_on"], dumps(h))
            for d in docs for h in d["handovers"]
        ]  # fmt: skip
        self.insert(self.t("handovers"), HANDOVER_COLUMNS, rows)


SUMMARY_COLUMNS = (
    "case_id", "doc", "holder", "office", "caseworker", "legal_status", "handover_state",
    "handover_to", "name_key", "bamf_file_number", "registered_on", "closed", "support_need",
    "version", "last_activity", "position", "search_key",
)  # fmt: skip
HANDOVER_COLUMNS = (
    "case_id", "offer_version", "from_org", "to_org", "state", "offered_at", "due_on", "doc",
)  # fmt: skip


def summary_row(doc: Doc) -> tuple[Any, ...]:
    person = doc["person"]
    handover = current_handover(doc)
    support = doc["support_need"]
    return (
        doc["case_id"], dumps(doc), doc["holder"], doc["office"], doc["caseworker"],
        doc["legal_status"], handover_state(doc),
        handover["to_org"] if handover and handover["state"] == "offered" else None,
        name_key(person["family_name"], person["given_name"]), doc["bamf_file_number"],
        doc["registered_on"], int(doc["closed"]), None if support is None else int(support),
        doc["version"], doc["last_activity"], doc.get("position", 0),
        text(search_key(person["family_name"], person["given_name"], person.get("birth_date"))),
    )  # fmt: skip


def name_key(family_name: str, given_name: str) -> str:
    return text(f"{family_name} {given_name}".casefold())
