"""Matching people and offers: who may take which kind of post, and how well a person fits one.

The legal rule is a table (``PERMISSIONS``), the score a pure function of an offer's ``Post`` and
a ``Candidate``: occupation (work experience and training against the offer's occupation),
German (CEFR) against the requirement, distance (same or neighbouring municipality) and the
legal-status rule. Every result explains its score in German, part by part.

Sources of the table: § 4a AufenthG (protection and § 24 titles allow any work); § 61 AsylG
(asylum seekers work only with the Ausländerbehörde's permission); § 60a AufenthG with § 32
BeschV (tolerated persons likewise); § 60c AufenthG (Ausbildungsduldung: the apprenticeship it
was granted for); § 60d AufenthG (Beschäftigungsduldung: employment). Any other residence title
says itself whether it allows work: it is treated as needing the office's confirmation.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping
from enum import IntEnum, StrEnum
from functools import lru_cache
from typing import NamedTuple

from domain.neighbours import Distance, distance
from domain.values import Cefr, LegalStatus, PlacementKind


class Permission(StrEnum):
    FREE = "free"  # may take the post without anyone's approval
    APPROVAL = "approval"  # needs the immigration office's approval first


_FREE = dict.fromkeys(PlacementKind, Permission.FREE)
_APPROVAL = dict.fromkeys(PlacementKind, Permission.APPROVAL)

PERMISSIONS: dict[LegalStatus, dict[PlacementKind, Permission]] = {
    LegalStatus.ASYLUM_SEEKER: _APPROVAL,
    LegalStatus.TOLERATED: _APPROVAL,
    LegalStatus.TRAINING_TOLERATION: {
        **_APPROVAL,
        PlacementKind.APPRENTICESHIP: Permission.FREE,
    },
    LegalStatus.EMPLOYMENT_TOLERATION: {**_APPROVAL, PlacementKind.JOB: Permission.FREE},
    LegalStatus.ASYLUM_ENTITLED: _FREE,
    LegalStatus.REFUGEE: _FREE,
    LegalStatus.SUBSIDIARY_PROTECTION: _FREE,
    LegalStatus.DEPORTATION_BAN: _FREE,
    LegalStatus.TEMPORARY_PROTECTION: _FREE,
    LegalStatus.OTHER_RESIDENCE_PERMIT: _APPROVAL,
}


def permission(status: LegalStatus, kind: PlacementKind) -> Permission:
    return PERMISSIONS[status][kind]


class Training(IntEnum):
    NONE = 0
    STARTED = 1
    COMPLETED = 2


class Occupation(NamedTuple):
    label: str  # as recorded, for the explanation
    years: int = 0  # work experience
    training: Training = Training.NONE


class Post(NamedTuple):
    """What matching needs of an offer."""

    offer_id: str
    kind: PlacementKind
    occupation: str
    municipality: str
    german_level: Cefr | None


# the parts of a candidate a viewer may lack consent for (``Candidate.hidden``)
HIDEABLE = ("german_level", "occupations", "municipality", "legal_status")


class Candidate(NamedTuple):
    """What matching needs of a person; ``hidden`` names the parts the viewer may not see,
    which then count for nothing. (Tuples, not dataclasses: ranking builds 10,000 a call.)"""

    case_id: str
    legal_status: LegalStatus
    municipality: str
    german_level: Cefr | None
    occupations: Mapping[str, Occupation]  # by ``occupation_key``; others may be left out
    hidden: frozenset[str] = frozenset()


class Match(NamedTuple):
    score: int  # 0 to 100
    reasons: tuple[str, ...]
    permission: Permission | None  # None: the legal status is hidden from the viewer

    @property
    def explanation(self) -> str:
        return "; ".join(self.reasons)


OCCUPATION_PER_YEAR, OCCUPATION_MAX = 8, 40
GERMAN_MET, GERMAN_ONE_BELOW = 30, 10
DISTANCE_POINTS = {Distance.SAME: 20, Distance.NEIGHBOURING: 10, Distance.FAR: 0}
PERMISSION_POINTS = {Permission.FREE: 10, Permission.APPROVAL: 0}
_LEVELS = {level: n for n, level in enumerate(Cefr, start=1)}
_ALLOWED = {
    PlacementKind.INTERNSHIP: "Praktikum erlaubt",
    PlacementKind.APPRENTICESHIP: "Ausbildung erlaubt",
    PlacementKind.EINSTIEGSQUALIFIZIERUNG: "Einstiegsqualifizierung erlaubt",
    PlacementKind.JOB: "Beschäftigung erlaubt",
}
_DISTANCE = {
    Distance.SAME: "gleiche Gemeinde",
    Distance.NEIGHBOURING: "Nachbargemeinde",
    Distance.FAR: "weiter entfernt",
}


@lru_cache(maxsize=4096)
def occupation_key(name: str) -> str:
    """Occupation names compared without case, gender forms or '(m/w/d)': 'Elektrikerin',
    'Elektriker/in' and 'Elektriker (m/w/d)' are one occupation."""
    text = name.casefold().split("(")[0].split("/")[0]
    words = []
    for word in text.split():
        if word.endswith("frau"):
            word = word[: -len("frau")] + "mann"
        elif word.endswith("erin"):
            word = word[: -len("in")]
        words.append(word)
    return " ".join(words)


# Each part returns its points and, when asked to ``explain``, why (in German). Ranking asks
# for the points of every candidate and for the reasons of the few it shows.


def _german(post: Post, c: Candidate, explain: bool) -> tuple[int, str]:
    required = post.german_level
    if required is None:
        return GERMAN_MET, "keine Deutschanforderung"
    if "german_level" in c.hidden:
        return 0, "Deutschkenntnisse nicht freigegeben"
    if c.german_level is None:
        return 0, f"keine Deutschkenntnisse erfasst, gefordert {required}" if explain else ""
    gap = _LEVELS[required] - _LEVELS[c.german_level]
    if gap <= 0:
        return GERMAN_MET, f"Deutsch {c.german_level} erfüllt {required}" if explain else ""
    points = GERMAN_ONE_BELOW if gap == 1 else 0
    return points, f"Deutsch {c.german_level}, gefordert {required}" if explain else ""


_BY_TRAINING = {Training.NONE: 0, Training.STARTED: 20, Training.COMPLETED: OCCUPATION_MAX}


def _occupation(post: Post, c: Candidate, explain: bool) -> tuple[int, list[str]]:
    if "occupations" in c.hidden:
        return 0, ["Berufserfahrung nicht freigegeben"]
    found = c.occupations.get(occupation_key(post.occupation))
    if found is None or (found.years <= 0 and found.training is Training.NONE):
        return 0, [f"keine Erfahrung als {post.occupation}"] if explain else []
    by_years = min(found.years * OCCUPATION_PER_YEAR, OCCUPATION_MAX)
    points = max(_BY_TRAINING[found.training], by_years)
    if not explain:
        return points, []
    reasons = []
    if found.training is not Training.NONE:
        done = "" if found.training is Training.COMPLETED else " begonnen"
        reasons.append(f"Ausbildung als {found.label}{done}")
    if found.years > 0:
        reasons.append(f"{found.years} {'Jahr' if found.years == 1 else 'Jahre'} als {found.label}")
    return points, reasons


def _near(post: Post, c: Candidate) -> tuple[int, str]:
    if "municipality" in c.hidden:
        return 0, "Wohnort nicht freigegeben"
    how_far = distance(c.municipality, post.municipality)
    return DISTANCE_POINTS[how_far], _DISTANCE[how_far]


def _legal(post: Post, c: Candidate) -> tuple[int, str, Permission | None]:
    if "legal_status" in c.hidden:
        return 0, "Aufenthaltsstatus nicht freigegeben", None
    allowed = permission(c.legal_status, post.kind)
    if allowed is Permission.FREE:
        return PERMISSION_POINTS[allowed], _ALLOWED[post.kind], allowed
    return PERMISSION_POINTS[allowed], "Zustimmung der Ausländerbehörde nötig", allowed


def points(post: Post, c: Candidate) -> int:
    """The score alone: what ``score`` says, without building its explanation."""
    return (
        _german(post, c, False)[0]
        + _occupation(post, c, False)[0]
        + _near(post, c)[0]
        + _legal(post, c)[0]
    )


def score(post: Post, c: Candidate) -> Match:
    german, german_reason = _german(post, c, True)
    occupation, occupation_reasons = _occupation(post, c, True)
    near, near_reason = _near(post, c)
    legal, legal_reason, allowed = _legal(post, c)
    return Match(
        german + occupation + near + legal,
        (german_reason, *occupation_reasons, near_reason, legal_reason),
        allowed,
    )


def rank(post: Post, candidates: Iterable[Candidate], limit: int) -> list[tuple[Match, Candidate]]:
    """The ``limit`` best candidates for a post, best first (ties: by case id)."""
    best = heapq.nsmallest(limit, candidates, key=lambda c: (-points(post, c), c.case_id))
    return [(score(post, c), c) for c in best]


def rank_posts(c: Candidate, posts: Iterable[Post], limit: int) -> list[tuple[Match, Post]]:
    """The ``limit`` best posts for a person, best first (ties: by offer id)."""
    best = heapq.nsmallest(limit, posts, key=lambda p: (-points(p, c), p.offer_id))
    return [(score(p, c), p) for p in best]
