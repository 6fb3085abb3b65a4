"""Follow-ups (Wiedervorlagen): written on a case, listed for the caller and its team."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from api.deps import (
    ExpectedVersion,
    IdempotencyHeader,
    PrincipalDep,
    ReadYourWrites,
    ServicesDep,
    idempotency_key,
)
from api.problems import PROBLEMS
from api.responses import written
from api.routers.cases import CREATED
from api.schemas.common import Recorded, Ref
from api.schemas.follow_ups import FollowUpPage, NewFollowUp, Postpone
from service_layer import follow_ups

router = APIRouter(tags=["follow-ups"], responses=PROBLEMS)


@router.post(
    "/cases/{case_id}/follow-ups", status_code=201, response_model=Recorded, responses=CREATED
)
def create(
    case_id: UUID,
    body: NewFollowUp,
    request: Request,
    services: ServicesDep,
    principal: PrincipalDep,
    expected: ExpectedVersion,
    key: IdempotencyHeader = None,
) -> JSONResponse:
    """A follow-up by hand (``FollowUpCreated``); its id is ``w-<version>`` of the answer."""
    path = f"/cases/{case_id}/follow-ups"
    idem = idempotency_key(principal, key, "POST", path, body.model_dump(mode="json"))
    result = follow_ups.create(
        services, principal, case_id, due_on=body.due_on, text=body.text,
        assignee=body.assignee, expected=expected, idem=idem,
    )  # fmt: skip
    return written(request, Recorded, result)


def _settle(
    how: str,
    case_id: UUID,
    follow_up_id: str,
    request: Request,
    services: ServicesDep,
    principal: PrincipalDep,
    expected: int | None,
    key: str | None,
    body: Postpone | None = None,
) -> JSONResponse:
    path = f"/cases/{case_id}/follow-ups/{follow_up_id}/{how}"
    idem = idempotency_key(
        principal, key, "POST", path, body.model_dump(mode="json") if body else None
    )
    result = follow_ups.settle(
        services, principal, case_id, follow_up_id, how,
        due_on=body.due_on if body else None, expected=expected, idem=idem,
    )  # fmt: skip
    return written(request, Recorded, result)


@router.post(
    "/cases/{case_id}/follow-ups/{follow_up_id}/done",
    status_code=201,
    response_model=Recorded,
    responses=CREATED,
)
def done(
    case_id: UUID,
    follow_up_id: Ref,
    request: Request,
    services: ServicesDep,
    principal: PrincipalDep,
    expected: ExpectedVersion,
    key: IdempotencyHeader = None,
) -> JSONResponse:
    return _settle("done", case_id, follow_up_id, request, services, principal, expected, key)


@router.post(
    "/cases/{case_id}/follow-ups/{follow_up_id}/postponed",
    status_code=201,
    response_model=Recorded,
    responses=CREATED,
)
def postponed(
    case_id: UUID,
    follow_up_id: Ref,
    body: Postpone,
    request: Request,
    services: ServicesDep,
    principal: PrincipalDep,
    expected: ExpectedVersion,
    key: IdempotencyHeader = None,
) -> JSONResponse:
    return _settle(
        "postponed", case_id, follow_up_id, request, services, principal, expected, key, body
    )


@router.post(
    "/cases/{case_id}/follow-ups/{follow_up_id}/cancelled",
    status_code=201,
    response_model=Recorded,
    responses=CREATED,
)
def cancelled(
    case_id: UUID,
    follow_up_id: Ref,
    request: Request,
    services: ServicesDep,
    principal: PrincipalDep,
    expected: ExpectedVersion,
    key: IdempotencyHeader = None,
) -> JSONResponse:
    return _settle("cancelled", case_id, follow_up_id, request, services, principal, expected, key)


@router.get("/follow-ups", response_model=FollowUpPage)
def listing(
    services: ServicesDep,
    principal: PrincipalDep,
    _: ReadYourWrites,
    assignee: Literal["me", "team", "all"] = "all",
    state: Literal["open", "done", "cancelled", "closed", "all"] = "open",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> FollowUpPage:
    """The caller's (``me``), its team's (``team``: for no one in particular) or both follow-ups
    of its organisation, due first (keyset pagination)."""
    page = follow_ups.listing(
        services, principal, "GET /follow-ups", assignee=assignee, state=state, limit=limit,
        cursor=cursor,
    )  # fmt: skip
    return FollowUpPage.model_validate({"items": page.items, "next_cursor": page.next_cursor})
