"""A receipt is answered once (issue 13). The first answer to a peer's receipt (the confirming
bundle of the stream up to the decision) is stored under the receipt's case and version; every
later receipt for them gets exactly those bytes back, or is refused. Nothing recorded after the
decision ever leaves with an answer, and each answer sent is recorded as a disclosure.

The stored answer holds the bundle without the case's data key (``data_key`` is null, and
``with_key`` says whether the first answer carried it): the key stays in the keystore alone, so
erasure still destroys it, and a replay after the erasure is refused instead of answered."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from adapters.federation.bundle import BundleError, Receipt, data_key_text
from adapters.views.store import ViewStoreMixin
from domain.application import StaffelApplication

TABLES = (
    "CREATE TABLE IF NOT EXISTS receipt_answers (case_id TEXT NOT NULL, version INTEGER NOT"
    " NULL, receiver TEXT NOT NULL, digest TEXT NOT NULL, decision TEXT NOT NULL, answer TEXT"
    " NOT NULL, with_key INTEGER NOT NULL, answered_at TEXT NOT NULL,"
    " PRIMARY KEY (case_id, version))",
    "CREATE TABLE IF NOT EXISTS peer_disclosures (id TEXT PRIMARY KEY, case_id TEXT NOT NULL,"
    " peer TEXT NOT NULL, kind TEXT NOT NULL, version INTEGER NOT NULL, channel TEXT NOT NULL,"
    " at TEXT NOT NULL)",
)


class AlreadyAnsweredError(BundleError):
    """A receipt for a case and version that were answered otherwise, or can no longer be."""


@dataclass(frozen=True)
class ReceiptAnswer:
    body: dict[str, Any]  # {case_id, version, digest, position, bundle}
    first: bool  # False: a replay of the stored first answer

    @property
    def bytes(self) -> bytes:
        return render(self.body)

    @property
    def bundle(self) -> dict[str, Any]:
        bundle: dict[str, Any] = self.body["bundle"]
        return bundle


def render(document: dict[str, Any]) -> bytes:
    """The one serialisation of an answer: the same document always gives the same bytes."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def ensure_tables(store: ViewStoreMixin) -> None:
    with store.cursor(commit=True) as curs:
        for statement in TABLES:
            curs.execute(statement)


def stored_answer(
    app: StaffelApplication, store: ViewStoreMixin, receipt: Receipt
) -> dict[str, Any] | None:
    """The first answer to a receipt for this case and version; None if there was none. Refused
    (``AlreadyAnsweredError``) if it answered another receiver, stream or decision, or if it
    carried the data key and the case's personal data have been erased since."""
    with store.cursor() as curs:
        curs.execute(
            store.sql(
                "SELECT receiver, digest, decision, answer, with_key FROM receipt_answers"
                " WHERE case_id = %s AND version = %s"
            ),
            (str(receipt.case_id), receipt.version),
        )
        row = curs.fetchone()
    if row is None:
        return None
    if (row["receiver"], row["digest"], row["decision"]) != (
        receipt.receiver,
        receipt.digest,
        receipt.decision,
    ):
        raise AlreadyAnsweredError(
            f"version {receipt.version} of case {receipt.case_id} was already answered"
            f" ({row['decision']} by {row['receiver']}): a receipt is answered once"
        )
    body: dict[str, Any] = json.loads(row["answer"])
    if row["with_key"]:
        key = data_key_text(app, receipt.case_id)
        if key is None:
            raise AlreadyAnsweredError(
                f"version {receipt.version} of case {receipt.case_id} was already answered, and"
                " the case's personal data have been erased since: the answer is not sent again"
            )
        body["bundle"]["data_key"] = key
    return body


def store_answer(store: ViewStoreMixin, receipt: Receipt, body: dict[str, Any]) -> bool:
    """Store the first answer; False if another process stored one first (that one wins)."""
    bundle = dict(body["bundle"])
    with_key = bundle.get("data_key") is not None
    bundle["data_key"] = None  # the key stays in the keystore, where erasure reaches it
    with store.cursor(commit=True) as curs:
        curs.execute(
            store.sql(
                "INSERT INTO receipt_answers VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (case_id, version) DO NOTHING RETURNING version"
            ),
            (str(receipt.case_id), receipt.version, receipt.receiver, receipt.digest,
             receipt.decision, render({**body, "bundle": bundle}).decode("utf-8"),
             1 if with_key else 0, datetime.now(UTC).isoformat()),
        )  # fmt: skip
        return curs.fetchone() is not None


def record_disclosure(
    store: ViewStoreMixin, case_id: str, peer: str, kind: str, version: int, channel: str
) -> None:
    """What a peer received: listed in the subject access report
    (``service_layer.subject_access``)."""
    with store.cursor(commit=True) as curs:
        curs.execute(
            store.sql("INSERT INTO peer_disclosures VALUES (%s, %s, %s, %s, %s, %s, %s)"),
            (str(uuid.uuid4()), case_id, peer, kind, version, channel,
             datetime.now(UTC).isoformat()),
        )  # fmt: skip


def disclosures(store: ViewStoreMixin, case_id: str) -> list[dict[str, Any]]:
    with store.cursor() as curs:
        curs.execute(
            store.sql(
                "SELECT peer, kind, version, channel, at FROM peer_disclosures"
                " WHERE case_id = %s ORDER BY at, id"
            ),
            (case_id,),
        )
        return [dict(r) for r in curs.fetchall()]
