"""Import a verified bundle into this deployment's store, unchanged (same ids, versions, times,
hashes), and record where it came from. Importing the same bundle twice changes nothing; a
refused bundle leaves nothing behind (one transaction, after full verification)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from eventsourcing.persistence import IntegrityError, StoredEvent

from adapters.chain_check import stored_state
from adapters.federation.bundle import BundleError, VerifiedEvent, data_key_of, verify_bundle
from adapters.keystore import CaseKeys
from adapters.views.store import ViewStoreMixin
from domain.aggregates.case_events import PersonalDataErased
from domain.application import CaseApplication

IMPORTS = (
    "CREATE TABLE IF NOT EXISTS imported_streams (case_id TEXT NOT NULL, up_to_version INTEGER"
    " NOT NULL, from_org TEXT NOT NULL, digest TEXT NOT NULL, imported_at TEXT NOT NULL,"
    " PRIMARY KEY (case_id, up_to_version))"
)

SENT_RECEIPTS = (
    "CREATE TABLE IF NOT EXISTS sent_receipts (case_id TEXT NOT NULL, version INTEGER NOT NULL,"
    " digest TEXT NOT NULL, decision TEXT NOT NULL, decided_by TEXT NOT NULL, receiver TEXT NOT"
    " NULL, decided_at TEXT NOT NULL)"
)


@dataclass(frozen=True)
class Imported:
    case_id: UUID
    version: int
    digest: str
    new_events: int
    position: int


def ensure_tables(store: ViewStoreMixin) -> None:
    with store.cursor(commit=True) as curs:
        curs.execute(IMPORTS)
        curs.execute(SENT_RECEIPTS)


ERASED_TOPIC = PersonalDataErased.TOPIC
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
    holder, offered_to, accepted_at = "", None, 0
    for event in events:
        kind = event.topic.rsplit(".", 1)[-1]
        org = str(event.state.get("org"))
        if kind == "CaseRegistered":
            holder = str(event.state.get("holder"))
        if event.version > held:
            if local(org):
                if not _ours(event, kind, org, offered_to, accepted_at, signed):
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
            offered_to = str(event.state.get("to_org"))
        elif kind in ("HandoverRejected", "HandoverWithdrawn"):
            offered_to = None
        elif kind == "JurisdictionChanged":
            holder, offered_to = str(event.state.get("to_org")), None


def _ours(
    event: VerifiedEvent,
    kind: str,
    org: str,
    offered_to: str | None,
    accepted_at: int,
    signed: list[SentReceipt],
) -> bool:
    """Whether an event in the name of our ``org`` is what we said: our answer to an offer made
    to us, as in a receipt we signed, or the jurisdiction change right after our acceptance."""
    state = event.state
    if kind == "JurisdictionChanged":
        return accepted_at == event.version - 1 and state.get("to_org") == org
    if kind not in ("HandoverAccepted", "HandoverRejected") or offered_to != org:
        return False
    for r in signed:
        if (r.receiver, r.decided_by) != (org, state.get("actor")):
            continue
        if kind == "HandoverAccepted" and r.decision == "accepted":
            if (r.version, r.digest) == (state.get("version"), state.get("digest")):
                return True
        elif kind == "HandoverRejected" and r.decision == "rejected" and r.version < event.version:
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


def import_bundle(
    app: CaseApplication,
    store: ViewStoreMixin,
    bundle: dict[str, Any],
    sender_key: Ed25519PublicKey,
    local: Callable[[str], bool] | None = None,
) -> Imported:
    """``local`` tells whether an organisation is one of this deployment's own (without it: the
    organisation the bundle is addressed to, and no other)."""
    events = verify_bundle(app, bundle, sender_key)
    if local is None:
        local = str(bundle.get("receiver")).__eq__
    case_id = UUID(bundle["case_id"])
    existing = list(app.recorder.select_events(case_id))
    for stored, incoming in zip(existing, events, strict=False):
        _, state = stored_state(app.mapper, stored)
        if state.get("hash") != incoming.hash:
            raise BundleError(
                "this deployment holds a different event at this version: the streams diverged",
                incoming.version,
            )
    # an older bundle delivered late is a consistent prefix of what is held: nothing to do
    new = events[len(existing) :]
    check_authority(
        events, len(existing), str(bundle["sender"]), str(bundle.get("receiver")), local,
        sent_receipts(store, case_id),
    )  # fmt: skip
    position = 0
    data_key = data_key_of(bundle)
    erased = any(e.topic == ERASED_TOPIC for e in events)
    keys = app.keys.adopt(case_id, data_key) if isinstance(app.keys, CaseKeys) else []
    if new:
        try:
            ids = app.recorder.insert_events(
                [_stored(app, case_id, e) for e in new], case_keys=None if erased else keys
            )
        except IntegrityError:  # the same bundle imported concurrently: it is there now
            held = list(app.recorder.select_events(case_id))
            if (
                len(held) < len(events)
                or stored_state(app.mapper, held[len(events) - 1])[1].get("hash") != events[-1].hash
            ):
                raise
            ids = []
        position = max(ids) if ids else 0
    if erased and isinstance(app.keys, CaseKeys):  # erased at the sender: here too
        app.keys.erase(case_id)
    with store.cursor(commit=True) as curs:  # also after a crash between the two writes
        curs.execute(
            store.sql(
                "INSERT INTO imported_streams VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING"
            ),
            (str(case_id), events[-1].version, str(bundle["sender"]), events[-1].hash,
             datetime.now(UTC).isoformat()),
        )  # fmt: skip
    return Imported(case_id, events[-1].version, events[-1].hash, len(new), position)


def _stored(app: CaseApplication, case_id: UUID, event: VerifiedEvent) -> StoredEvent:
    state = dict(event.state)
    if event.class_version > 1:
        state["class_version"] = event.class_version
    data = app.mapper.transcoder.encode(state)
    if app.mapper.compressor:
        data = app.mapper.compressor.compress(data)
    if app.mapper.cipher:
        data = app.mapper.cipher.encrypt(data)
    return StoredEvent(case_id, event.version, event.topic, data)
