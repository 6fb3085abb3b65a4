"""What a viewer of the matching documents sees: the candidate or post that matching scores, and
only the fields a person consented to share with an employer or a mentor (pure functions)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from domain import consent
from domain.matching import Candidate, Occupation, Post, Training
from domain.values import Cefr, LegalStatus, PlacementKind
from projections.partner_docs import Doc

ALL_FIELDS = frozenset(consent.FIELDS)


def granted(doc: Doc, purpose: str, recipients: Iterable[str]) -> frozenset[str]:
    """The fields the person's open consents for ``purpose`` grant any of ``recipients``."""
    to = set(recipients)
    return consent.expand(
        name
        for c in doc["consents"]
        if c["purpose"] == purpose and c["recipient"] in to
        for name in c["scope"]
    )


def shared_view(doc: Doc, fields: frozenset[str]) -> Doc:
    """The person as a viewer with ``fields`` sees them (``ALL_FIELDS``: staff)."""
    person = doc["person"]
    parts: dict[str, Any] = {
        "name": {"given_name": person["given_name"], "family_name": person["family_name"]},
        "birth_date": person["birth_date"],
        "nationality": person["nationality"],
        "languages": {"spoken": person["languages"], "skills": doc["language_skills"]},
        "german_level": doc["german_level"],
        "work_experience": doc["work_experience"],
        "vocational_training": doc["vocational_training"],
        "school": doc["school"],
        "municipality": doc["municipality"],
        "legal_status": doc["legal_status"],
        "measures": doc["measures"],
        "placements": doc["placements"],
    }
    return {name: value for name, value in parts.items() if name in fields}


_STATUS = {s.value: s for s in LegalStatus}
_LEVEL = {c.value: c for c in Cefr}


@lru_cache(maxsize=64)
def _hidden(fields: frozenset[str]) -> frozenset[str]:
    hidden = {"german_level", "municipality", "legal_status"} - fields
    if not fields & {"work_experience", "vocational_training"}:
        hidden.add("occupations")
    return frozenset(hidden)


def candidate_from(
    row: Mapping[str, Any], fields: frozenset[str] = ALL_FIELDS, only: str | None = None
) -> Candidate:
    """A candidate from a compact row (``case_id``, ``legal_status``, ``municipality``,
    ``german_level``, ``occupations`` as JSON text): what ``fields`` hides counts for nothing.
    ``only``: the one occupation (key) that matters, for ranking many people for one offer:
    other occupations are left out, and a row that does not name it is not even parsed."""
    text: str = row["occupations"]
    found: dict[str, Occupation] = {}
    if only is None or f'"{only}"' in text or "\\" in text:
        years_shared = "work_experience" in fields
        training_shared = "vocational_training" in fields
        for key, label, years, training in json.loads(text):
            if only is None or key == only:
                found[key] = Occupation(
                    label,
                    years if years_shared else 0,
                    Training(training) if training_shared else Training.NONE,
                )
    level = row["german_level"]
    return Candidate(
        row["case_id"],
        _STATUS[row["legal_status"]],
        row["municipality"],
        _LEVEL[level] if level else None,
        found,
        _hidden(fields),
    )


def post_from(offer: Doc) -> Post:
    level = offer["german_level"]
    return Post(
        offer_id=offer["offer_id"],
        kind=PlacementKind(offer["kind"]),
        occupation=offer["occupation"],
        municipality=offer["municipality"],
        german_level=Cefr(level) if level else None,
    )
