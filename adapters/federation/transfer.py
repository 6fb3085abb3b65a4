"""Import a verified bundle into this deployment's store, unchanged (same ids, versions, times,
hashes), and record where it came from. Importing the same bundle twice changes nothing; a
refused bundle leaves nothing behind (one transaction, after full verification)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from eventsourcing.persistence import IntegrityError, StoredEvent

from adapters.chain_check import stored_state
from adapters.federation.authority import SENT_RECEIPTS, check_authority, sent_receipts
from adapters.federation.bundle import BundleError, VerifiedEvent, data_key_of, verify_bundle
from adapters.keystore import CaseKeys
from adapters.views.store import ViewStoreMixin
from domain.aggregates.case_events import PersonalDataErased
from domain.application import StaffelApplication

IMPORTS = (
    "CREATE TABLE IF NOT EXISTS imported_streams (case_id TEXT NOT NULL, up_to_version INTEGER"
    " NOT NULL, from_org TEXT NOT NULL, digest TEXT NOT NULL, imported_at TEXT NOT NULL,"
    " PRIMARY KEY (case_id, up_to_version))"
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


def import_bundle(
    app: StaffelApplication,
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


def _stored(app: StaffelApplication, case_id: UUID, event: VerifiedEvent) -> StoredEvent:
    state = dict(event.state)
    if event.class_version > 1:
        state["class_version"] = event.class_version
    data = app.mapper.transcoder.encode(state)
    if app.mapper.compressor:
        data = app.mapper.compressor.compress(data)
    if app.mapper.cipher:
        data = app.mapper.cipher.encrypt(data)
    return StoredEvent(case_id, event.version, event.topic, data)
