"""Employers willing to take refugees on: register, list, read, change, deactivate."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from api.deps import (
    IdempotencyHeader,
    PrincipalDep,
    ReadYourWrites,
    ServicesDep,
    actor_of,
    idempotency_key,
)
from api.identity import require_org
from api.partner_deps import REFUSALS, WRITTEN, MatchingDep, PartnersDep, not_found, saved
from api.partner_schemas import (
    ChangeEmployer,
    EmployerOut,
    EmployerPage,
    RegisterEmployer,
    SavedOut,
)
from api.schemas import Reason
from domain.actor import acting_as
from domain.principal import STAFF_ROLES, Role
from service_layer import access
from service_layer import partner_access as pa

router = APIRouter(prefix="/employers", tags=["employers"], responses=REFUSALS)


@router.post("", status_code=201, response_model=SavedOut, responses=WRITTEN)
def register_employer(
    body: RegisterEmployer,
    request: Request,
    partners: PartnersDep,
    services: ServicesDep,
    principal: PrincipalDep,
    key: IdempotencyHeader = None,
) -> JSONResponse:
    """Register an employer; ``caring_org`` (default: the caller's organisation) looks after it.
    Staff register only employers their organisation looks after."""
    pa.require(principal, *STAFF_ROLES, doing="register employers")
    require_org(services, "caring_org", body.caring_org)
    idem = idempotency_key(principal, key, "POST", "/employers", body.model_dump(mode="json"))
    with acting_as(actor_of(principal)):
        result = partners.register_employer(
            account=body.account,
            name=body.name,
            sector=body.sector,
            locations=tuple(body.locations),
            contact=body.contact.to_value(),
            caring_org=body.caring_org or principal.org,
            interest=tuple(body.interest),
            idempotency=idem,
        )
    return saved(result, request)


@router.get("", response_model=EmployerPage)
def list_employers(
    matching: MatchingDep,
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
    own = pa.employer_of(principal)
    if not principal.has(*pa.READERS) and own is None:
        raise access.forbidden("volunteers do not see the employer directory")
    filters: dict[str, Any] = {
        "q": q, "caring_org": caring_org, "municipality": municipality, "active": active,
        "employer_id": None if principal.has(*pa.READERS) else str(own),
    }  # fmt: skip
    page = matching.employers(filters=filters, limit=limit, cursor=cursor)
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.get("/{employer_id}", response_model=EmployerOut)
def get_employer(
    employer_id: UUID, matching: MatchingDep, principal: PrincipalDep, _: ReadYourWrites
) -> Any:
    pa.require_reader_or_self(principal, pa.employer_of(principal), str(employer_id))
    doc = matching.employer(str(employer_id))
    if doc is None:
        raise not_found("employer", employer_id)
    return doc


@router.patch("/{employer_id}", response_model=SavedOut, responses=WRITTEN)
def change_employer(
    employer_id: UUID,
    body: ChangeEmployer,
    request: Request,
    partners: PartnersDep,
    services: ServicesDep,
    principal: PrincipalDep,
) -> JSONResponse:
    """Change the fields given: the employer itself or the organisation looking after it."""
    pa.require(principal, *STAFF_ROLES, Role.EMPLOYER, doing="change employers")
    require_org(services, "caring_org", body.caring_org)
    changes = body.model_dump(exclude_unset=True)
    if body.contact is not None:
        changes["contact"] = body.contact.to_value()
    for name in ("locations", "interest"):
        if changes.get(name) is not None:
            changes[name] = tuple(changes[name])
    with acting_as(actor_of(principal)):
        result = partners.change_employer(employer_id, **changes)
    return saved(result, request, status=200)


@router.post(
    "/{employer_id}/deactivate", status_code=201, response_model=SavedOut, responses=WRITTEN
)
def deactivate_employer(
    employer_id: UUID,
    body: Reason,
    request: Request,
    partners: PartnersDep,
    principal: PrincipalDep,
) -> JSONResponse:
    pa.require(principal, *STAFF_ROLES, Role.EMPLOYER, doing="deactivate employers")
    with acting_as(actor_of(principal)):
        result = partners.deactivate_employer(employer_id, reason=body.reason)
    return saved(result, request)
