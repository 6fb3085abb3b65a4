"""Volunteer mentors (Paten): register, list, read, change, pause, resume, leave; assign and
release mentees; a volunteer's view of the people it mentors."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from api.deps import (
    ExpectedVersion,
    IdempotencyHeader,
    PrincipalDep,
    ReadYourWrites,
    ServicesDep,
    actor_of,
    idempotency_key,
)
from api.partner_deps import (
    REFUSALS,
    WRITTEN,
    MatchingDep,
    PartnersDep,
    consents_current,
    not_found,
    saved,
)
from api.partner_schemas import (
    AssignMentee,
    ChangeVolunteer,
    MenteesOut,
    OptionalReason,
    RegisterVolunteer,
    ReleaseMentee,
    SavedOut,
    VolunteerOut,
    VolunteerPage,
)
from api.routers.cases import created
from api.schemas import Reason, Recorded
from domain.actor import acting_as
from domain.principal import STAFF_ROLES, Role
from domain.values import VolunteerState
from service_layer import access
from service_layer import cases as operations
from service_layer import partner_access as pa
from service_layer.matching import mentees_of, volunteer_out

router = APIRouter(prefix="/volunteers", tags=["volunteers"], responses=REFUSALS)
MANAGERS = (*STAFF_ROLES, Role.VOLUNTEER)


@router.post("", status_code=201, response_model=SavedOut, responses=WRITTEN)
def register_volunteer(
    body: RegisterVolunteer,
    request: Request,
    partners: PartnersDep,
    principal: PrincipalDep,
    key: IdempotencyHeader = None,
) -> JSONResponse:
    """Register a volunteer of the caller's (welfare) organisation; the volunteer signs in with
    ``login`` as ``sub`` and the organisation as ``org``."""
    pa.require(principal, *STAFF_ROLES, doing="register volunteers")
    idem = idempotency_key(principal, key, "POST", "/volunteers", body.model_dump(mode="json"))
    with acting_as(actor_of(principal)):
        result = partners.register_volunteer(
            login=body.login,
            name=body.name,
            languages=tuple(body.languages),
            municipality=body.municipality,
            capacity=body.capacity,
            idempotency=idem,
        )
    return saved(result, request)


@router.get("", response_model=VolunteerPage)
def list_volunteers(
    matching: MatchingDep,
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
    own = pa.volunteer_of(principal)
    if not principal.has(*pa.READERS) and own is None:
        raise access.forbidden("employers do not see the volunteers")
    filters: dict[str, Any] = {
        "q": q, "organisation": organisation, "municipality": municipality, "language": language,
        "state": state.value if state else None, "with_capacity": with_capacity,
        "volunteer_id": None if principal.has(*pa.READERS) else str(own),
    }  # fmt: skip
    page = matching.volunteers(filters=filters, limit=limit, cursor=cursor)
    return {"items": [volunteer_out(d) for d in page.items], "next_cursor": page.next_cursor}


def _volunteer(matching: Any, principal: Any, volunteer_id: UUID) -> dict[str, Any]:
    pa.require_reader_or_self(principal, pa.volunteer_of(principal), str(volunteer_id))
    doc = matching.volunteer(str(volunteer_id))
    if doc is None:
        raise not_found("volunteer", volunteer_id)
    return dict(doc)


@router.get("/me", response_model=VolunteerOut)
def me(matching: MatchingDep, principal: PrincipalDep, _: ReadYourWrites) -> Any:
    """The calling volunteer's own record (role ``volunteer``)."""
    own = pa.volunteer_of(principal)
    if own is None:
        raise access.forbidden("only volunteers have a volunteer record")
    return volunteer_out(_volunteer(matching, principal, own))


@router.get("/{volunteer_id}", response_model=VolunteerOut)
def get_volunteer(
    volunteer_id: UUID, matching: MatchingDep, principal: PrincipalDep, _: ReadYourWrites
) -> Any:
    return volunteer_out(_volunteer(matching, principal, volunteer_id))


@router.get(
    "/{volunteer_id}/mentees",
    response_model=MenteesOut,
    dependencies=[Depends(consents_current)],
)
def mentees(
    volunteer_id: UUID,
    services: ServicesDep,
    matching: MatchingDep,
    principal: PrincipalDep,
    _: ReadYourWrites,
) -> Any:
    """The people the volunteer mentors, each with only the fields they consented to share with
    their mentor. Only the volunteer itself, while it has not left."""
    if pa.volunteer_of(principal) != volunteer_id:
        raise access.forbidden("only the volunteer sees the people it mentors")
    volunteer = _volunteer(matching, principal, volunteer_id)
    if volunteer["state"] == VolunteerState.LEFT.value:
        raise access.forbidden("a volunteer who has left sees no one")
    items = mentees_of(matching, volunteer)
    services.access_log.record(
        actor=principal.sub,
        org=principal.org,
        case_ids=[i["case_id"] for i in items],
        endpoint="GET /volunteers/{id}/mentees",
    )
    return {"volunteer_id": volunteer_id, "items": items}


def _own_or_staff(principal: Any, volunteer_id: UUID) -> None:
    pa.require(principal, *MANAGERS, doing="change volunteers")
    if not pa.is_staff(principal) and pa.volunteer_of(principal) != volunteer_id:
        raise access.forbidden("a volunteer changes only its own record")


@router.patch("/{volunteer_id}", response_model=SavedOut, responses=WRITTEN)
def change_volunteer(
    volunteer_id: UUID,
    body: ChangeVolunteer,
    request: Request,
    partners: PartnersDep,
    principal: PrincipalDep,
) -> JSONResponse:
    _own_or_staff(principal, volunteer_id)
    changes = body.model_dump(exclude_unset=True)
    if changes.get("languages") is not None:
        changes["languages"] = tuple(changes["languages"])
    with acting_as(actor_of(principal)):
        result = partners.change_volunteer(volunteer_id, **changes)
    return saved(result, request, status=200)


@router.post("/{volunteer_id}/pause", status_code=201, response_model=SavedOut, responses=WRITTEN)
def pause_volunteer(
    volunteer_id: UUID,
    body: Reason,
    request: Request,
    partners: PartnersDep,
    principal: PrincipalDep,
) -> JSONResponse:
    _own_or_staff(principal, volunteer_id)
    with acting_as(actor_of(principal)):
        result = partners.pause_volunteer(volunteer_id, reason=body.reason)
    return saved(result, request)


@router.post("/{volunteer_id}/resume", status_code=201, response_model=SavedOut, responses=WRITTEN)
def resume_volunteer(
    volunteer_id: UUID, request: Request, partners: PartnersDep, principal: PrincipalDep
) -> JSONResponse:
    _own_or_staff(principal, volunteer_id)
    with acting_as(actor_of(principal)):
        result = partners.resume_volunteer(volunteer_id)
    return saved(result, request)


@router.post("/{volunteer_id}/leave", status_code=201, response_model=SavedOut, responses=WRITTEN)
def volunteer_leaves(
    volunteer_id: UUID,
    body: OptionalReason,
    request: Request,
    partners: PartnersDep,
    principal: PrincipalDep,
) -> JSONResponse:
    _own_or_staff(principal, volunteer_id)
    with acting_as(actor_of(principal)):
        result = partners.volunteer_leaves(volunteer_id, reason=body.reason or "ausgeschieden")
    return saved(result, request)


@router.post("/{volunteer_id}/mentees", status_code=201, response_model=Recorded, responses=WRITTEN)
def assign_mentee(
    volunteer_id: UUID,
    body: AssignMentee,
    request: Request,
    partners: PartnersDep,
    principal: PrincipalDep,
    expected: ExpectedVersion,
    key: IdempotencyHeader = None,
) -> JSONResponse:
    """The case's holder assigns the volunteer as mentor (``MentorAssigned``; the answer is the
    case's new version). The volunteer's capacity holds: a full or paused volunteer is a 409.
    Mentoring goes on after a placement."""
    pa.require(principal, *STAFF_ROLES, doing="assign mentors")
    operations.require_known(request.app.state.services, principal, body.case_id)
    path = f"/volunteers/{volunteer_id}/mentees"
    idem = idempotency_key(principal, key, "POST", path, body.model_dump(mode="json"))
    with acting_as(actor_of(principal)):
        result = partners.assign_mentor(
            body.case_id,
            volunteer_id,
            assigned_on=body.assigned_on,
            expected_version=expected,
            idempotency=idem,
        )
    return created(result, request)


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
    partners: PartnersDep,
    principal: PrincipalDep,
    expected: ExpectedVersion,
) -> JSONResponse:
    """The case's holder ends the mentoring (``MentorReleased``)."""
    pa.require(principal, *STAFF_ROLES, doing="release mentors")
    operations.require_known(request.app.state.services, principal, case_id)
    with acting_as(actor_of(principal)):
        result = partners.release_mentor(
            case_id, volunteer_id, released_on=body.released_on, expected_version=expected
        )
    return created(result, request)
