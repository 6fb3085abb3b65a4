"""The handover of a case between organisations: offer, withdraw, the answer to an offer
(accept, acknowledging version and digest, or reject), and each organisation's queues. For a
case offered by another deployment the answer goes to the sender, whose log records it
(``service_layer.federation``)."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from adapters.federation.bundle import BundleError
from adapters.views.queries import Page
from domain.actor import acting_as
from domain.principal import Principal
from domain.writes import IdempotencyKey, Recorded
from service_layer import access
from service_layer.assignment import check_assignment
from service_layer.cases import actor_of, require_known
from service_layer.errors import InvalidInputError, SenderAnswerRefusedError, SenderRefusedError
from service_layer.federation import (
    PeerRefusedError,
    PeerUnreachableError,
    deliver_answer,
    is_remote,
    prepare_answer,
)
from service_layer.ports import Services


def offer(
    services: Services,
    principal: Principal,
    case_id: UUID,
    to_org: str,
    reason: str,
    idem: IdempotencyKey | None = None,
) -> Recorded:
    access.require_staff(principal)
    require_known(services, principal, case_id)
    if to_org not in services.orgs:
        detail = f"'{to_org}' is not a known organisation"
        raise InvalidInputError("to_org", "unknown organisation", detail)
    with acting_as(actor_of(principal)):
        return services.cases.offer_handover(
            case_id, to_org=to_org, reason=reason, idempotency=idem
        )


def withdraw(
    services: Services,
    principal: Principal,
    case_id: UUID,
    reason: str,
    idem: IdempotencyKey | None = None,
) -> Recorded:
    access.require_staff(principal)
    require_known(services, principal, case_id)
    with acting_as(actor_of(principal)):
        return services.cases.withdraw_handover(case_id, reason=reason, idempotency=idem)


@dataclass(frozen=True)
class Pending:
    """An answer to another deployment's offer that could not be delivered yet (queued)."""

    case_id: UUID
    peer: str
    detail: str


def answer(
    services: Services,
    principal: Principal,
    case_id: UUID,
    decision: str,
    *,
    version: int | None = None,
    digest: str | None = None,
    reason: str | None = None,
    assign: tuple[str | None, str | None] | None = None,
    idem: IdempotencyKey | None = None,
) -> Recorded | Pending:
    """Accept (acknowledging ``version`` and ``digest``) or reject an offer. For a case offered
    by another deployment the answer goes to the sender, whose log records it. ``assign``
    (office, caseworker): accept and make them responsible at once (ADR 0017)."""
    access.require_staff(principal)
    require_known(services, principal, case_id)
    if decision == "accepted" and (version is None or digest is None):
        raise InvalidInputError("version", "required", "name the version and digest you read")
    if assign is not None:
        office, caseworker = assign
        fields = {"office": office, "caseworker": caseworker}
        check_assignment(services, principal, fields, accepting=True)
    remote = is_remote(services, services.cases.get_case(case_id).holder)
    if remote and assign is not None:
        raise InvalidInputError(
            "caseworker",
            "not with a case of another deployment",
            "accept first; assign once the sender's receipt has made the case yours",
        )
    if not remote:
        with acting_as(actor_of(principal)):
            if decision == "accepted":
                assert version is not None
                assert digest is not None
                return services.cases.accept_handover(
                    case_id, version=version, digest=digest, assign=assign, idempotency=idem
                )
            return services.cases.reject_handover(
                case_id, reason=reason or "abgelehnt", idempotency=idem
            )
    prepared = prepare_answer(
        services, actor_of(principal), case_id, decision=decision, version=version,
        digest=digest, reason=reason,
    )  # fmt: skip
    try:
        imported = deliver_answer(services, prepared)
    except PeerUnreachableError as e:
        services.outbox.queue_receipt(
            case_id, prepared.receipt["version"], prepared.peer, prepared.receipt
        )
        detail = f"{prepared.peer} is unreachable ({e}); the answer is queued and retried"
        return Pending(case_id, prepared.peer, detail)
    except PeerRefusedError as e:
        raise SenderRefusedError(
            e.status, f"{prepared.peer} answered {e.status}: {e.detail}"
        ) from e
    except BundleError as e:
        raise SenderAnswerRefusedError(str(e)) from e
    return Recorded(imported.case_id, imported.version, imported.position, imported.digest)


def queue(
    services: Services,
    principal: Principal,
    direction: str,
    state: str | None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page:
    """Handovers of the caller's organisation, oldest first, with ``age_days`` and ``overdue``;
    ``receiver_unknown``: cases whose switch is due but whose municipality no Jobcenter serves."""
    access.list_scope(principal, None)
    if state == "receiver_unknown":
        page = services.queries.handovers_due(holder=principal.org, limit=limit, cursor=cursor)
        items = [
            {"case_id": d["case_id"], "from_org": d["holder"], "to_org": None,
             "state": "receiver_unknown", "residence_municipality": d["residence_municipality"],
             "switch_to": d["switch_due"], "offered_at": None, "age_days": None, "overdue": False}
            for d in page.items
            if services.orgs.jobcenter_for(d["residence_municipality"]) is None
        ]  # fmt: skip
        return Page(items, page.next_cursor)
    return services.queries.handovers(
        org=principal.org,
        direction=direction,
        state="offered" if state == "overdue" else state,
        overdue_only=state == "overdue",
        limit=limit,
        cursor=cursor,
    )
