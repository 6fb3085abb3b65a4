"""What a signed-in caller does with cases, shared by the JSON routers and the web pages: the access
rules, the actor on every command, the access log and read-your-writes bookkeeping. One path to
the data, whichever edge the request came through."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

import structlog

from adapters.federation.bundle import BundleError
from adapters.views.queries import History, Page
from api.problems import ApiError
from api.schemas.cases import EraseCase, EventIn, RegisterCase
from api.schemas.handovers import OfferHandover
from bootstrap import Services
from domain.actor import Actor, acting_as
from domain.aggregates.case_errors import DuplicateBamfFileNumberError
from domain.aggregates.case_events import HandoverOffered
from domain.disclosure import Audience, audiences_of
from domain.principal import Principal
from domain.writes import IdempotencyKey, Recorded
from projections import withholding
from projections.summary import current_handover
from service_layer import access
from service_layer.federation import (
    PeerRefusedError,
    PeerUnreachableError,
    deliver_answer,
    is_remote,
    prepare_answer,
)

log = structlog.get_logger("staffel.cases")


def actor_of(principal: Principal) -> Actor:
    return Actor(principal.sub, principal.org)


def invalid(field: str, message: str, detail: str) -> ApiError:
    return ApiError(
        422,
        "invalid-request",
        "The request is not valid",
        f"{field}: {detail}",
        errors=[{"field": field, "message": message}],
    )


# -- writes ---------------------------------------------------------------------------------


def require_known(services: Services, principal: Principal, case_id: UUID) -> None:
    """Before a write on a case: an organisation that neither holds, held nor was offered the
    case gets the answer for a case that does not exist."""
    if not is_known(services, principal, case_id):
        raise access.case_not_found(case_id)


def is_known(services: Services, principal: Principal, case_id: UUID) -> bool:
    """Whether the caller's organisation holds, held or was offered the case. The stored case
    decides (no read-model lag); its past offers are read from its events only when it is
    neither the holder, a former holder nor the one offered it now."""
    case = services.cases.get_case(case_id)
    offered: tuple[str, ...] = (case.handover.to_org,) if case.handover is not None else ()
    if access.knows_case(principal.org, case.holder, case.former_holders, offered):
        return True
    events = services.cases.events.get(case_id)
    offered = tuple(e.to_org for e in events if isinstance(e, HandoverOffered))
    return access.knows_case(principal.org, case.holder, (), offered)


def register(
    services: Services, principal: Principal, body: RegisterCase, idem: IdempotencyKey | None
) -> Recorded:
    access.require_staff(principal)
    org = services.orgs.get(principal.org)
    if body.office is not None and (org is None or body.office not in org.offices):
        raise invalid(
            "office",
            "not an office of your organisation",
            f"'{body.office}' is not an office of '{principal.org}'",
        )
    try:
        with acting_as(actor_of(principal)):
            return services.cases.register_case(
                person=body.person.to_value(),
                bamf_file_number=body.bamf_file_number,
                residence_municipality=body.residence_municipality,
                legal_status=body.legal_status,
                office=body.office,
                legal_basis=body.legal_basis,
                idempotency=idem,
            )
    except DuplicateBamfFileNumberError as e:
        # the number is taken either way; which case holds it only for those who know the case
        if e.existing_case_id is not None and not is_known(services, principal, e.existing_case_id):
            raise DuplicateBamfFileNumberError(e.bamf_file_number, None) from None
        raise


def record(
    services: Services,
    principal: Principal,
    case_id: UUID,
    event_type: str,
    event: EventIn,
    expected: int | None,
    idem: IdempotencyKey | None = None,
) -> Recorded:
    access.require_staff(principal)
    require_known(services, principal, case_id)
    with acting_as(actor_of(principal)):
        return services.cases.record(case_id, event_type, event.to_fields(), expected, idem)


def offer(services: Services, principal: Principal, case_id: UUID, body: OfferHandover) -> Recorded:
    access.require_staff(principal)
    require_known(services, principal, case_id)
    if body.to_org not in services.orgs:
        detail = f"'{body.to_org}' is not a known organisation"
        raise invalid("to_org", "unknown organisation", detail)
    with acting_as(actor_of(principal)):
        return services.cases.offer_handover(case_id, to_org=body.to_org, reason=body.reason)


def withdraw(services: Services, principal: Principal, case_id: UUID, reason: str) -> Recorded:
    access.require_staff(principal)
    require_known(services, principal, case_id)
    with acting_as(actor_of(principal)):
        return services.cases.withdraw_handover(case_id, reason=reason)


def erase(
    services: Services,
    principal: Principal,
    case_id: UUID,
    body: EraseCase,
    expected: int | None = None,
    idem: IdempotencyKey | None = None,
) -> Recorded:
    access.require_erasure_right(principal)
    require_known(services, principal, case_id)
    with acting_as(actor_of(principal)):
        result = services.cases.erase_personal_data(
            case_id,
            ground=body.ground,
            reason=body.reason,
            expected_version=expected,
            idempotency=idem,
        )
    log.info("personal_data_erased", case_id=str(case_id), ground=body.ground.value)
    return result


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
) -> Recorded | Pending:
    """Accept (acknowledging ``version`` and ``digest``) or reject an offer. For a case offered
    by another deployment the answer goes to the sender, whose log records it."""
    access.require_staff(principal)
    require_known(services, principal, case_id)
    if decision == "accepted" and (version is None or digest is None):
        raise invalid("version", "required", "name the version and digest you read")
    if not is_remote(services, services.cases.get_case(case_id).holder):
        with acting_as(actor_of(principal)):
            if decision == "accepted":
                assert version is not None
                assert digest is not None
                return services.cases.accept_handover(case_id, version=version, digest=digest)
            return services.cases.reject_handover(case_id, reason=reason or "abgelehnt")
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
        raise ApiError(
            409 if e.status == 409 else 502,
            "peer-refused",
            "The sending deployment refused",
            f"{prepared.peer} answered {e.status}: {e.detail}",
        ) from e
    except BundleError as e:
        raise ApiError(502, "peer-bundle-refused", "The sender's answer was refused", str(e)) from e
    return Recorded(imported.case_id, imported.version, imported.position, imported.digest)


# -- reads ----------------------------------------------------------------------------------


def log_reads(services: Services, principal: Principal, case_ids: list[str], endpoint: str) -> None:
    services.access_log.record(
        actor=principal.sub, org=principal.org, case_ids=case_ids, endpoint=endpoint
    )


def reader_of(principal: Principal, summary: dict[str, Any]) -> frozenset[Audience]:
    """The audiences of the disclosure table (``domain.disclosure``) ``principal`` reads as."""
    offer = current_handover(summary)
    return audiences_of(
        principal.roles,
        principal.org,
        holder=summary["holder"],
        offered_to=offer["to_org"] if offer and offer["state"] == "offered" else None,
        former_holders=summary["former_holders"],
    )


def disclosed(principal: Principal, summary: dict[str, Any]) -> dict[str, Any]:
    """The summary with what ``principal`` may not see withheld (``withheld`` names it)."""
    return withholding.summary_doc(summary, reader_of(principal, summary))


def find_case(
    services: Services, case_id: UUID, principal: Principal | None = None
) -> dict[str, Any]:
    """The case's summary; with ``principal``, as the disclosure table lets it see it. Without:
    as stored, for deciding (``access.read_scope``); a caller that shows it passes ``principal``."""
    doc = services.queries.summary(str(case_id))
    if doc is None:
        raise access.case_not_found(case_id)
    return disclosed(principal, doc) if principal is not None else dict(doc)


def history_of(
    services: Services,
    principal: Principal,
    case_id: UUID,
    scope: str,
    summary: dict[str, Any] | None = None,
) -> History:
    """The case's history as ``scope`` lets the caller see it (a former holder: its own), each
    personal value the disclosure table withholds from the caller replaced by the marker and
    named in the entry's ``withheld``. ``summary``: the case's, if the caller has it at hand."""
    history = services.queries.history(str(case_id))
    doc = summary if summary is not None else services.queries.summary(str(case_id))
    if history is None or doc is None:
        raise access.case_not_found(case_id)
    reader = reader_of(principal, doc)
    entries = history.entries
    if scope == "own_events":
        entries = [e for e in entries if e["org"] == principal.org]
    shown = [withholding.history_entry(e, reader) for e in entries]
    return History(history.case_id, history.version, history.digest, shown)


def search(
    services: Services, principal: Principal, holder: str | None, endpoint: str, **filters: Any
) -> Page:
    scoped = access.list_scope(principal, holder)
    page = services.queries.search(holder=scoped or None, **filters)
    log_reads(services, principal, [d["case_id"] for d in page.items], endpoint)
    return Page([disclosed(principal, d) for d in page.items], page.next_cursor)


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
