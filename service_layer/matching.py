"""What the matching endpoints show: ranked candidates for an offer, ranked offers for a person,
a volunteer's mentees, each person reduced to the fields the viewer may see.

Staff see the cases their organisation holds, in full. An employer sees only people with an open
consent to share with it, scored and shown on the consented fields alone; a mentor likewise.
Consents are checked twice: on the rows that are scored and again on the documents shown.
"""

from __future__ import annotations

import json
from typing import Any

from adapters.views.matching_queries import MatchingQueries
from domain import consent, matching
from domain.values import ConsentPurpose
from projections.sharing import ALL_FIELDS, candidate_from, granted, post_from, shared_view

Doc = dict[str, Any]
EMPLOYER = ConsentPurpose.SHARE_WITH_EMPLOYER.value
MENTOR = ConsentPurpose.SHARE_WITH_MENTOR.value


def offer_out(doc: Doc, employer: Doc | None) -> Doc:
    return {**doc, "employer_name": employer["name"] if employer else None}


def offers_out(q: MatchingQueries, docs: list[Doc]) -> list[Doc]:
    employers = q.employers_by_id(sorted({d["employer_id"] for d in docs}))
    return [offer_out(d, employers.get(d["employer_id"])) for d in docs]


def volunteer_out(doc: Doc) -> Doc:
    return {**doc, "mentee_count": len(doc["mentees"])}


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
