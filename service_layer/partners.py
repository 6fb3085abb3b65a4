"""Employers, offers and volunteers: what a signed-in caller registers, changes and reads.

Each use case decides access (``partner_access``), acts as the caller and calls the application;
the domain decides who changes a record (the employer or the organisation looking after it, a
volunteer's welfare organisation). Reads come from the matching view, reduced to what the caller
may see; a record that is not there raises the domain's not-found error.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any
from uuid import UUID

from adapters.views.matching_queries import MatchingQueries
from adapters.views.queries import Page
from domain.actor import acting_as
from domain.errors import EmployerNotFoundError, OfferNotFoundError, VolunteerNotFoundError
from domain.principal import STAFF_ROLES, Principal, Role
from domain.values import Cefr, ContactPerson, OfferState, PlacementKind, VolunteerState
from domain.writes import IdempotencyKey, Recorded
from service_layer import access
from service_layer.cases import actor_of
from service_layer.errors import InvalidInputError
from service_layer.ports import Services

Doc = dict[str, Any]
OFFER_MANAGERS = (*STAFF_ROLES, Role.EMPLOYER)
VOLUNTEER_MANAGERS = (*STAFF_ROLES, Role.VOLUNTEER)


@dataclass(frozen=True)
class NewEmployer:
    account: str
    name: str
    sector: str
    locations: tuple[str, ...]
    contact: ContactPerson
    caring_org: str | None  # None: the caller's organisation
    interest: tuple[PlacementKind, ...] = ()


@dataclass(frozen=True)
class NewOffer:
    employer_id: UUID
    kind: PlacementKind
    occupation: str
    municipality: str
    german_level: Cefr | None
    starts_on: date
    positions: int = 1
    wage_subsidy_possible: bool = False


@dataclass(frozen=True)
class NewVolunteer:
    login: str
    name: str
    languages: tuple[str, ...]
    municipality: str
    capacity: int = 1


def views(services: Services) -> MatchingQueries:
    """The matching view: employers, offers, volunteers and the people to match."""
    return MatchingQueries(services.supervisor.store)


def require_org(services: Services, field: str, org: str | None) -> None:
    """A request naming an organisation (an employer's ``caring_org``) names one of ours."""
    if org is not None and org not in services.orgs:
        raise InvalidInputError(
            field, "unknown organisation", f"'{org}' is not a known organisation"
        )


# -- employers ------------------------------------------------------------------------------------


def register_employer(
    services: Services,
    principal: Principal,
    new: NewEmployer,
    idempotency: IdempotencyKey | None = None,
) -> Recorded:
    """Staff register only employers their organisation looks after (by default their own)."""
    access.require(principal, *STAFF_ROLES, doing="register employers")
    require_org(services, "caring_org", new.caring_org)
    with acting_as(actor_of(principal)):
        return services.cases.register_employer(
            account=new.account,
            name=new.name,
            sector=new.sector,
            locations=new.locations,
            contact=new.contact,
            caring_org=new.caring_org or principal.org,
            interest=new.interest,
            idempotency=idempotency,
        )


def change_employer(
    services: Services,
    principal: Principal,
    employer_id: UUID,
    changes: dict[str, Any],
    idem: IdempotencyKey | None = None,
) -> Recorded:
    """Change the fields given (plain values: tuples, a ``ContactPerson``)."""
    access.require(principal, *STAFF_ROLES, Role.EMPLOYER, doing="change employers")
    require_org(services, "caring_org", changes.get("caring_org"))
    with acting_as(actor_of(principal)):
        return services.cases.change_employer(employer_id, idem, **changes)


def deactivate_employer(
    services: Services,
    principal: Principal,
    employer_id: UUID,
    reason: str,
    idem: IdempotencyKey | None = None,
) -> Recorded:
    access.require(principal, *STAFF_ROLES, Role.EMPLOYER, doing="deactivate employers")
    with acting_as(actor_of(principal)):
        return services.cases.deactivate_employer(employer_id, reason=reason, idempotency=idem)


def employers(
    services: Services,
    principal: Principal,
    *,
    q: str | None = None,
    caring_org: str | None = None,
    municipality: str | None = None,
    active: bool | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page:
    """The employer directory, by name. An employer sees only itself."""
    own = access.employer_of(principal)
    if not principal.has(*access.READERS) and own is None:
        raise access.forbidden("volunteers do not see the employer directory")
    filters: dict[str, Any] = {
        "q": q, "caring_org": caring_org, "municipality": municipality, "active": active,
        "employer_id": None if principal.has(*access.READERS) else str(own),
    }  # fmt: skip
    return views(services).employers(filters=filters, limit=limit, cursor=cursor)


def employer(services: Services, principal: Principal, employer_id: UUID) -> Doc:
    access.require_reader_or_self(principal, access.employer_of(principal), str(employer_id))
    doc = views(services).employer(str(employer_id))
    if doc is None:
        raise EmployerNotFoundError(employer_id)
    return doc


def sees_employers(principal: Principal) -> bool:
    """Whether the caller reads any employer record (staff, auditors, an employer: its own)."""
    return principal.has(*access.READERS) or access.employer_of(principal) is not None


def may_manage(services: Services, principal: Principal, employer_id: UUID | str) -> bool:
    """Whether the caller may change the employer and its offers, as the domain decides
    (``Employer.may_manage``), while it is active: its own users and its caring organisation."""
    if not principal.has(*STAFF_ROLES, Role.EMPLOYER) or principal.has(Role.AUDITOR):
        return False
    try:
        found = services.cases.get_employer(UUID(str(employer_id)))
    except EmployerNotFoundError:
        return False
    return found.active and found.may_manage(principal.org)


# -- offers ---------------------------------------------------------------------------------------


def publish_offer(
    services: Services,
    principal: Principal,
    new: NewOffer,
    idempotency: IdempotencyKey | None = None,
) -> Recorded:
    """By the employer itself or the organisation that looks after it."""
    access.require(principal, *OFFER_MANAGERS, doing="publish offers")
    with acting_as(actor_of(principal)):
        return services.cases.publish_offer(
            new.employer_id,
            kind=new.kind,
            occupation=new.occupation,
            municipality=new.municipality,
            german_level=new.german_level,
            starts_on=new.starts_on,
            positions=new.positions,
            wage_subsidy_possible=new.wage_subsidy_possible,
            idempotency=idempotency,
        )


def pause_offer(
    services: Services,
    principal: Principal,
    offer_id: UUID,
    reason: str,
    idem: IdempotencyKey | None = None,
) -> Recorded:
    access.require(principal, *OFFER_MANAGERS, doing="change offers")
    with acting_as(actor_of(principal)):
        return services.cases.pause_offer(offer_id, reason=reason, idempotency=idem)


def reopen_offer(
    services: Services, principal: Principal, offer_id: UUID, idem: IdempotencyKey | None = None
) -> Recorded:
    access.require(principal, *OFFER_MANAGERS, doing="change offers")
    with acting_as(actor_of(principal)):
        return services.cases.reopen_offer(offer_id, idem)


def withdraw_offer(
    services: Services,
    principal: Principal,
    offer_id: UUID,
    reason: str,
    idem: IdempotencyKey | None = None,
) -> Recorded:
    access.require(principal, *OFFER_MANAGERS, doing="change offers")
    with acting_as(actor_of(principal)):
        return services.cases.withdraw_offer(offer_id, reason=reason, idempotency=idem)


def offer_out(doc: Doc, employer: Doc | None) -> Doc:
    return {**doc, "employer_name": employer["name"] if employer else None}


def offers_out(q: MatchingQueries, docs: list[Doc]) -> list[Doc]:
    employers = q.employers_by_id(sorted({d["employer_id"] for d in docs}))
    return [offer_out(d, employers.get(d["employer_id"])) for d in docs]


def offers(
    services: Services,
    principal: Principal,
    *,
    state: OfferState | None = None,
    kind: PlacementKind | None = None,
    municipality: str | None = None,
    occupation: str | None = None,
    employer_id: UUID | None = None,
    caring_org: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page:
    """Offers, newest first, each with its employer's name. An employer sees only its own."""
    own = access.offer_scope(principal)
    if own is not None and employer_id is not None and str(employer_id) != own:
        raise access.forbidden(f"'{principal.org}' may see only its own offers")
    filters = {
        "state": state.value if state else None, "kind": kind.value if kind else None,
        "municipality": municipality, "occupation": occupation, "caring_org": caring_org,
        "employer_id": own or (str(employer_id) if employer_id else None),
    }  # fmt: skip
    q = views(services)
    page = q.offers(filters=filters, limit=limit, cursor=cursor)
    return replace(page, items=offers_out(q, page.items))


def offer_doc(q: MatchingQueries, offer_id: UUID) -> Doc:
    """The offer as the view holds it, for deciding (no access decision)."""
    doc = q.offer(str(offer_id))
    if doc is None:
        raise OfferNotFoundError(offer_id)
    return dict(doc)


def offer(services: Services, principal: Principal, offer_id: UUID) -> Doc:
    """The offer with its employer's name: for whoever may read the employer's offers."""
    q = views(services)
    doc = offer_doc(q, offer_id)
    access.require_offer_reader(principal, doc)
    return offer_out(doc, q.employer(doc["employer_id"]))


# -- volunteers -----------------------------------------------------------------------------------


def register_volunteer(
    services: Services,
    principal: Principal,
    new: NewVolunteer,
    idempotency: IdempotencyKey | None = None,
) -> Recorded:
    """A volunteer of the caller's (welfare) organisation."""
    access.require(principal, *STAFF_ROLES, doing="register volunteers")
    with acting_as(actor_of(principal)):
        return services.cases.register_volunteer(
            login=new.login,
            name=new.name,
            languages=new.languages,
            municipality=new.municipality,
            capacity=new.capacity,
            idempotency=idempotency,
        )


def _own_or_staff(principal: Principal, volunteer_id: UUID) -> None:
    access.require(principal, *VOLUNTEER_MANAGERS, doing="change volunteers")
    if not access.is_staff(principal) and access.volunteer_of(principal) != volunteer_id:
        raise access.forbidden("a volunteer changes only its own record")


def change_volunteer(
    services: Services,
    principal: Principal,
    volunteer_id: UUID,
    changes: dict[str, Any],
    idem: IdempotencyKey | None = None,
) -> Recorded:
    _own_or_staff(principal, volunteer_id)
    with acting_as(actor_of(principal)):
        return services.cases.change_volunteer(volunteer_id, idem, **changes)


def pause_volunteer(
    services: Services,
    principal: Principal,
    volunteer_id: UUID,
    reason: str,
    idem: IdempotencyKey | None = None,
) -> Recorded:
    _own_or_staff(principal, volunteer_id)
    with acting_as(actor_of(principal)):
        return services.cases.pause_volunteer(volunteer_id, reason=reason, idempotency=idem)


def resume_volunteer(
    services: Services,
    principal: Principal,
    volunteer_id: UUID,
    idem: IdempotencyKey | None = None,
) -> Recorded:
    _own_or_staff(principal, volunteer_id)
    with acting_as(actor_of(principal)):
        return services.cases.resume_volunteer(volunteer_id, idem)


def volunteer_leaves(
    services: Services,
    principal: Principal,
    volunteer_id: UUID,
    reason: str | None,
    idem: IdempotencyKey | None = None,
) -> Recorded:
    _own_or_staff(principal, volunteer_id)
    with acting_as(actor_of(principal)):
        return services.cases.volunteer_leaves(
            volunteer_id, reason=reason or "ausgeschieden", idempotency=idem
        )


def volunteer_out(doc: Doc) -> Doc:
    return {**doc, "mentee_count": len(doc["mentees"])}


def volunteers(
    services: Services,
    principal: Principal,
    *,
    q: str | None = None,
    organisation: str | None = None,
    municipality: str | None = None,
    language: str | None = None,
    state: VolunteerState | None = None,
    with_capacity: bool | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page:
    """Volunteers by name, e.g. those who can take a mentee. A volunteer sees only itself."""
    own = access.volunteer_of(principal)
    if not principal.has(*access.READERS) and own is None:
        raise access.forbidden("employers do not see the volunteers")
    filters: dict[str, Any] = {
        "q": q, "organisation": organisation, "municipality": municipality, "language": language,
        "state": state.value if state else None, "with_capacity": with_capacity,
        "volunteer_id": None if principal.has(*access.READERS) else str(own),
    }  # fmt: skip
    page = views(services).volunteers(filters=filters, limit=limit, cursor=cursor)
    return replace(page, items=[volunteer_out(d) for d in page.items])


def volunteer_doc(services: Services, principal: Principal, volunteer_id: UUID) -> Doc:
    """The volunteer as the view holds it: for staff, auditors and the volunteer itself."""
    access.require_reader_or_self(principal, access.volunteer_of(principal), str(volunteer_id))
    doc = views(services).volunteer(str(volunteer_id))
    if doc is None:
        raise VolunteerNotFoundError(volunteer_id)
    return dict(doc)


def volunteer(services: Services, principal: Principal, volunteer_id: UUID) -> Doc:
    return volunteer_out(volunteer_doc(services, principal, volunteer_id))


def me(services: Services, principal: Principal) -> Doc:
    """The calling volunteer's own record (role ``volunteer``)."""
    own = access.volunteer_of(principal)
    if own is None:
        raise access.forbidden("only volunteers have a volunteer record")
    return volunteer(services, principal, own)
