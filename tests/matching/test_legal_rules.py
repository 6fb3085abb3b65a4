"""The legal-status rule of matching, as a table: which status may take which kind of post
without the immigration office's approval (``domain/matching.py``)."""

from __future__ import annotations

import pytest

from domain.matching import PERMISSIONS, Candidate, Permission, Post, permission, score
from domain.values import Cefr, LegalStatus, PlacementKind

S, K = LegalStatus, PlacementKind
FREE, APPROVAL = Permission.FREE, Permission.APPROVAL
KINDS = (K.INTERNSHIP, K.APPRENTICESHIP, K.EINSTIEGSQUALIFIZIERUNG, K.JOB)

# status: (internship, apprenticeship, Einstiegsqualifizierung, job)
TABLE = {
    S.ASYLUM_SEEKER: (APPROVAL, APPROVAL, APPROVAL, APPROVAL),  # § 61 AsylG
    S.TOLERATED: (APPROVAL, APPROVAL, APPROVAL, APPROVAL),  # § 60a AufenthG, § 32 BeschV
    S.TRAINING_TOLERATION: (APPROVAL, FREE, APPROVAL, APPROVAL),  # § 60c AufenthG
    S.EMPLOYMENT_TOLERATION: (APPROVAL, APPROVAL, APPROVAL, FREE),  # § 60d AufenthG
    S.ASYLUM_ENTITLED: (FREE, FREE, FREE, FREE),  # § 4a AufenthG
    S.REFUGEE: (FREE, FREE, FREE, FREE),
    S.SUBSIDIARY_PROTECTION: (FREE, FREE, FREE, FREE),
    S.DEPORTATION_BAN: (FREE, FREE, FREE, FREE),
    S.TEMPORARY_PROTECTION: (FREE, FREE, FREE, FREE),  # § 24 AufenthG
    S.OTHER_RESIDENCE_PERMIT: (APPROVAL, APPROVAL, APPROVAL, APPROVAL),  # the title decides
}
CASES = [
    (status, kind, expected)
    for status, row in TABLE.items()
    for kind, expected in zip(KINDS, row, strict=True)
]


def test_the_table_covers_every_status_and_kind() -> None:
    assert set(TABLE) == set(LegalStatus) == set(PERMISSIONS)
    assert set(KINDS) == set(PlacementKind)
    assert all(set(PERMISSIONS[s]) == set(PlacementKind) for s in LegalStatus)


@pytest.mark.parametrize(("status", "kind", "expected"), CASES)
def test_who_may_take_which_post(
    status: LegalStatus, kind: PlacementKind, expected: Permission
) -> None:
    assert permission(status, kind) is expected

    match = score(
        Post("o", kind, "Elektriker", "Heinsberg", None),
        Candidate("c", status, "Heinsberg", Cefr.B1, {}),
    )
    assert match.permission is expected
    if expected is FREE:
        assert match.reasons[-1].endswith("erlaubt")
    else:
        assert match.reasons[-1] == "Zustimmung der Ausländerbehörde nötig"


def test_a_free_post_scores_above_one_that_needs_approval() -> None:
    post = Post("o", K.APPRENTICESHIP, "Elektriker", "Heinsberg", Cefr.A2)
    trained = Candidate("c", S.TRAINING_TOLERATION, "Heinsberg", Cefr.B1, {})
    tolerated = Candidate("d", S.TOLERATED, "Heinsberg", Cefr.B1, {})
    assert score(post, trained).score > score(post, tolerated).score
