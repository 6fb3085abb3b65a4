"""Volunteer mentors (Paten): the directory, a volunteer's page, and a volunteer's own view of
the people they mentor ("Meine Patenschaften"), each person with only what they consented to
share with their mentor, also after a placement. Assigning and releasing a mentor happens on the
case page. Reads are the service layer's use cases (``service_layer/partners.py``,
``service_layer/matching.py``), as the JSON API calls them."""

from __future__ import annotations

import re
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.deps import read_your_writes_at_first_read, wait_for_consents
from api.web.core import ServicesDep, WebPrincipal, WebRoute, next_page, render
from api.web.offers import LIMIT
from domain.values import VolunteerState
from service_layer import access, matching, partners
from service_layer.access import forbidden

router = APIRouter(prefix="/ui", route_class=WebRoute, include_in_schema=False)
Text = Annotated[str | None, Query(max_length=100)]
ISO = re.compile(r"^[A-Za-z]{2,3}$")
CAPACITY = {"true": "kann jemanden übernehmen", "false": "ausgelastet"}


@router.get("/volunteers")
def volunteer_list(
    request: Request,
    services: ServicesDep,
    principal: WebPrincipal,
    q: Text = None,
    organisation: Annotated[str | None, Query(max_length=64)] = None,
    municipality: Text = None,
    language: Text = None,
    with_capacity: Annotated[str | None, Query(max_length=5)] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    read_your_writes_at_first_read(request, services, principal)
    filters = {
        "q": q or None,
        "organisation": organisation or None,
        "municipality": municipality or None,
        "language": language.strip().lower() if language and ISO.match(language.strip()) else None,
        "with_capacity": with_capacity if with_capacity in CAPACITY else None,
    }
    page = partners.volunteers(
        services, principal, q=filters["q"], organisation=filters["organisation"],
        municipality=filters["municipality"], language=filters["language"],
        with_capacity=None if filters["with_capacity"] is None
        else filters["with_capacity"] == "true",
        state=VolunteerState.AVAILABLE if filters["with_capacity"] == "true" else None,
        limit=LIMIT, cursor=cursor,
    )  # fmt: skip
    return render(
        request,
        "volunteers.html",
        title="Patinnen und Paten",
        nav="volunteers",
        volunteers=page.items,
        filters=filters,
        language_refused=bool(language and language.strip()) and filters["language"] is None,
        orgs=[o for o in services.orgs if o.kind == "welfare"],
        capacity_labels=CAPACITY,
        next_url=next_page("/ui/volunteers", filters, page.next_cursor),
    )


@router.get("/volunteers/{volunteer_id}")
def show_volunteer(
    volunteer_id: UUID, request: Request, services: ServicesDep, principal: WebPrincipal
) -> Response:
    read_your_writes_at_first_read(request, services, principal)
    volunteer = partners.volunteer(services, principal, volunteer_id)
    return render(
        request,
        "volunteer.html",
        title=volunteer["name"],
        nav="mentoring" if access.volunteer_of(principal) == volunteer_id else "volunteers",
        volunteer=volunteer,
        own=access.volunteer_of(principal) == volunteer_id,
    )


@router.get("/mentoring")
def mentoring(request: Request, services: ServicesDep, principal: WebPrincipal) -> Response:
    """The signed-in volunteer's mentees, each with only the fields shared with the mentor."""
    read_your_writes_at_first_read(request, services, principal)
    own = access.volunteer_of(principal)
    if own is None:
        raise forbidden("only volunteers have mentees")
    me = partners.me(services, principal)
    left = me["state"] == VolunteerState.LEFT.value
    if not left:
        wait_for_consents(services)  # as the JSON endpoint waits
    return render(
        request,
        "mentoring.html",
        title="Meine Patenschaften",
        nav="mentoring",
        me=me,
        left=left,
        mentees=[] if left else matching.mentees(services, principal, own),
    )
