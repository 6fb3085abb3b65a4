"""The people of the demo's matching walks, recorded after the cases of ``seed.py``.

Scenario 2: Yonas Haile (an Elektriker, held by the Agentur) consents to share with Elektro
Dahmen, whose job offer has a free position; Oleksandr Kovalenko, placed on that offer, shares
with his DRK mentor. Scenario 4: people registered by the Reutlingen integration centres, assessed
and, some of them, sharing with the large firm in Metzingen or a dentist.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any
from uuid import UUID

from demo.partners import DAHMEN, DRK, LARGE_FIRM, REUTLINGEN, employer_account
from domain.actor import Actor, acting_as
from domain.aggregates.bamf_index import BamfFileNumberIndex
from domain.application import StaffelApplication
from domain.errors import VersionConflictError
from domain.values import (
    Cefr,
    ConsentPurpose,
    LegalStatus,
    Person,
    QualificationRecognition,
    VocationalTraining,
    WorkExperience,
)
from domain.writes import Recorded

EMPLOYER, MENTOR = ConsentPurpose.SHARE_WITH_EMPLOYER, ConsentPurpose.SHARE_WITH_MENTOR
FIRM = employer_account(LARGE_FIRM[0])
# (given, family, birth, nationality, municipality, office, status, German, work, training,
#  shares with)
REUTLINGEN_PEOPLE = [
    ("Abdul", "Sultani", date(1995, 2, 11), "AF", "Metzingen", "Integrationszentrum Ermstal", LegalStatus.REFUGEE, Cefr.B1, ("Verkäufer", 3), None, FIRM),
    ("Hevin", "Aziz", date(2000, 6, 2), "SY", "Bad Urach", "Integrationszentrum Ermstal", LegalStatus.SUBSIDIARY_PROTECTION, Cefr.A2, ("Schneiderin", 5), None, FIRM),
    ("Kidane", "Tesfom", date(2004, 1, 20), "ER", "Münsingen", "Integrationszentrum Alb (Münsingen)", LegalStatus.TRAINING_TOLERATION, Cefr.B1, None, ("Anlagenmechaniker", False), None),
    ("Samira", "Nouri", date(1991, 9, 9), "IQ", "Reutlingen", "Integrationszentrum Reutlingen", LegalStatus.ASYLUM_SEEKER, Cefr.B2, ("Zahnmedizinischer Fachangestellter", 4), ("Zahnmedizinische Fachangestellte", True), "zahnarztpraxis-wendler"),
    ("Ivan", "Petrenko", date(1979, 12, 1), "UA", "Pfullingen", "Integrationszentrum Reutlingen", LegalStatus.TEMPORARY_PROTECTION, Cefr.A2, ("Lagerist", 8), None, FIRM),
    ("Bilal", "Qasemi", date(1998, 4, 4), "AF", "Römerstein", "Integrationszentrum Alb (Münsingen)", LegalStatus.TOLERATED, Cefr.A1, ("Gärtner", 2), None, None),
]  # fmt: skip


def _retried(command: Callable[[], Recorded]) -> Recorded:
    """The handover policy may write to a case meanwhile: read it again and retry."""
    for attempt in range(5):
        try:
            return command()
        except VersionConflictError:
            if attempt == 4:
                raise
    raise AssertionError("unreachable")


def _consent(app: StaffelApplication, case_id: UUID, purpose: ConsentPurpose,
             recipient: str, scope: tuple[str, ...]) -> None:  # fmt: skip
    fields: dict[str, Any] = {"consent_id": f"c-{recipient}", "purpose": purpose,
                              "recipient": recipient, "scope": scope, "given_on": date(2026, 5, 4)}  # fmt: skip
    _retried(lambda: app.record(case_id, "ConsentGiven", fields))


def seed_walks(app: StaffelApplication) -> int:
    """Record the walks' consents and people; returns how many people were registered."""
    for bamf, actor, purpose, recipient, scope in (
        ("7000102-224", Actor("a.schmitz", "agentur-aachen-dueren"), EMPLOYER, DAHMEN,
         ("name", "competences", "municipality", "legal_status")),
        ("7000107-166", Actor("j.hoffmann", "jobcenter-heinsberg"), MENTOR, DRK,
         ("name", "languages", "municipality", "placements")),
    ):  # fmt: skip
        index: BamfFileNumberIndex = app.repository.get(app.bamf_index_id(bamf))
        assert index.case_id is not None  # a demo case, never erased while seeding
        with acting_as(actor):
            _consent(app, index.case_id, purpose, recipient, scope)
    with acting_as(Actor("s.bader", REUTLINGEN)):
        for row in REUTLINGEN_PEOPLE:
            _reutlingen_person(app, *row)
    return len(REUTLINGEN_PEOPLE)


def _reutlingen_person(
    app: StaffelApplication, given: str, family: str, born: date, nationality: str,
    municipality: str, office: str, status: LegalStatus, german: Cefr,
    work: tuple[str, int] | None, training: tuple[str, bool] | None, shares_with: str | None,
) -> None:  # fmt: skip
    case_id = app.register_case(
        person=Person(given, family, born, nationality, ("de",)), bamf_file_number=None,
        residence_municipality=municipality, legal_status=status, office=office,
    ).id  # fmt: skip
    app.record(case_id, "CompetenceAssessed", {
        "instrument": "Kompetenzkarten", "assessed_on": date(2026, 3, 2), "german_level": german,
        "languages": (), "school_years": 10, "school_certificate": None,
        "vocational_training": (VocationalTraining(*training),) if training else (),
        "work_experience": (WorkExperience(*work),) if work else (),
        "qualification_recognition": QualificationRecognition.NOT_APPLICABLE,
        "support_need": False, "notes": None,
    })  # fmt: skip
    if shares_with is not None:
        _consent(app, case_id, EMPLOYER, shares_with,
                 ("name", "german_level", "work_experience", "vocational_training"))  # fmt: skip
