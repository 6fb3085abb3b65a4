"""Consent decides what a viewer sees (pure): the fields a scope grants, the person reduced to
them, and a candidate built for one offer scoring exactly as the full one."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from domain import consent
from domain.matching import Post, occupation_key, score
from domain.values import Cefr, LegalStatus, PlacementKind
from projections.matching_inputs import occupations
from projections.sharing import ALL_FIELDS, candidate_from, granted, shared_view

DOC = {
    "case_id": "c1",
    "person": {"given_name": "Yonas", "family_name": "Haile", "birth_date": "1990-11-02",
               "nationality": "ER", "languages": ["ti"]},
    "language_skills": [], "german_level": "B1", "school": None, "measures": [],
    "work_experience": [{"occupation": "Elektriker", "years": 3}], "vocational_training": [],
    "municipality": "Hückelhoven", "legal_status": "asylum_seeker", "placements": [],
    "consents": [
        {"consent_id": "a", "purpose": "share_with_employer", "recipient": "dahmen",
         "scope": ["name", "competences"]},
        {"consent_id": "b", "purpose": "share_with_mentor", "recipient": "drk-heinsberg",
         "scope": ["municipality", "no-such-field"]},
    ],
}  # fmt: skip


def test_a_scope_grants_its_fields_and_groups_and_nothing_unknown() -> None:
    assert granted(DOC, "share_with_employer", ["dahmen", "some-id"]) == {
        "name", "languages", "german_level", "work_experience", "vocational_training", "school",
    }  # fmt: skip
    assert granted(DOC, "share_with_employer", ["someone-else"]) == frozenset()
    assert granted(DOC, "share_with_mentor", ["drk-heinsberg"]) == {"municipality"}
    assert consent.expand(["competences", "measures", "x"]) >= {"measures", "school"}


def test_the_person_is_reduced_to_the_granted_fields() -> None:
    seen = shared_view(DOC, frozenset({"name", "municipality"}))
    assert seen == {"name": {"given_name": "Yonas", "family_name": "Haile"},
                    "municipality": "Hückelhoven"}  # fmt: skip
    assert set(shared_view(DOC, ALL_FIELDS)) == ALL_FIELDS
    assert shared_view(DOC, frozenset()) == {}


OCCUPATIONS = ["Elektriker", "Elektrikerin", "Bäcker", 'Koch "Süd"', "Schneider\\in", "Lagerist"]


@given(
    st.lists(st.tuples(st.sampled_from(OCCUPATIONS), st.integers(0, 9)), max_size=4),
    st.lists(st.tuples(st.sampled_from(OCCUPATIONS), st.booleans()), max_size=2),
    st.sampled_from(OCCUPATIONS),
    st.frozensets(st.sampled_from(sorted(ALL_FIELDS))),
)
def test_a_candidate_built_for_one_offer_scores_as_the_full_one(
    work: list[tuple[str, int]],
    training: list[tuple[str, bool]],
    wanted: str,
    fields: frozenset[str],
) -> None:
    found = occupations(
        [{"occupation": o, "years": y} for o, y in work],
        [{"occupation": o, "completed": c} for o, c in training],
    )
    stored = json.dumps(found, ensure_ascii=False)  # as ``matching_store`` writes it
    row = {"case_id": "c1", "legal_status": LegalStatus.REFUGEE.value, "municipality": "Erkelenz",
           "german_level": Cefr.A2.value, "occupations": stored}  # fmt: skip
    post = Post("o1", PlacementKind.JOB, wanted, "Wegberg", Cefr.B1)
    full = candidate_from(row, fields)
    narrow = candidate_from(row, fields, occupation_key(wanted))
    assert score(post, narrow) == score(post, full)
