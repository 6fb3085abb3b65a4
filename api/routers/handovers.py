"""The handover: offer, accept (acknowledging version and digest), reject, withdraw; the queues."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from api.deps import (
    IdempotencyHeader,
    PrincipalDep,
    ReadYourWrites,
    ServicesDep,
    idempotency_key,
)
from api.problems import PROBLEMS
from api.responses import written
from api.routers.cases import CREATED
from api.schemas.common import Page, Reason, Recorded
from api.schemas.handovers import AcceptHandover, OfferHandover
from domain.writes import Recorded as RecordedResult
from service_layer import handovers

router = APIRouter(tags=["handovers"], responses=PROBLEMS)


@router.post(
    "/cases/{case_id}/handover", status_code=201, response_model=Recorded, responses=CREATED
)
def offer(
    case_id: UUID,
    body: OfferHandover,
    request: Request,
    services: ServicesDep,
    principal: PrincipalDep,
    key: IdempotencyHeader = None,
) -> JSONResponse:
    path = f"/cases/{case_id}/handover"
    idem = idempotency_key(principal, key, "POST", path, body.model_dump(mode="json"))
    result = handovers.offer(services, principal, case_id, body.to_org, body.reason, idem)
    return written(request, Recorded, result)


@router.post(
    "/cases/{case_id}/handover/accept", status_code=201, response_model=Recorded, responses=CREATED
)
def accept(
    case_id: UUID,
    body: AcceptHandover,
    request: Request,
    services: ServicesDep,
    principal: PrincipalDep,
    key: IdempotencyHeader = None,
) -> JSONResponse:
    """Acknowledge the case's whole stream up to ``version`` by its ``digest`` and take it over.
    For a case offered by another deployment the answer goes to the sender, whose log records
    it; the reply (201) or, when the sender is unreachable, the queued receipt (202) follows.
    With an ``Idempotency-Key`` a retried accept gets the first answer."""
    path = f"/cases/{case_id}/handover/accept"
    idem = idempotency_key(principal, key, "POST", path, body.model_dump(mode="json"))
    result = handovers.answer(
        services, principal, case_id, "accepted", version=body.version, digest=body.digest,
        assign=body.assignment(), idem=idem,
    )  # fmt: skip
    return answered(result, request)


@router.post(
    "/cases/{case_id}/handover/reject", status_code=201, response_model=Recorded, responses=CREATED
)
def reject(
    case_id: UUID,
    body: Reason,
    request: Request,
    services: ServicesDep,
    principal: PrincipalDep,
    key: IdempotencyHeader = None,
) -> JSONResponse:
    path = f"/cases/{case_id}/handover/reject"
    idem = idempotency_key(principal, key, "POST", path, body.model_dump(mode="json"))
    result = handovers.answer(
        services, principal, case_id, "rejected", reason=body.reason, idem=idem
    )
    return answered(result, request)


@router.post(
    "/cases/{case_id}/handover/withdraw",
    status_code=201,
    response_model=Recorded,
    responses=CREATED,
)
def withdraw(
    case_id: UUID,
    request: Request,
    services: ServicesDep,
    principal: PrincipalDep,
    body: Reason | None = None,
    key: IdempotencyHeader = None,
) -> JSONResponse:
    reason = body.reason if body else "zurückgezogen"
    path = f"/cases/{case_id}/handover/withdraw"
    idem = idempotency_key(
        principal, key, "POST", path, body.model_dump(mode="json") if body else None
    )
    result = handovers.withdraw(services, principal, case_id, reason, idem)
    return written(request, Recorded, result)


def answered(result: RecordedResult | handovers.Pending, request: Request) -> JSONResponse:
    if isinstance(result, handovers.Pending):
        return JSONResponse(
            {"case_id": str(result.case_id), "state": "pending", "detail": result.detail},
            status_code=202,
        )
    return written(request, Recorded, result)


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
    page = handovers.queue(services, principal, direction, state, limit, cursor)
    return Page(items=page.items, next_cursor=page.next_cursor)
