"""Volunteer mentors (Paten): register, list, read, change, pause, resume, leave; assign and
release mentees; a volunteer's view of the people it mentors."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from api.deps import (
    PARTNER_REFUSALS,
    WRITTEN,
    ExpectedVersion,
    IdempotencyHeader,
    PrincipalDep,
    ReadYourWrites,
    ServicesDep,
    consents_current,
    idempotency_key,
)
from api.responses import written
from api.schemas.common import OptionalReason, Reason, Recorded, SavedOut
from api.schemas.volunteers import (
    AssignMentee,
    ChangeVolunteer,
    MenteesOut,
    RegisterVolunteer,
    ReleaseMentee,
    VolunteerOut,
    VolunteerPage,
)
from domain.values import VolunteerState
from service_layer import matching, partners

router = APIRouter(prefix="/volunteers", tags=["volunteers"], responses=PARTNER_REFUSALS)


@router.post("", status_code=201, response_model=SavedOut, responses=WRITTEN)
def register_volunteer(
    body: RegisterVolunteer,
    request: Request,
    services: ServicesDep,
    principal: PrincipalDep,
    key: IdempotencyHeader = None,
) -> JSONResponse:
    """Register a volunteer of the caller's (welfare) organisation; the volunteer signs in with
    ``login`` as ``sub`` and the organisation as ``org``."""
    idem = idempotency_key(principal, key, "POST", "/volunteers", body.model_dump(mode="json"))
    result = partners.register_volunteer(services, principal, body.to_value(), idem)
    return written(request, SavedOut, result)


@router.get("", response_model=VolunteerPage)
def list_volunteers(
    services: ServicesDep,
    principal: PrincipalDep,
    _: ReadYourWrites,
    q: Annotated[str | None, Query(max_length=100, description="part of the name")] = None,
    organisation: Annotated[str | None, Query(max_length=64)] = None,
    municipality: Annotated[str | None, Query(max_length=100)] = None,
    language: Annotated[str | None, Query(max_length=3)] = None,
    state: VolunteerState | None = None,
    with_capacity: Annotated[bool | None, Query(description="true: can take a mentee")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Any:
    """Volunteers by name, e.g. those who can take a mentee. A volunteer sees only itself."""
    page = partners.volunteers(
        services, principal, q=q, organisation=organisation, municipality=municipality,
        language=language, state=state, with_capacity=with_capacity, limit=limit, cursor=cursor,
    )  # fmt: skip
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.get("/me", response_model=VolunteerOut)
def me(services: ServicesDep, principal: PrincipalDep, _: ReadYourWrites) -> Any:
    """The calling volunteer's own record (role ``volunteer``)."""
    return partners.me(services, principal)


@router.get("/{volunteer_id}", response_model=VolunteerOut)
def get_volunteer(
    volunteer_id: UUID, services: ServicesDep, principal: PrincipalDep, _: ReadYourWrites
) -> Any:
    return partners.volunteer(services, principal, volunteer_id)


@router.get(
    "/{volunteer_id}/mentees",
    response_model=MenteesOut,
    dependencies=[Depends(consents_current)],
)
def mentees(
    volunteer_id: UUID, services: ServicesDep, principal: PrincipalDep, _: ReadYourWrites
) -> Any:
    """The people the volunteer mentors, each with only the fields they consented to share with
    their mentor. Only the volunteer itself, while it has not left."""
    items = matching.mentees(services, principal, volunteer_id)
    return {"volunteer_id": volunteer_id, "items": items}


@router.patch("/{volunteer_id}", response_model=SavedOut, responses=WRITTEN)
def change_volunteer(
    volunteer_id: UUID,
    body: ChangeVolunteer,
    request: Request,
    services: ServicesDep,
    principal: PrincipalDep,
    key: IdempotencyHeader = None,
) -> JSONResponse:
    path = f"/volunteers/{volunteer_id}"
    idem = idempotency_key(principal, key, "PATCH", path, body.model_dump(mode="json"))
    result = partners.change_volunteer(services, principal, volunteer_id, body.changes(), idem)
    return written(request, SavedOut, result, status=200)


@router.post("/{volunteer_id}/pause", status_code=201, response_model=SavedOut, responses=WRITTEN)
def pause_volunteer(
    volunteer_id: UUID,
    body: Reason,
    request: Request,
    services: ServicesDep,
    principal: PrincipalDep,
    key: IdempotencyHeader = None,
) -> JSONResponse:
    path = f"/volunteers/{volunteer_id}/pause"
    idem = idempotency_key(principal, key, "POST", path, body.model_dump(mode="json"))
    result = partners.pause_volunteer(services, principal, volunteer_id, body.reason, idem)
    return written(request, SavedOut, result)


@router.post("/{volunteer_id}/resume", status_code=201, response_model=SavedOut, responses=WRITTEN)
def resume_volunteer(
    volunteer_id: UUID,
    request: Request,
    services: ServicesDep,
    principal: PrincipalDep,
    key: IdempotencyHeader = None,
) -> JSONResponse:
    idem = idempotency_key(principal, key, "POST", f"/volunteers/{volunteer_id}/resume", None)
    result = partners.resume_volunteer(services, principal, volunteer_id, idem)
    return written(request, SavedOut, result)


@router.post("/{volunteer_id}/leave", status_code=201, response_model=SavedOut, responses=WRITTEN)
def volunteer_leaves(
    volunteer_id: UUID,
    body: OptionalReason,
    request: Request,
    services: ServicesDep,
    principal: PrincipalDep,
    key: IdempotencyHeader = None,
) -> JSONResponse:
    path = f"/volunteers/{volunteer_id}/leave"
    idem = idempotency_key(principal, key, "POST", path, body.model_dump(mode="json"))
    result = partners.volunteer_leaves(services, principal, volunteer_id, body.reason, idem)
    return written(request, SavedOut, result)


@router.post("/{volunteer_id}/mentees", status_code=201, response_model=Recorded, responses=WRITTEN)
def assign_mentee(
    volunteer_id: UUID,
    body: AssignMentee,
    request: Request,
    services: ServicesDep,
    principal: PrincipalDep,
    expected: ExpectedVersion,
    key: IdempotencyHeader = None,
) -> JSONResponse:
    """The case's holder assigns the volunteer as mentor (``MentorAssigned``; the answer is the
    case's new version). The volunteer's capacity holds: a full or paused volunteer is a 409.
    Mentoring goes on after a placement."""
    path = f"/volunteers/{volunteer_id}/mentees"
    idem = idempotency_key(principal, key, "POST", path, body.model_dump(mode="json"))
    result = matching.assign_mentor(
        services, principal, volunteer_id, body.case_id, body.assigned_on, expected, idem
    )
    return written(request, Recorded, result)


@router.post(
    "/{volunteer_id}/mentees/{case_id}/release",
    status_code=201,
    response_model=Recorded,
    responses=WRITTEN,
)
def release_mentee(
    volunteer_id: UUID,
    case_id: UUID,
    body: ReleaseMentee,
    request: Request,
    services: ServicesDep,
    principal: PrincipalDep,
    expected: ExpectedVersion,
    key: IdempotencyHeader = None,
) -> JSONResponse:
    """The case's holder ends the mentoring (``MentorReleased``)."""
    path = f"/volunteers/{volunteer_id}/mentees/{case_id}/release"
    idem = idempotency_key(principal, key, "POST", path, body.model_dump(mode="json"))
    result = matching.release_mentor(
        services, principal, volunteer_id, case_id, body.released_on, expected, idem
    )
    return written(request, Recorded, result)
