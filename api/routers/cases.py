"""Cases: register, list, read the summary and the history, record events."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import orjson
from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import JSONResponse, Response

from api.deps import (
    ExpectedVersion,
    IdempotencyHeader,
    PrincipalDep,
    ReadYourWrites,
    ServicesDep,
    idempotency_key,
)
from api.problems import PROBLEMS, problem_response
from api.responses import written
from api.schemas.cases import CaseOut, EraseCase, HistoryOut, RegisterCase, StaffEvent
from api.schemas.common import Page, Recorded
from domain.values import LegalStatus
from projections.summary import current_handover, handover_state
from service_layer import cases, data_protection

router = APIRouter(prefix="/cases", tags=["cases"], responses=PROBLEMS)
CREATED: dict[int | str, dict[str, Any]] = {
    201: {"description": "recorded"},
    409: problem_response("conflict (duplicate BAMF file number, version, rule)"),
    403: problem_response("not allowed; the detail says why"),
}


@router.post("", status_code=201, response_model=Recorded, responses=CREATED)
def register_case(
    body: RegisterCase,
    request: Request,
    services: ServicesDep,
    principal: PrincipalDep,
    key: IdempotencyHeader = None,
) -> JSONResponse:
    idem = idempotency_key(principal, key, "POST", "/cases", body.model_dump(mode="json"))
    result = cases.register(services, principal, body.to_new_case(), idem)
    return written(request, Recorded, result)


@router.get("", response_model=Page)
def list_cases(
    services: ServicesDep,
    principal: PrincipalDep,
    _: ReadYourWrites,
    q: Annotated[
        str | None, Query(max_length=100, description="name prefix or BAMF number")
    ] = None,
    holder: Annotated[str | None, Query(max_length=64)] = None,
    office: Annotated[str | None, Query(max_length=100)] = None,
    legal_status: LegalStatus | None = None,
    handover: Annotated[
        str | None, Query(pattern="^(none|due|offered|accepted|rejected|withdrawn)$")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Page:
    page = cases.search(
        services,
        principal,
        holder,
        "GET /cases",
        q=q,
        office=office,
        legal_status=legal_status.value if legal_status else None,
        handover=handover,
        limit=limit,
        cursor=cursor,
    )
    return Page(items=[case_view(d) for d in page.items], next_cursor=page.next_cursor)


def case_view(doc: dict[str, Any]) -> dict[str, Any]:
    handover = current_handover(doc)
    state = handover_state(doc)
    return {
        **{k: v for k, v in doc.items() if k != "handovers"},
        "handover": None if state == "none" else {**(handover or {}), "state": state},
        "handovers": doc["handovers"],
    }


@router.get("/{case_id}", response_model=CaseOut)
def get_case(
    case_id: UUID, services: ServicesDep, principal: PrincipalDep, _: ReadYourWrites
) -> Any:
    return case_view(cases.read_case(services, principal, case_id, "GET /cases/{id}"))


@router.get("/{case_id}/history", response_model=HistoryOut)
def get_history(
    case_id: UUID, services: ServicesDep, principal: PrincipalDep, _: ReadYourWrites
) -> Response:
    """Encoded once, with orjson, straight from the read model: the entries are
    ``HistoryEntryOut`` as stored (``response_model`` documents them). Validating 36 KB of them
    into models to dump them again cost a sixth of a read's CPU (issue 16). A caller who may
    see every field of the case's events gets the entries as the database encoded them."""
    read = cases.read_history(services, principal, case_id, "GET /cases/{id}/history")
    stored = read.entries_json  # as the database encoded them, when nothing is withheld
    body = {
        "case_id": str(case_id),
        "version": read.stored.version,
        "digest": read.stored.digest,
        "entries": orjson.Fragment(stored) if stored is not None else read.history.entries,
        "filtered": read.scope != "full",
    }
    return Response(orjson.dumps(body), media_type="application/json")


@router.post("/{case_id}/events", status_code=201, response_model=Recorded, responses=CREATED)
def record_event(
    case_id: UUID,
    request: Request,
    services: ServicesDep,
    principal: PrincipalDep,
    expected: ExpectedVersion,
    event: Annotated[StaffEvent, Body()],
    key: IdempotencyHeader = None,
) -> JSONResponse:
    idem = idempotency_key(
        principal, key, "POST", f"/cases/{case_id}/events", event.model_dump(mode="json")
    )
    fields = event.to_fields()
    result = cases.record(services, principal, case_id, event.type, fields, expected, idem)
    return written(request, Recorded, result)


@router.post("/{case_id}/erasure", status_code=201, response_model=Recorded, responses=CREATED)
def erase_case(
    case_id: UUID,
    body: EraseCase,
    request: Request,
    services: ServicesDep,
    principal: PrincipalDep,
    expected: ExpectedVersion,
    key: IdempotencyHeader = None,
) -> JSONResponse:
    """Erase the case's personal data (crypto-shredding, ADR 0008): ``PersonalDataErased`` is
    recorded, then the case's key is deleted. Team lead or admin of the holder; an open handover
    offer is withdrawn first. Nothing can be recorded on the case afterwards."""
    idem = idempotency_key(
        principal, key, "POST", f"/cases/{case_id}/erasure", body.model_dump(mode="json")
    )
    result = data_protection.erase(
        services, principal, case_id, body.ground, body.reason, expected, idem
    )
    return written(request, Recorded, result)
