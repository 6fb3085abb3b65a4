"""Givens for the matching tests that use a store: an employer with an offer, a volunteer,
people with competences, in one ``StaffelApplication``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any
from uuid import UUID, uuid4

from domain.actor import Actor, acting_as
from domain.application import StaffelApplication
from domain.values import (
    Cefr,
    ConsentPurpose,
    ContactPerson,
    LegalStatus,
    Person,
    PlacementKind,
    QualificationRecognition,
    WorkExperience,
)
from domain.writes import Recorded

MakePartners = Callable[..., StaffelApplication]
AGENCY = Actor("cw-1", "agentur-aachen-dueren")
DRK = Actor("h.vogel", "drk-heinsberg")
ON = date(2026, 6, 1)


def employer(app: StaffelApplication, account: str | None = None) -> Recorded:
    account = account or f"firma-{uuid4().hex[:8]}"
    with acting_as(AGENCY):
        return app.register_employer(
            account=account, name=f"Firma {account}", sector="Handwerk",
            locations=("Wassenberg",), contact=ContactPerson("Frau Jansen"),
            caring_org=AGENCY.org, interest=(PlacementKind.JOB,),
        )  # fmt: skip


def offer(app: StaffelApplication, employer_id: UUID, positions: int = 2, **over: Any) -> Recorded:
    fields: dict[str, Any] = {
        "kind": PlacementKind.JOB, "occupation": "Elektriker", "municipality": "Wassenberg",
        "german_level": Cefr.A2, "starts_on": ON, "positions": positions,
        "wage_subsidy_possible": True, **over,
    }  # fmt: skip
    with acting_as(AGENCY):
        return app.publish_offer(employer_id, **fields)


def volunteer(app: StaffelApplication, capacity: int = 1) -> Recorded:
    with acting_as(DRK):
        return app.register_volunteer(
            login=f"v-{uuid4().hex[:8]}", name="Petra Lang", languages=("de", "en"),
            municipality="Heinsberg", capacity=capacity,
        )  # fmt: skip


def person(
    app: StaffelApplication,
    *,
    municipality: str = "Hückelhoven",
    status: LegalStatus = LegalStatus.REFUGEE,
    german: Cefr | None = Cefr.B1,
    work: tuple[str, int] | None = ("Elektriker", 3),
    by: Actor = AGENCY,
) -> UUID:
    with acting_as(by):
        case_id = app.register_case(
            person=Person("Yonas", "Haile", date(1990, 11, 2), "ER", ("ti",)),
            bamf_file_number=None, residence_municipality=municipality, legal_status=status,
        ).id  # fmt: skip
        app.record(case_id, "CompetenceAssessed", {
            "instrument": "MYSKILLS", "assessed_on": date(2026, 1, 20), "german_level": german,
            "languages": (), "school_years": 9, "school_certificate": None,
            "vocational_training": (), "work_experience": (WorkExperience(*work),) if work else (),
            "qualification_recognition": QualificationRecognition.NOT_APPLICABLE,
            "support_need": False, "notes": None,
        })  # fmt: skip
    return case_id


def consent(
    app: StaffelApplication,
    case_id: UUID,
    recipient: str,
    scope: tuple[str, ...],
    purpose: ConsentPurpose = ConsentPurpose.SHARE_WITH_EMPLOYER,
    consent_id: str | None = None,
    by: Actor = AGENCY,
) -> str:
    consent_id = consent_id or f"c-{uuid4().hex[:8]}"
    with acting_as(by):
        app.record(case_id, "ConsentGiven", {
            "consent_id": consent_id, "purpose": purpose, "recipient": recipient,
            "scope": scope, "given_on": date(2026, 5, 4),
        })  # fmt: skip
    return consent_id
