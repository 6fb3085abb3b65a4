"""Ranking properties (Hypothesis): a candidate who meets every requirement ranks above one who
meets none; more German, more experience or a nearer home never lowers a score; hidden fields
count for nothing; every result explains itself in German."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from domain.matching import (
    Candidate,
    Occupation,
    Permission,
    Post,
    Training,
    occupation_key,
    permission,
    rank,
    score,
)
from domain.neighbours import NEIGHBOURS
from domain.values import Cefr, LegalStatus, PlacementKind

LEVELS = list(Cefr)
OCCUPATIONS = ["Elektriker", "Bäcker", "Schneider", "Lagerist", "Koch", "Gärtner"]
PLACES = sorted(NEIGHBOURS)

kinds = st.sampled_from(list(PlacementKind))
places = st.sampled_from(PLACES)
occupations = st.sampled_from(OCCUPATIONS)


@st.composite
def posts(draw: st.DrawFn, *, needs_german: bool = False) -> Post:
    low = 1 if needs_german else 0  # A2 or more: someone can fall short of it
    level = draw(
        st.sampled_from(LEVELS[low:]) if needs_german else st.none() | st.sampled_from(LEVELS)
    )
    return Post(draw(st.uuids()).hex, draw(kinds), draw(occupations), draw(places), level)


def occupation_of(label: str, most_years: int) -> st.SearchStrategy[Occupation]:
    return st.builds(
        Occupation, st.just(label), st.integers(0, most_years), st.sampled_from(list(Training))
    )


@st.composite
def meeting_every_requirement(draw: st.DrawFn, post: Post) -> Candidate:
    allowed = [s for s in LegalStatus if permission(s, post.kind) is Permission.FREE]
    enough = LEVELS[LEVELS.index(post.german_level) :] if post.german_level else LEVELS
    level = draw(st.sampled_from(enough))
    home = draw(
        st.sampled_from([post.municipality, *sorted(NEIGHBOURS.get(post.municipality, ()))])
    )
    years = draw(st.integers(0, 30))
    training = draw(st.sampled_from(list(Training)))
    if years == 0 and training is Training.NONE:
        years = 1
    label = draw(
        st.sampled_from([post.occupation, post.occupation + "in", post.occupation + " (m/w/d)"])
    )
    return Candidate(
        draw(st.uuids()).hex, draw(st.sampled_from(allowed)), home, level,
        {occupation_key(label): Occupation(label, years, training)},
    )  # fmt: skip


@st.composite
def meeting_none(draw: st.DrawFn, post: Post) -> Candidate:
    assert post.german_level is not None
    needing = [s for s in LegalStatus if permission(s, post.kind) is Permission.APPROVAL]
    below = LEVELS[: LEVELS.index(post.german_level)]
    level = draw(st.none() | st.sampled_from(below))
    near = {post.municipality, *NEIGHBOURS.get(post.municipality, ())}
    home = draw(st.sampled_from([p for p in [*PLACES, "Aachen"] if p not in near]))
    others = [o for o in OCCUPATIONS if occupation_key(o) != occupation_key(post.occupation)]
    experience = draw(st.lists(st.sampled_from(others), max_size=3, unique=True))
    return Candidate(
        draw(st.uuids()).hex, draw(st.sampled_from(needing)), home, level,
        {occupation_key(o): draw(occupation_of(o, 30)) for o in experience},
    )  # fmt: skip


@st.composite
def a_post_and_two(draw: st.DrawFn) -> tuple[Post, Candidate, Candidate]:
    post = draw(posts(needs_german=True))
    return post, draw(meeting_every_requirement(post)), draw(meeting_none(post))


@given(a_post_and_two())
def test_who_meets_every_requirement_ranks_above_who_meets_none(
    given_: tuple[Post, Candidate, Candidate],
) -> None:
    post, good, poor = given_
    assert score(post, good).score > score(post, poor).score
    ranked = rank(post, [poor, good], limit=2)
    assert [c for _, c in ranked] == [good, poor]


@st.composite
def candidates(draw: st.DrawFn) -> Candidate:
    found = draw(st.lists(st.sampled_from(OCCUPATIONS), max_size=3, unique=True))
    return Candidate(
        draw(st.uuids()).hex, draw(st.sampled_from(list(LegalStatus))),
        draw(st.sampled_from([*PLACES, "Aachen"])), draw(st.none() | st.sampled_from(LEVELS)),
        {occupation_key(o): draw(occupation_of(o, 12)) for o in found},
    )  # fmt: skip


@given(posts(), candidates())
def test_more_german_never_lowers_the_score(post: Post, c: Candidate) -> None:
    before = score(post, c).score
    for level in LEVELS:
        if c.german_level is None or LEVELS.index(level) > LEVELS.index(c.german_level):
            better = Candidate(c.case_id, c.legal_status, c.municipality, level, c.occupations)
            assert score(post, better).score >= before


@given(posts(), candidates(), st.integers(1, 10))
def test_more_experience_never_lowers_the_score(post: Post, c: Candidate, more: int) -> None:
    key = occupation_key(post.occupation)
    had = c.occupations.get(key, Occupation(post.occupation))
    grown = {**c.occupations, key: Occupation(had.label, had.years + more, had.training)}
    better = Candidate(c.case_id, c.legal_status, c.municipality, c.german_level, grown)
    assert score(post, better).score >= score(post, c).score


@given(posts(), candidates())
def test_living_where_the_post_is_never_lowers_the_score(post: Post, c: Candidate) -> None:
    moved = Candidate(c.case_id, c.legal_status, post.municipality, c.german_level, c.occupations)
    assert score(post, moved).score >= score(post, c).score


HIDEABLE = ["german_level", "occupations", "municipality", "legal_status"]


@given(posts(), candidates(), st.sets(st.sampled_from(HIDEABLE)))
def test_hidden_fields_count_for_nothing_and_say_so(
    post: Post, c: Candidate, hidden: set[str]
) -> None:
    shown = score(post, Candidate(c.case_id, c.legal_status, c.municipality, c.german_level,
                                  c.occupations, frozenset(hidden)))  # fmt: skip
    assert 0 <= shown.score <= score(post, c).score <= 100
    assert ("legal_status" in hidden) == (shown.permission is None)
    if "municipality" in hidden:
        assert "Wohnort nicht freigegeben" in shown.reasons
    if "german_level" in hidden and post.german_level is not None:
        assert "Deutschkenntnisse nicht freigegeben" in shown.reasons


def test_the_explanation_names_each_part_in_german() -> None:
    post = Post("o", PlacementKind.JOB, "Elektriker (m/w/d)", "Heinsberg", Cefr.A2)
    c = Candidate("c", LegalStatus.REFUGEE, "Heinsberg", Cefr.B1,
                  {"elektriker": Occupation("Elektriker", 3)})  # fmt: skip
    match = score(post, c)
    assert match.explanation == (
        "Deutsch B1 erfüllt A2; 3 Jahre als Elektriker; gleiche Gemeinde; Beschäftigung erlaubt"
    )
    assert match.score == 30 + 24 + 20 + 10

    done = {"elektriker": Occupation("Elektrikerin", 0, Training.COMPLETED)}
    trained = Candidate("d", LegalStatus.TOLERATED, "Hückelhoven", Cefr.A1, done)
    assert score(post, trained).explanation == (
        "Deutsch A1, gefordert A2; Ausbildung als Elektrikerin; Nachbargemeinde;"
        " Zustimmung der Ausländerbehörde nötig"
    )


def test_occupation_names_compare_without_gender_forms() -> None:
    assert {occupation_key(n) for n in ("Elektriker", "Elektrikerin", "Elektriker/in",
                                        "elektriker (m/w/d)")} == {"elektriker"}  # fmt: skip
    assert occupation_key("Kauffrau im Einzelhandel") == occupation_key("Kaufmann im Einzelhandel")
