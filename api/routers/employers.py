"""Employers willing to take refugees on: register, list, read, change, deactivate."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from api.deps import (
    PARTNER_REFUSALS,
    WRITTEN,
    IdempotencyHeader,
    PrincipalDep,
    ReadYourWrites,
    ServicesDep,
    idempotency_key,
)
from api.responses import written
from api.schemas.common import Reason, SavedOut
from api.schemas.employers import ChangeEmployer, EmployerOut, EmployerPage, RegisterEmployer
from service_layer import partners

router = APIRouter(prefix="/employers", tags=["employers"], responses=PARTNER_REFUSALS)


@router.post("", status_code=201, response_model=SavedOut, responses=WRITTEN)
def register_employer(
    body: RegisterEmployer,
    request: Request,
    services: ServicesDep,
    principal: PrincipalDep,
    key: IdempotencyHeader = None,
) -> JSONResponse:
    """Register an employer; ``caring_org`` (default: the caller's organisation) looks after it.
    Staff register only employers their organisation looks after."""
    idem = idempotency_key(principal, key, "POST", "/employers", body.model_dump(mode="json"))
    result = partners.register_employer(services, principal, body.to_value(), idem)
    return written(request, SavedOut, result)


@router.get("", response_model=EmployerPage)
def list_employers(
    services: ServicesDep,
    principal: PrincipalDep,
    _: ReadYourWrites,
    q: Annotated[str | None, Query(max_length=100, description="part of the name")] = None,
    caring_org: Annotated[str | None, Query(max_length=64)] = None,
    municipality: Annotated[str | None, Query(max_length=100)] = None,
    active: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Any:
    """The employer directory, by name. An employer sees only itself."""
    page = partners.employers(
        services, principal, q=q, caring_org=caring_org, municipality=municipality,
        active=active, limit=limit, cursor=cursor,
    )  # fmt: skip
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.get("/{employer_id}", response_model=EmployerOut)
def get_employer(
    employer_id: UUID, services: ServicesDep, principal: PrincipalDep, _: ReadYourWrites
) -> Any:
    return partners.employer(services, principal, employer_id)


@router.patch("/{employer_id}", response_model=SavedOut, responses=WRITTEN)
def change_employer(
    employer_id: UUID,
    body: ChangeEmployer,
    request: Request,
    services: ServicesDep,
    principal: PrincipalDep,
    key: IdempotencyHeader = None,
) -> JSONResponse:
    """Change the fields given: the employer itself or the organisation looking after it."""
    path = f"/employers/{employer_id}"
    idem = idempotency_key(principal, key, "PATCH", path, body.model_dump(mode="json"))
    result = partners.change_employer(services, principal, employer_id, body.changes(), idem)
    return written(request, SavedOut, result, status=200)


@router.post(
    "/{employer_id}/deactivate", status_code=201, response_model=SavedOut, responses=WRITTEN
)
def deactivate_employer(
    employer_id: UUID,
    body: Reason,
    request: Request,
    services: ServicesDep,
    principal: PrincipalDep,
    key: IdempotencyHeader = None,
) -> JSONResponse:
    path = f"/employers/{employer_id}/deactivate"
    idem = idempotency_key(principal, key, "POST", path, body.model_dump(mode="json"))
    result = partners.deactivate_employer(services, principal, employer_id, body.reason, idem)
    return written(request, SavedOut, result)
