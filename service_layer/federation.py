"""Between deployments: a peer's bundle received, and answering an offer across deployments.
The sender's log decides: the receiver never records
its own acceptance; it sends a signed receipt, the sender records ``HandoverAccepted`` +
``JurisdictionChanged`` (or ``HandoverRejected``) and answers with a bundle of the whole stream,
which the receiver imports. So there is never a moment with two holders, and both deployments
hold the same events up to the switch."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from adapters.federation import receipts
from adapters.federation.authority import remember_receipt
from adapters.federation.bundle import (
    BundleError,
    Receipt,
    build_bundle,
    build_receipt,
    parse,
    verify_receipt,
)
from adapters.federation.signing import public_key_from_text
from adapters.federation.transfer import Imported, import_bundle
from domain.actor import Actor, acting_as
from domain.aggregates.case_errors import CaseRuleError
from domain.errors import IdempotencyKeyReusedError
from domain.writes import IdempotencyKey, Recorded
from service_layer.errors import BundleRefusedError, ReceiptAlreadyAnsweredError, UnknownPeerError
from service_layer.ports import Services


class PeerUnreachableError(Exception):
    pass


class PeerRefusedError(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail


def peer_key(services: Services, org_id: str) -> Any:
    org = services.orgs.get(org_id)
    if org is None or not org.is_remote or not org.public_key:
        raise BundleError(
            f"{org_id!r} is not a peer deployment with a key in the organisations file"
        )
    return public_key_from_text(org.public_key)


def is_local(services: Services, org_id: str) -> bool:
    """One of this deployment's own organisations."""
    org = services.orgs.get(org_id)
    return org is not None and not org.is_remote


def is_remote(services: Services, org_id: str) -> bool:
    org = services.orgs.get(org_id)
    return org is not None and org.is_remote


def refused(e: BundleError) -> BundleRefusedError:
    return BundleRefusedError(str(e), e.version)


def receive_bundle(services: Services, document: dict[str, Any]) -> Imported:
    """Import a peer's signed handover bundle: verified whole, imported unchanged, idempotent.
    Raises ``UnknownPeerError`` for a sender with no key here, ``BundleRefusedError`` for a
    bundle that does not verify."""
    sender = str(document.get("sender"))
    try:
        key = peer_key(services, sender)
    except BundleError as e:
        raise UnknownPeerError(f"sender: {e}") from e
    try:
        result = import_bundle(
            services.cases, services.supervisor.store, document, key,
            lambda org: is_local(services, org),
        )  # fmt: skip
    except BundleError as e:
        raise refused(e) from e
    services.supervisor.wake()
    return result


def answer_receipt(
    services: Services, receipt_document: dict[str, Any], channel: str | None = "http"
) -> receipts.ReceiptAnswer:
    """``record_receipt`` for an entry point: a receipt answered otherwise before raises
    ``ReceiptAlreadyAnsweredError``, one that does not verify ``BundleRefusedError``."""
    try:
        answer = record_receipt(services, receipt_document, channel)
    except receipts.AlreadyAnsweredError as e:
        raise ReceiptAlreadyAnsweredError(str(e)) from e
    except BundleError as e:
        raise refused(e) from e
    services.supervisor.wake()
    return answer


# -- the sender's side --------------------------------------------------------------------------


def record_receipt(
    services: Services, receipt_document: dict[str, Any], channel: str | None = "http"
) -> receipts.ReceiptAnswer:
    """Record a peer's answer to our offer; return the confirming bundle of the stream up to
    the decision. A receipt is answered once: one already answered gets the stored first answer
    (``receipts``), or is refused. Every answer sent is recorded as a disclosure (``channel``:
    ``http`` or ``file``; None when the answer goes nowhere)."""
    receipt = verify_receipt(
        receipt_document, peer_key(services, str(receipt_document.get("receiver")))
    )
    store = services.supervisor.store
    body = receipts.stored_answer(services.cases, store, receipt)
    first = False
    if body is None:
        recorded, bundle = _decide(services, receipt)
        body = {
            "case_id": str(recorded.id),
            "version": recorded.version,
            "digest": recorded.digest,
            "position": recorded.position,
            "bundle": bundle,
        }
        first = receipts.store_answer(store, receipt, body)
        # of two processes answering at once, both send the one stored
        body = receipts.stored_answer(services.cases, store, receipt) or body
    answer = receipts.ReceiptAnswer(body, first)
    if channel is not None:
        disclosed(services, answer, channel)
    return answer


def disclosed(services: Services, answer: receipts.ReceiptAnswer, channel: str) -> None:
    """Record that the answer went to its peer (subject access report)."""
    bundle = answer.bundle
    receipts.record_disclosure(
        services.supervisor.store, str(bundle["case_id"]), str(bundle["receiver"]), "answer",
        int(bundle["version"]), channel,
    )  # fmt: skip


def _record(services: Services, receipt: Receipt, key: IdempotencyKey) -> Recorded:
    with acting_as(Actor(receipt.decided_by, receipt.receiver)):
        if receipt.decision == "accepted":
            return services.cases.accept_handover(
                receipt.case_id, version=receipt.version, digest=receipt.digest, idempotency=key
            )
        return services.cases.reject_handover(
            receipt.case_id, reason=receipt.reason or "abgelehnt", idempotency=key
        )


def _decide(services: Services, receipt: Receipt) -> tuple[Recorded, dict[str, Any]]:
    """Record the answer in our log (idempotent by the receipt's key) and build the confirming
    bundle of the stream as it stood right after the decision, never later."""
    key = IdempotencyKey(  # the receiver too: another peer's receipt never replays this one
        f"receipt:{receipt.case_id}:{receipt.version}",
        f"{receipt.digest}:{receipt.decision}:{receipt.receiver}",
    )
    try:
        try:
            recorded = _record(services, receipt, key)
        except CaseRuleError:  # another process may have recorded this very answer meanwhile:
            recorded = _record(services, receipt, key)  # then its record answers; else refused
    except IdempotencyKeyReusedError as e:
        raise receipts.AlreadyAnsweredError(
            f"version {receipt.version} of case {receipt.case_id} was already answered"
            " otherwise: a receipt is answered once"
        ) from e
    decided = services.cases.get_case(receipt.case_id, version=recorded.version)
    # the organisation that made the offer: the holder, or the former holder once accepted
    accepted = decided.holder == receipt.receiver and decided.former_holders
    sender = decided.former_holders[-1] if accepted else decided.holder
    bundle = build_bundle(
        services.cases, receipt.case_id, sender, services.signing_key, receipt.receiver,
        up_to=recorded.version,
    )  # fmt: skip
    return recorded, bundle


# -- the receiver's side ------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    receipt: dict[str, Any]
    peer: str


def prepare_answer(
    services: Services,
    actor: Actor,
    case_id: UUID,
    *,
    decision: str,
    version: int | None = None,
    digest: str | None = None,
    reason: str | None = None,
) -> Answer:
    """Check the answer against our copy of the case (as if we recorded it), then sign it."""
    case = services.cases.get_case(case_id)
    sender = case.holder
    version = case.version if version is None else version
    digest = case.digest if digest is None else digest
    with acting_as(actor):
        if decision == "accepted":
            case.accept_handover(version=version, digest=digest, accepted_on=services.cases.today())
        else:
            case.reject_handover(reason=reason or "abgelehnt")
    receipt = build_receipt(
        case_id, version, digest, actor.org, actor.id, services.signing_key,
        decision=decision, reason=reason,
    )  # fmt: skip
    remember_receipt(services.supervisor.store, receipt)
    return Answer(receipt, sender)


def deliver_answer(services: Services, answer: Answer) -> Imported:
    """Send the receipt now; import the sender's confirming bundle. Raises PeerUnreachableError
    (the caller queues the receipt in the outbox) or PeerRefusedError."""
    org = services.orgs.get(answer.peer)
    if org is None or org.peer_url is None:
        raise BundleError(f"{answer.peer!r} is not a peer deployment")
    try:
        status, body = services.outbox.post(
            org.peer_url.rstrip("/") + "/handovers/receipts", answer.receipt
        )
    except OSError as e:
        raise PeerUnreachableError(str(e)) from e
    if status >= 500 or status in (408, 429):
        raise PeerUnreachableError(f"HTTP {status}")
    if not 200 <= status < 300:
        try:
            detail = str(json.loads(body).get("detail", body[:300]))
        except ValueError:
            detail = body[:300].decode("utf-8", "replace")
        raise PeerRefusedError(status, detail)
    return import_confirmation(services, body)


def import_confirmation(services: Services, body: bytes) -> Imported:
    bundle = parse(body).get("bundle")
    if not isinstance(bundle, dict):
        raise BundleError("the peer's answer holds no bundle")
    result = import_bundle(
        services.cases,
        services.supervisor.store,
        bundle,
        peer_key(services, str(bundle.get("sender"))),
        lambda org: is_local(services, org),
    )
    services.supervisor.wake()
    return result
