"""The handover: offer, accept (acknowledging version and digest), reject, withdraw; the queues."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from adapters.auth import Principal
from adapters.federation.answers import (
    PeerRefusedError,
    PeerUnreachableError,
    deliver_answer,
    is_remote,
    prepare_answer,
)
from adapters.federation.bundle import BundleError
from adapters.services import Services
from api import access
from api.deps import CasesDep, PrincipalDep, ReadYourWrites, ServicesDep, actor_of
from api.problems import PROBLEMS, ApiError
from api.routers.cases import CREATED, created
from api.schemas import AcceptHandover, OfferHandover, Page, Reason, Recorded
from domain.actor import acting_as
from domain.application import Recorded as RecordedResult

router = APIRouter(tags=["handovers"], responses=PROBLEMS)


@router.post(
    "/cases/{case_id}/handover", status_code=201, response_model=Recorded, responses=CREATED
)
def offer(
    case_id: UUID,
    body: OfferHandover,
    request: Request,
    cases: CasesDep,
    services: ServicesDep,
    principal: PrincipalDep,
) -> JSONResponse:
    access.require_staff(principal)
    if body.to_org not in services.orgs:
        raise ApiError(
            422,
            "invalid-request",
            "The request is not valid",
            f"to_org: '{body.to_org}' is not a known organisation",
            errors=[{"field": "to_org", "message": "unknown organisation"}],
        )
    with acting_as(actor_of(principal)):
        result = cases.offer_handover(case_id, to_org=body.to_org, reason=body.reason)
    return created(result, request)


@router.post(
    "/cases/{case_id}/handover/accept", status_code=201, response_model=Recorded, responses=CREATED
)
def accept(
    case_id: UUID,
    body: AcceptHandover,
    request: Request,
    cases: CasesDep,
    services: ServicesDep,
    principal: PrincipalDep,
) -> JSONResponse:
    """Acknowledge the case's whole stream up to ``version`` by its ``digest`` and take it over.
    For a case offered by another deployment the answer goes to the sender, whose log records
    it; the reply (201) or, when the sender is unreachable, the queued receipt (202) follows."""
    access.require_staff(principal)
    if is_remote(services, cases.get_case(case_id).holder):
        return answer_remote(
            request, services, principal, case_id, "accepted", body.version, body.digest
        )
    with acting_as(actor_of(principal)):
        result = cases.accept_handover(case_id, version=body.version, digest=body.digest)
    return created(result, request)


@router.post(
    "/cases/{case_id}/handover/reject", status_code=201, response_model=Recorded, responses=CREATED
)
def reject(
    case_id: UUID,
    body: Reason,
    request: Request,
    cases: CasesDep,
    services: ServicesDep,
    principal: PrincipalDep,
) -> JSONResponse:
    access.require_staff(principal)
    if is_remote(services, cases.get_case(case_id).holder):
        return answer_remote(request, services, principal, case_id, "rejected", reason=body.reason)
    with acting_as(actor_of(principal)):
        result = cases.reject_handover(case_id, reason=body.reason)
    return created(result, request)


@router.post(
    "/cases/{case_id}/handover/withdraw",
    status_code=201,
    response_model=Recorded,
    responses=CREATED,
)
def withdraw(
    case_id: UUID,
    request: Request,
    cases: CasesDep,
    principal: PrincipalDep,
    body: Reason | None = None,
) -> JSONResponse:
    access.require_staff(principal)
    with acting_as(actor_of(principal)):
        result = cases.withdraw_handover(case_id, reason=body.reason if body else "zurückgezogen")
    return created(result, request)


def answer_remote(
    request: Request,
    services: Services,
    principal: Principal,
    case_id: UUID,
    decision: str,
    version: int | None = None,
    digest: str | None = None,
    reason: str | None = None,
) -> JSONResponse:
    answer = prepare_answer(
        services, actor_of(principal), case_id, decision=decision, version=version,
        digest=digest, reason=reason,
    )  # fmt: skip
    try:
        imported = deliver_answer(services, answer)
    except PeerUnreachableError as e:
        services.outbox.queue_receipt(
            case_id, answer.receipt["version"], answer.peer, answer.receipt
        )
        return JSONResponse(
            {"case_id": str(case_id), "state": "pending",
             "detail": f"{answer.peer} is unreachable ({e}); the answer is queued and retried"},
            status_code=202,
        )  # fmt: skip
    except PeerRefusedError as e:
        raise ApiError(
            409 if e.status == 409 else 502,
            "peer-refused",
            "The sending deployment refused",
            f"{answer.peer} answered {e.status}: {e.detail}",
        ) from e
    except BundleError as e:
        raise ApiError(502, "peer-bundle-refused", "The sender's answer was refused", str(e)) from e
    result = RecordedResult(imported.case_id, imported.version, imported.position, imported.digest)
    return created(result, request)


@router.get("/handovers", response_model=Page)
def queue(
    services: ServicesDep,
    principal: PrincipalDep,
    _: ReadYourWrites,
    direction: Literal["incoming", "outgoing"] = "incoming",
    state: Literal["offered", "overdue", "accepted", "rejected", "withdrawn", "receiver_unknown"]
    | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Page:
    """Handovers of the caller's organisation, oldest first, with ``age_days`` and ``overdue``.
    ``receiver_unknown`` lists cases whose Rechtskreiswechsel is due but whose residence
    municipality no known Jobcenter serves (outgoing only)."""
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
        return Page(items=items, next_cursor=page.next_cursor)
    result = services.queries.handovers(
        org=principal.org,
        direction=direction,
        state="offered" if state == "overdue" else state,
        overdue_only=state == "overdue",
        limit=limit,
        cursor=cursor,
    )
    return Page(items=result.items, next_cursor=result.next_cursor)
