"""The JSON API's own endpoint functions for employers, offers, matching, volunteers and a case's
erasure, called in-process by the web pages: the same access decisions, the same commands, the
same consent checks. A read's answer goes through the endpoint's response model, so a page gets
exactly the fields the API would send; a write's answer is the API's ``{id, version, position}``,
after the API's own read-your-writes bookkeeping."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar
from uuid import UUID

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api import partner_schemas as ps
from api.partner_deps import consents_current, get_matching
from api.routers import cases, employers, matching, offers, volunteers
from api.schemas import EraseCase, Reason
from bootstrap import Services
from domain.principal import Principal

M = TypeVar("M", bound=BaseModel)
LIMIT = 50


def shown(model: type[M], answer: Any) -> dict[str, Any]:
    """The answer as the API serialises it: only the response model's fields, JSON values."""
    dumped: dict[str, Any] = model.model_validate(answer).model_dump(mode="json")
    return dumped


def written(response: JSONResponse) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(bytes(response.body))
    return body


# -- reads ----------------------------------------------------------------------------------------


def directory(
    services: Services,
    principal: Principal,
    endpoint: Callable[..., Any],
    model: type[M],
    filters: dict[str, Any],
) -> dict[str, Any]:
    """A page of a list endpoint: the filters given as its query parameters (the rest unset), 50
    entries unless ``limit`` is given."""
    answer = endpoint(get_matching(services), principal, None, **{"limit": LIMIT, **filters})
    return shown(model, answer)


def offer_page(services: Services, principal: Principal, **filters: Any) -> dict[str, Any]:
    return directory(services, principal, offers.list_offers, ps.OfferPage, filters)


def offer(services: Services, principal: Principal, offer_id: UUID) -> dict[str, Any]:
    return shown(ps.OfferOut, offers.get_offer(offer_id, get_matching(services), principal, None))


def candidates(services: Services, principal: Principal, offer_id: UUID) -> list[dict[str, Any]]:
    consents_current(services)  # the endpoint's own dependency
    answer = matching.candidates(offer_id, services, get_matching(services), principal, None)
    items: list[dict[str, Any]] = shown(ps.CandidatesOut, answer)["items"]
    return items


def offers_for_case(
    services: Services, principal: Principal, case_id: UUID
) -> list[dict[str, Any]]:
    answer = matching.offers_for_case(case_id, services, get_matching(services), principal, None)
    items: list[dict[str, Any]] = shown(ps.CaseOffersOut, answer)["items"]
    return items


def employer_page(services: Services, principal: Principal, **filters: Any) -> dict[str, Any]:
    return directory(services, principal, employers.list_employers, ps.EmployerPage, filters)


def employer(services: Services, principal: Principal, employer_id: UUID) -> dict[str, Any]:
    answer = employers.get_employer(employer_id, get_matching(services), principal, None)
    return shown(ps.EmployerOut, answer)


def volunteer_page(services: Services, principal: Principal, **filters: Any) -> dict[str, Any]:
    return directory(services, principal, volunteers.list_volunteers, ps.VolunteerPage, filters)


def volunteer(services: Services, principal: Principal, volunteer_id: UUID) -> dict[str, Any]:
    answer = volunteers.get_volunteer(volunteer_id, get_matching(services), principal, None)
    return shown(ps.VolunteerOut, answer)


def me(services: Services, principal: Principal) -> dict[str, Any]:
    return shown(ps.VolunteerOut, volunteers.me(get_matching(services), principal, None))


def mentees(services: Services, principal: Principal, volunteer_id: UUID) -> list[dict[str, Any]]:
    consents_current(services)  # the endpoint's own dependency
    answer = volunteers.mentees(volunteer_id, services, get_matching(services), principal, None)
    items: list[dict[str, Any]] = shown(ps.MenteesOut, answer)["items"]
    return items


# -- writes ---------------------------------------------------------------------------------------


def publish(request: Request, services: Services, principal: Principal,
            body: ps.PublishOffer, key: str | None) -> dict[str, Any]:  # fmt: skip
    return written(offers.publish_offer(body, request, services.cases, principal, key))


def change_offer(
    request: Request, services: Services, principal: Principal, offer_id: UUID, action: str,
    body: BaseModel,
) -> dict[str, Any]:  # fmt: skip
    """``pause``, ``reopen`` or ``withdraw`` the offer (pausing and withdrawing name a reason)."""
    app = services.cases
    if action == "reopen":
        return written(offers.reopen_offer(offer_id, request, app, principal))
    assert isinstance(body, Reason)
    endpoint = offers.pause_offer if action == "pause" else offers.withdraw_offer
    return written(endpoint(offer_id, body, request, app, principal))


def place(
    request: Request, services: Services, principal: Principal, offer_id: UUID,
    body: ps.PlaceCase, key: str | None,
) -> dict[str, Any]:  # fmt: skip
    return written(offers.place_case(offer_id, body, request, services.cases, principal, None, key))


def assign_mentor(
    request: Request, services: Services, principal: Principal, volunteer_id: UUID,
    body: ps.AssignMentee, expected: int | None, key: str | None,
) -> dict[str, Any]:  # fmt: skip
    return written(
        volunteers.assign_mentee(
            volunteer_id, body, request, services.cases, principal, expected, key
        )
    )


def erase(
    request: Request, services: Services, principal: Principal, case_id: UUID,
    body: EraseCase, expected: int | None, key: str | None,
) -> dict[str, Any]:  # fmt: skip
    """``POST /cases/{case_id}/erasure``: the team lead's or admin's decision, crypto-shredding."""
    return written(cases.erase_case(case_id, body, request, services, principal, expected, key))
