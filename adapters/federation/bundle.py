"""Handover bundles and receipts between two Staffel deployments (docs/bundle.md, protocol
``staffel-bundle/1``): the case's events 1..N in canonical form with their hashes, signed by the
sending deployment; a receipt (case id, N, digest) signed by the receiving one."""

from __future__ import annotations

import base64
import json
import types
import typing
from dataclasses import dataclass, fields, is_dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from eventsourcing.utils import resolve_topic

from adapters.chain_check import stored_state
from adapters.federation.signing import sign, verify
from adapters.keystore import CaseKeys
from domain.aggregates.case_events import CASE_EVENTS, CaseEvent
from domain.application import StaffelApplication
from domain.chain import GENESIS, event_hash, to_canonical

BUNDLE_PROTOCOL = "staffel-bundle/1"
CASE_TOPICS = frozenset(cls.TOPIC for cls in CASE_EVENTS)
RECEIPT_PROTOCOL = "staffel-receipt/1"
MAX_DEPTH = 64  # a bundle nests about 8 levels deep


class BundleError(ValueError):
    """A bundle or receipt is refused; ``version`` names the first bad event where there is one."""

    def __init__(self, reason: str, version: int | None = None) -> None:
        super().__init__(f"event {version}: {reason}" if version is not None else reason)
        self.reason, self.version = reason, version


@dataclass(frozen=True)
class VerifiedEvent:
    version: int
    topic: str
    class_version: int
    state: dict[str, Any]  # decoded (typed) state, as stored, with its hash
    hash: str


def build_bundle(
    app: StaffelApplication,
    case_id: UUID,
    sender: str,
    key: Ed25519PrivateKey,
    receiver: str | None = None,
    *,
    up_to: int | None = None,
) -> dict[str, Any]:
    """A signed bundle of the case's whole stream, for the organisation it is offered to (or
    ``receiver``: a peer that must learn of the answer to its offer). With ``up_to``: events
    1..up_to only, dated by the last of them, so the same stream always gives the same bytes."""
    case = app.get_case(case_id)
    receiver = receiver or (case.handover.to_org if case.handover else None)
    if receiver is None:
        raise BundleError("the case has no open handover offer: name the receiving organisation")
    events = []
    for stored in app.recorder.select_events(case_id, lte=up_to):
        class_version, state = stored_state(app.mapper, stored)
        encoded_state = dict(state)
        if class_version > 1:
            encoded_state["class_version"] = class_version
        events.append({
            "version": stored.originator_version,
            "topic": stored.topic,
            "class_version": class_version,
            "state": {k: to_canonical(v) for k, v in state.items() if k != "hash"},
            "encoded": app.mapper.transcoder.encode(encoded_state).decode("utf-8"),
            "hash": state["hash"],
        })  # fmt: skip
    return sign(
        {
            "protocol": BUNDLE_PROTOCOL,
            "case_id": str(case_id),
            "sender": sender,
            "receiver": receiver,
            "version": events[-1]["version"] if up_to else case.version,
            "digest": events[-1]["hash"] if up_to else case.digest,
            "created_at": events[-1]["state"]["timestamp"]
            if up_to
            else datetime.now(UTC).isoformat(),
            "events": events,
            "data_key": data_key_text(app, case_id),
        },
        key,
    )


def data_key_text(app: StaffelApplication, case_id: UUID) -> str | None:
    """The case's data key for the receiver to open the sealed fields (ADR 0008), base64; None
    when the case's personal data are erased (or it has no key). The bundle travels over TLS
    between the two authorities' servers and is stored by neither side."""
    if not isinstance(app.keys, CaseKeys):
        return None
    key = app.keys.stored_keys([case_id]).get(case_id)
    return None if key is None else base64.b64encode(key).decode("ascii")


def data_key_of(bundle: dict[str, Any]) -> bytes | None:
    text = bundle.get("data_key")
    if text is None:
        return None
    try:
        key = base64.b64decode(str(text), validate=True)
    except ValueError as e:
        raise BundleError(f"data_key is not base64: {e}") from e
    if len(key) != 32:
        raise BundleError("data_key must be 32 bytes")
    return key


def parse(raw: bytes | str) -> dict[str, Any]:
    try:
        document = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as e:
        raise BundleError(f"not valid JSON (truncated?): {e}") from e
    except RecursionError as e:
        raise BundleError(f"nested deeper than {MAX_DEPTH} levels") from e
    if not isinstance(document, dict):
        raise BundleError("not a JSON object")
    check_depth(document)
    return document


def check_depth(document: Any) -> None:
    """Refuse a document nested deeper than any bundle or receipt is (``MAX_DEPTH``) before
    anything walks it recursively (signature, hashes, typed decoding)."""
    level: list[tuple[Any, int]] = [(document, 1)]
    while level:
        value, depth = level.pop()
        if depth > MAX_DEPTH:
            raise BundleError(f"nested deeper than {MAX_DEPTH} levels")
        if isinstance(value, dict):
            level.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            level.extend((v, depth + 1) for v in value)


def verify_bundle(
    app: StaffelApplication, bundle: dict[str, Any], sender_key: Ed25519PublicKey
) -> list[VerifiedEvent]:
    """Check protocol, the signature and the whole chain; return the events, typed, in order."""
    check_depth(bundle)
    if bundle.get("protocol") != BUNDLE_PROTOCOL:
        raise BundleError(
            f"unknown protocol {bundle.get('protocol')!r}, expected {BUNDLE_PROTOCOL}"
        )
    # who signed it first: nothing in a document of unknown origin is worth reading (issue 13)
    if not verify(bundle, sender_key):
        raise BundleError(f"the signature does not verify with the key of {bundle.get('sender')!r}")
    try:
        case_id = UUID(str(bundle["case_id"]))
        raw_events = list(bundle["events"])
        version, digest = int(bundle["version"]), str(bundle["digest"])
    except (KeyError, ValueError, TypeError) as e:
        raise BundleError(f"missing or malformed field: {e}") from e
    if not raw_events:
        raise BundleError("the bundle holds no events", 1)
    verified: list[VerifiedEvent] = []
    head = GENESIS
    versions = {raw.get("version") for raw in raw_events if isinstance(raw, dict)}
    for position, raw in enumerate(raw_events, start=1):
        if isinstance(raw, dict) and raw.get("version") != position:
            what = "out of order" if position in versions else "missing"
            found = raw.get("version")
            raise BundleError(f"{what} (version {found} stands in its place)", position)
        event = _verify_event(app, case_id, raw, position, head)
        verified.append(event)
        head = event.hash
    if len(verified) != version:
        raise BundleError(
            f"the bundle names version {version} but holds {len(verified)} events",
            len(verified) + 1,
        )
    if head != digest:
        raise BundleError("the last event's hash is not the bundle's digest", version)
    return verified


def _verify_event(
    app: StaffelApplication, case_id: UUID, raw: Any, position: int, head: str
) -> VerifiedEvent:
    try:
        version, topic = int(raw["version"]), str(raw["topic"])
        class_version, claimed = int(raw["class_version"]), str(raw["hash"])
        canonical_state, encoded = dict(raw["state"]), str(raw["encoded"])
    except (KeyError, ValueError, TypeError) as e:
        raise BundleError(f"malformed event: {e}", position) from e
    if version != position:
        what = "missing" if version > position else "out of order"
        raise BundleError(
            f"expected version {position}, found {version}: an event is {what}", position
        )
    if topic not in CASE_TOPICS:  # before anything resolves it: never import what a peer names
        raise BundleError(f"{topic!r} is not an event of a case", version)
    try:
        recomputed = event_hash(case_id, version, topic, class_version, canonical_state)
    except (TypeError, ValueError) as e:  # e.g. a float: no canonical form
        raise BundleError(f"state has no canonical form: {type(e).__name__}", version) from e
    if recomputed != claimed:
        raise BundleError("content does not match its hash (changed)", version)
    if canonical_state.get("prev_hash") != head:
        raise BundleError("prev_hash does not link to the previous event", version)
    try:
        state: dict[str, Any] = app.mapper.transcoder.decode(encoded.encode("utf-8"))
        event_class = resolve_topic(topic)
    except Exception as e:
        raise BundleError(f"encoded form cannot be read: {e}", version) from e
    state.pop("class_version", None)
    if not (isinstance(event_class, type) and issubclass(event_class, CaseEvent)):
        raise BundleError(f"{topic} is not an event of a case", version)
    if wrong := _wrongly_typed(state, typing.get_type_hints(event_class)):
        raise BundleError(f"encoded form gives {wrong} another type than the event's", version)
    try:
        decoded = {k: to_canonical(v) for k, v in state.items() if k != "hash"}
    except (TypeError, ValueError) as e:
        raise BundleError(f"encoded form has no canonical form: {type(e).__name__}", version) from e
    if decoded != canonical_state:
        raise BundleError("encoded form differs from the canonical state", version)
    if state.get("hash") != claimed:
        raise BundleError("encoded hash differs from the event's hash", version)
    return VerifiedEvent(version, topic, class_version, state, claimed)


@dataclass(frozen=True)
class Receipt:
    case_id: UUID
    version: int
    digest: str
    decision: str  # accepted | rejected
    receiver: str
    decided_by: str
    reason: str | None


def _wrongly_typed(state: dict[str, Any], hints: dict[str, Any]) -> str | None:
    """The first field whose decoded value is not of the type the event class declares: the
    canonical form cannot tell a date from its ISO string, nor an enum from its value."""
    for name, value in state.items():
        if name in hints and not _is_a(value, hints[name]):
            return name
    return None


def _is_a(value: Any, hint: Any) -> bool:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return any(_is_a(value, arg) for arg in typing.get_args(hint))
    if typing.get_origin(hint) is tuple:
        item = typing.get_args(hint)[0]
        return isinstance(value, tuple) and all(_is_a(v, item) for v in value)
    if hint is type(None):
        return value is None
    if not isinstance(hint, type):
        return True  # a type variable (the originator id): checked by the hash
    if not isinstance(value, hint) or (hint is int and isinstance(value, bool)):
        return False
    if is_dataclass(hint):
        nested = typing.get_type_hints(hint)
        return all(_is_a(getattr(value, f.name), nested[f.name]) for f in fields(hint))
    return True


def build_receipt(
    case_id: UUID,
    version: int,
    digest: str,
    receiver: str,
    decided_by: str,
    key: Ed25519PrivateKey,
    *,
    decision: str = "accepted",
    reason: str | None = None,
) -> dict[str, Any]:
    """The receiving organisation's signed answer to an offer: it acknowledges the stream up to
    ``version`` by its ``digest`` and accepts, or rejects with a reason."""
    return sign(
        {
            "protocol": RECEIPT_PROTOCOL,
            "case_id": str(case_id),
            "version": version,
            "digest": digest,
            "receiver": receiver,
            "decision": decision,
            "decided_by": decided_by,
            "reason": reason,
            "decided_at": datetime.now(UTC).isoformat(),
        },
        key,
    )


def verify_receipt(receipt: dict[str, Any], receiver_key: Ed25519PublicKey) -> Receipt:
    check_depth(receipt)
    if receipt.get("protocol") != RECEIPT_PROTOCOL:
        raise BundleError(
            f"unknown protocol {receipt.get('protocol')!r}, expected {RECEIPT_PROTOCOL}"
        )
    if not verify(receipt, receiver_key):
        raise BundleError(
            f"the receipt's signature does not verify for {receipt.get('receiver')!r}"
        )
    try:
        decision = str(receipt["decision"])
        if decision not in ("accepted", "rejected"):
            raise ValueError(f"decision must be accepted or rejected, not {decision!r}")
        return Receipt(
            UUID(str(receipt["case_id"])),
            int(receipt["version"]),
            str(receipt["digest"]),
            decision,
            str(receipt["receiver"]),
            str(receipt["decided_by"]),
            None if receipt.get("reason") is None else str(receipt["reason"]),
        )
    except (KeyError, ValueError, TypeError) as e:
        raise BundleError(f"missing or malformed field: {e}") from e
