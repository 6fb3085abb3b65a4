"""Who may author which event in a bundle (ADR 0006, issue 13): a peer may only add to a case it
holds, and never speaks for us. The receipts we sign are recorded, so that the sender's
confirming bundle may carry exactly our answer in our name and nothing else."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from adapters.federation.bundle import BundleError, VerifiedEvent
from adapters.views.store import ViewStoreMixin

SENT_RECEIPTS = (
    "CREATE TABLE IF NOT EXISTS sent_receipts (case_id TEXT NOT NULL, version INTEGER NOT NULL,"
    " digest TEXT NOT NULL, decision TEXT NOT NULL, decided_by TEXT NOT NULL, receiver TEXT NOT"
    " NULL, decided_at TEXT NOT NULL)"
)
ANSWERS = frozenset({"HandoverAccepted", "HandoverRejected", "JurisdictionChanged"})


@dataclass(frozen=True)
class SentReceipt:
    """A receipt this deployment signed: our answer to a peer's offer."""

    version: int
    digest: str
    decision: str
    decided_by: str
    receiver: str


def check_authority(
    events: list[VerifiedEvent],
    held: int,
    sender: str,
    receiver: str,
    local: Callable[[str], bool],
    receipts: Iterable[SentReceipt] = (),
) -> None:
    """Who may author which event in a bundle (ADR 0006). The bundle must be meant for one of
    our organisations. Events up to ``held`` are ours already (the caller compares their hashes).
    Every later event must be recorded by the holder at that point, or be the offered
    organisation's answer; the first of them by the sender. And a peer never speaks for us: a
    later event in the name of one of our organisations is refused unless it is the answer we
    signed a receipt for (``receipts``), or the jurisdiction change that follows our acceptance.
    """
    if not local(receiver):
        raise BundleError(f"the bundle is addressed to {receiver!r}, not to this deployment")
    signed = list(receipts)
    holder, offered_to, offered_at, accepted_at = "", None, 0, 0
    for event in events:
        kind = event.topic.rsplit(".", 1)[-1]
        org = str(event.state.get("org"))
        if kind == "CaseRegistered":
            holder = str(event.state.get("holder"))
        if event.version > held:
            if local(org):
                if not _ours(event, kind, org, (offered_to, offered_at), accepted_at, signed):
                    raise BundleError(
                        f"{kind} is in the name of {org!r}, one of our organisations, which"
                        " never recorded it: a peer never speaks for us",
                        event.version,
                    )
                accepted_at = event.version if kind == "HandoverAccepted" else accepted_at
            if event.version == held + 1 and holder != sender:
                raise BundleError(f"{sender!r} does not hold the case here", event.version)
            if org != holder and not (org == offered_to and kind in ANSWERS):
                raise BundleError(f"recorded by {org!r}, who may not write here", event.version)
        if kind == "HandoverOffered":
            offered_to, offered_at = str(event.state.get("to_org")), event.version
        elif kind in ("HandoverRejected", "HandoverWithdrawn"):
            offered_to = None
        elif kind == "JurisdictionChanged":
            holder, offered_to = str(event.state.get("to_org")), None


def _ours(
    event: VerifiedEvent,
    kind: str,
    org: str,
    offer: tuple[str | None, int],
    accepted_at: int,
    signed: list[SentReceipt],
) -> bool:
    """Whether an event in the name of our ``org`` is what we said: our answer to the open offer
    made to us (``offer``: to whom, at which version), as in a receipt we signed for that offer,
    or the jurisdiction change right after our acceptance. A receipt stands for one event only:
    it is taken from ``signed`` when used."""
    state = event.state
    offered_to, offered_at = offer
    if kind == "JurisdictionChanged":
        return accepted_at == event.version - 1 and state.get("to_org") == org
    if kind not in ("HandoverAccepted", "HandoverRejected") or offered_to != org:
        return False
    for r in signed:
        if (r.receiver, r.decided_by) != (org, state.get("actor")):
            continue
        # the receipt answers this offer: signed on a version holding the offer, before this event
        answers_offer = offered_at <= r.version < event.version
        if kind == "HandoverAccepted" and r.decision == "accepted":
            if (r.version, r.digest) == (state.get("version"), state.get("digest")):
                signed.remove(r)
                return True
        elif kind == "HandoverRejected" and r.decision == "rejected" and answers_offer:
            signed.remove(r)
            return True
    return False


def remember_receipt(store: ViewStoreMixin, receipt: dict[str, Any]) -> None:
    """Record a receipt we signed: the sender's confirming bundle may then carry that answer in
    our name (``check_authority``)."""
    with store.cursor(commit=True) as curs:
        curs.execute(
            store.sql("INSERT INTO sent_receipts VALUES (%s, %s, %s, %s, %s, %s, %s)"),
            (str(receipt["case_id"]), int(receipt["version"]), str(receipt["digest"]),
             str(receipt["decision"]), str(receipt["decided_by"]), str(receipt["receiver"]),
             str(receipt["decided_at"])),
        )  # fmt: skip


def sent_receipts(store: ViewStoreMixin, case_id: UUID) -> list[SentReceipt]:
    with store.cursor() as curs:
        curs.execute(
            store.sql(
                "SELECT version, digest, decision, decided_by, receiver FROM sent_receipts"
                " WHERE case_id = %s"
            ),
            (str(case_id),),
        )
        return [
            SentReceipt(int(r["version"]), r["digest"], r["decision"], r["decided_by"],
                        r["receiver"])
            for r in curs.fetchall()
        ]  # fmt: skip
