"""Matching and placements: ranked candidates for an offer, ranked offers for a person, a
volunteer's mentees, each person reduced to the fields the viewer may see; placing a person on an
offer, assigning and releasing a mentor. Every person shown lands in the access log.

Staff see the cases their organisation holds, in full. An employer sees only people with an open
consent to share with it, scored and shown on the consented fields alone; a mentor likewise.
Consents are checked twice: on the rows that are scored and again on the documents shown.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from adapters.views.matching_queries import MatchingQueries
from domain import consent, matching
from domain.actor import acting_as
from domain.errors import CaseNotFoundError, EmployerNotFoundError
from domain.principal import STAFF_ROLES, Principal, Role
from domain.values import ConsentPurpose, VolunteerState, WageSubsidy
from domain.writes import IdempotencyKey, Recorded
from projections.sharing import ALL_FIELDS, candidate_from, granted, post_from, shared_view
from service_layer import access
from service_layer import cases as operations
from service_layer.partners import offer_doc, offers_out, views, volunteer_doc
from service_layer.ports import Services

Doc = dict[str, Any]
EMPLOYER = ConsentPurpose.SHARE_WITH_EMPLOYER.value
MENTOR = ConsentPurpose.SHARE_WITH_MENTOR.value


@dataclass(frozen=True)
class Placement:
    """A person placed on an offer; ``placement_id`` None: ``offer-<offer id>``."""

    case_id: UUID
    starts_on: date
    placement_id: str | None = None
    wage_subsidy: WageSubsidy | None = None


def _result(m: matching.Match) -> Doc:
    return {
        "score": m.score,
        "explanation": m.explanation,
        "reasons": list(m.reasons),
        "permission": m.permission.value if m.permission else None,
    }


def candidates_for_staff(q: MatchingQueries, offer: Doc, holder: str, limit: int) -> list[Doc]:
    """The best candidates among the open cases ``holder`` holds (not yet placed on it)."""
    placed, key = set(offer["placed"]), matching.occupation_key(offer["occupation"])
    pool = [
        candidate_from(r, ALL_FIELDS, key) for r in q.held_by(holder) if r["case_id"] not in placed
    ]
    ranked = matching.rank(post_from(offer), pool, limit)
    docs = q.people([c.case_id for _, c in ranked])
    return [
        {**_result(m), "case_id": c.case_id, "fields": sorted(ALL_FIELDS),
         "person": shared_view(docs[c.case_id], ALL_FIELDS)}
        for m, c in ranked if c.case_id in docs
    ]  # fmt: skip


def candidates_for_employer(
    q: MatchingQueries, offer: Doc, recipients: list[str], limit: int
) -> list[Doc]:
    """The best candidates among the people who consented to share with this employer, scored
    on what they consented to share and shown with exactly that."""
    placed = set(offer["placed"])
    pool = []
    for row in q.shared_with(EMPLOYER, recipients):
        if row["case_id"] in placed:
            continue
        fields = consent.expand(name for scope in row["scopes"] for name in scope)
        pool.append(candidate_from(row, fields, matching.occupation_key(offer["occupation"])))
    ranked = matching.rank(post_from(offer), pool, limit)
    docs = q.people([c.case_id for _, c in ranked])
    out = []
    for m, c in ranked:
        doc = docs.get(c.case_id)
        if doc is None or doc["closed"]:
            continue
        fields = granted(doc, EMPLOYER, recipients)
        if fields:  # withdrawn between the two reads: not shown
            shown = {"case_id": c.case_id, "fields": sorted(fields)}
            out.append({**_result(m), **shown, "person": shared_view(doc, fields)})
    return out


def offers_for_person(q: MatchingQueries, person: Doc, limit: int) -> list[Doc]:
    """The best open offers for a person (not those they are placed on already)."""
    row = {**person, "occupations": json.dumps(person["occupations"])}
    candidate = candidate_from(row)
    placed_on = {p["offer_id"] for p in person["placements"]}
    offers = {d["offer_id"]: d for d in q.open_offers() if d["offer_id"] not in placed_on}
    ranked = matching.rank_posts(candidate, [post_from(d) for d in offers.values()], limit)
    shown = offers_out(q, [offers[p.offer_id] for _, p in ranked])
    return [{**_result(m), "offer": o} for (m, _), o in zip(ranked, shown, strict=True)]


def mentees_of(q: MatchingQueries, volunteer: Doc) -> list[Doc]:
    """The people a volunteer mentors, each with the fields consented for their mentor."""
    recipients = [volunteer["volunteer_id"], volunteer["organisation"]]
    out = []
    for doc in q.mentees(volunteer["volunteer_id"]):
        fields = granted(doc, MENTOR, recipients)
        since = next(
            (m["assigned_on"] for m in doc["mentors"] if m["volunteer_id"] in recipients), None
        )
        shown = {"case_id": doc["case_id"], "assigned_on": since, "fields": sorted(fields)}
        out.append({**shown, "person": shared_view(doc, fields)})
    return out


# -- use cases: reads -----------------------------------------------------------------------------
# consent-gated reads (candidates, mentees) expect the matching view to have caught up with every
# event recorded before the request: the caller waits first (``api.deps.consents_current``)


def candidates(
    services: Services, principal: Principal, offer_id: UUID, limit: int = 20
) -> list[Doc]:
    """The best candidates for the offer, best first. Staff: among the open cases their
    organisation holds, in full. The offer's employer: only people who consented to share with
    it, ranked on and showing only the consented fields (withdrawing hides them at once)."""
    if not principal.has(*STAFF_ROLES, Role.EMPLOYER):  # before any read: 403 however far behind
        raise access.forbidden("only staff and the offer's employer see candidates")
    q = views(services)
    offer = offer_doc(q, offer_id)
    if principal.has(*STAFF_ROLES):
        items = candidates_for_staff(q, offer, principal.org, limit)
    elif principal.has(Role.EMPLOYER):
        access.require_offer_reader(principal, offer)
        employer = q.employer(offer["employer_id"])
        if employer is None:
            raise EmployerNotFoundError(offer["employer_id"])
        items = candidates_for_employer(q, offer, access.employer_recipients(employer), limit)
    else:
        raise access.forbidden("only staff and the offer's employer see candidates")
    operations.log_reads(
        services, principal, [i["case_id"] for i in items], "GET /offers/{id}/candidates"
    )
    return items


def offers_for_case(
    services: Services, principal: Principal, case_id: UUID, limit: int = 20
) -> list[Doc]:
    """The best open offers for the person, best first: for whoever may read the whole case."""
    if not principal.has(*STAFF_ROLES, Role.AUDITOR):
        raise access.forbidden("volunteers and employers see people only through their consent")
    if access.read_scope(principal, operations.find_case(services, case_id)) != "full":
        raise access.forbidden(f"'{principal.org}' may not read this case")
    q = views(services)
    person = q.person(str(case_id))
    if person is None:
        raise CaseNotFoundError(case_id)
    items = offers_for_person(q, person, limit)
    operations.log_reads(services, principal, [str(case_id)], "GET /cases/{id}/offers")
    return items


def mentees(services: Services, principal: Principal, volunteer_id: UUID) -> list[Doc]:
    """The people the volunteer mentors, each with only the fields they consented to share with
    their mentor. Only the volunteer itself, while it has not left."""
    if access.volunteer_of(principal) != volunteer_id:
        raise access.forbidden("only the volunteer sees the people it mentors")
    volunteer = volunteer_doc(services, principal, volunteer_id)
    if volunteer["state"] == VolunteerState.LEFT.value:
        raise access.forbidden("a volunteer who has left sees no one")
    items = mentees_of(views(services), volunteer)
    operations.log_reads(
        services, principal, [i["case_id"] for i in items], "GET /volunteers/{id}/mentees"
    )
    return items


# -- use cases: writes on a case (the answer is the case's new version) ---------------------------


def place(
    services: Services,
    principal: Principal,
    offer_id: UUID,
    placement: Placement,
    expected_version: int | None = None,
    idempotency: IdempotencyKey | None = None,
) -> Recorded:
    """The case's holder records ``PlacementMade``; the offer's position is taken in the same
    transaction. The last free position fills the offer; a full, paused or withdrawn offer is a
    conflict."""
    access.require(principal, *STAFF_ROLES, doing="place people")
    operations.require_known(services, principal, placement.case_id)
    with acting_as(operations.actor_of(principal)):
        return services.cases.place(
            placement.case_id,
            offer_id,
            placement_id=placement.placement_id or f"offer-{offer_id}",
            starts_on=placement.starts_on,
            wage_subsidy=placement.wage_subsidy,
            expected_version=expected_version,
            idempotency=idempotency,
        )


def assign_mentor(
    services: Services,
    principal: Principal,
    volunteer_id: UUID,
    case_id: UUID,
    assigned_on: date | None = None,
    expected_version: int | None = None,
    idempotency: IdempotencyKey | None = None,
) -> Recorded:
    """The case's holder assigns the volunteer as mentor (``MentorAssigned``). The volunteer's
    capacity holds: a full or paused volunteer is a conflict. Mentoring goes on after a
    placement."""
    access.require(principal, *STAFF_ROLES, doing="assign mentors")
    operations.require_known(services, principal, case_id)
    with acting_as(operations.actor_of(principal)):
        return services.cases.assign_mentor(
            case_id,
            volunteer_id,
            assigned_on=assigned_on,
            expected_version=expected_version,
            idempotency=idempotency,
        )


def release_mentor(
    services: Services,
    principal: Principal,
    volunteer_id: UUID,
    case_id: UUID,
    released_on: date | None = None,
    expected_version: int | None = None,
    idempotency: IdempotencyKey | None = None,
) -> Recorded:
    """The case's holder ends the mentoring (``MentorReleased``)."""
    access.require(principal, *STAFF_ROLES, doing="release mentors")
    operations.require_known(services, principal, case_id)
    with acting_as(operations.actor_of(principal)):
        return services.cases.release_mentor(
            case_id,
            volunteer_id,
            released_on=released_on,
            expected_version=expected_version,
            idempotency=idempotency,
        )
