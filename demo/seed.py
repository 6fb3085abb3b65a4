"""The demo data set: the regions of ../shared/design/scenarios.md, cases at every stage.

Recorded through the application's commands with the acting caseworkers, exactly as staff would,
so the log, hash chains and read models are real. Seeded once, into an empty store.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any
from uuid import UUID

import structlog

from bootstrap import Services
from demo import partners, siegen, walks
from domain.actor import Actor, acting_as
from domain.aggregates.case_errors import HandoverOpenError
from domain.application import StaffelApplication
from domain.errors import VersionConflictError
from domain.principal import Principal, Role
from domain.values import (
    Cefr,
    LanguageSkill,
    LegalStatus,
    MeasureKind,
    NoteCategory,
    Person,
    PlacementKind,
    Plan,
    Protection,
    QualificationRecognition,
    RejectionKind,
    WageSubsidy,
    WorkExperience,
)
from domain.writes import Recorded

log = structlog.get_logger("staffel.demo")

DEMO_USERS = [
    ("a.schmitz", "Anna Schmitz", "agentur-aachen-dueren", "caseworker"),
    ("m.yilmaz", "Mehmet Yilmaz", "agentur-aachen-dueren", "team_lead"),
    ("j.hoffmann", "Julia Hoffmann", "jobcenter-heinsberg", "caseworker"),
    ("k.becker", "Klaus Becker", "jobcenter-heinsberg", "team_lead"),
    ("s.klein", "Sabine Klein", "agentur-saarland", "caseworker"),
    ("t.weber", "Thomas Weber", "jobcenter-st-wendel", "caseworker"),
    ("p.lang", "Petra Lang", "drk-heinsberg", "volunteer"),
    ("h.vogel", "Heike Vogel", "drk-heinsberg", "team_lead"),
    ("s.bader", "Simone Bader", "integration-reutlingen", "caseworker"),
    ("h.dahmen", "Heinz Dahmen", "elektro-dahmen", "employer"),
    ("b.kaechele", "Birgit Kächele", "textilwerk-metzingen-ag", "employer"),
    ("c.kraemer", "Claudia Krämer", siegen.SIEGEN, "team_lead"),
    ("d.schneider", "Daniel Schneider", siegen.SIEGEN, "caseworker"),
    ("r.prueferin", "Renate Prüfer", "audit-office", "auditor"),
]

# (given, family, birth, nationality, languages, municipality, office, bamf, stage)
HEINSBERG = [
    ("Rahel", "Tesfaye", date(1994, 3, 7), "ER", ("ti", "ar"), "Erkelenz", "Integration Point Heinsberg", "7000101-224", "registered"),
    ("Yonas", "Haile", date(1990, 11, 2), "ER", ("ti",), "Hückelhoven", "Heinsberg", "7000102-224", "assessed"),
    ("Amira", "Haddad", date(1988, 6, 21), "SY", ("ar", "en"), "Geilenkirchen", "Heinsberg", "7000103-475", "measure"),
    ("Omar", "Khalil", date(1999, 1, 15), "SY", ("ar", "ku"), "Heinsberg", "Integration Point Heinsberg", "7000104-475", "offered"),
    ("Farida", "Rahimi", date(2001, 9, 30), "AF", ("fa", "ps"), "Wegberg", "Heinsberg", "7000105-423", "offered"),
    ("Mariam", "Jalali", date(1996, 4, 12), "AF", ("fa",), "Übach-Palenberg", "Heinsberg", "7000106-423", "accepted"),
    ("Oleksandr", "Kovalenko", date(1985, 8, 3), "UA", ("uk", "ru", "de"), "Wassenberg", "Heinsberg", "7000107-166", "placed"),
    ("Nadia", "Ibrahim", date(1993, 12, 24), "IQ", ("ar",), "Gangelt", "Heinsberg", "7000108-438", "rejected"),
    ("Mamadou", "Diallo", date(2003, 2, 8), "GN", ("fr", "ff"), "Selfkant", "Heinsberg", "7000109-248", "training_toleration"),
    ("Leyla", "Ahmadi", date(1997, 7, 19), "IR", ("fa", "en"), "Aachen", "Aachen", "7000110-439", "receiver_unknown"),
]  # fmt: skip
SAARLAND = [
    ("Tesfay", "Gebremedhin", date(1992, 5, 5), "ER", ("ti",), "St. Wendel", "Lebach (Landesaufnahmestelle)", "7000201-224", "assessed"),
    ("Huda", "Al-Sayed", date(1989, 10, 10), "SY", ("ar",), "Tholey", "St. Wendel", "7000202-475", "offered"),
    ("Ahmad", "Noori", date(1998, 3, 3), "AF", ("ps", "fa"), "Marpingen", "St. Wendel", "7000203-423", "accepted"),
]  # fmt: skip

# The path a case walks; a row's stage says how far its case goes.
PATH = ("registered", "assessed", "measure", "receiver_unknown", "offered", "accepted", "placed")


def demo_address(name: str) -> str:
    """A demo user's work address, as a provider's ``email`` claim would carry it (the daily
    digest's recipient): "Birgit Kächele" -> birgit.kaechele@demo.staffel.example."""
    umlauts: dict[str, str | int | None] = {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"}
    plain = name.lower().translate(str.maketrans(umlauts))
    return ".".join(plain.split()) + "@demo.staffel.example"


def seed_directory(services: Services) -> None:
    """The demo users in the staff directory: the demo's timelines show names from the start."""
    for sub, name, org, role in DEMO_USERS:
        principal = Principal(sub, name, org, frozenset({Role(role)}), email=demo_address(name))
        services.directory.learn(principal)
    for sub, name in siegen.NAMES.items():
        services.directory.learn(Principal(sub, name, siegen.SIEGEN, frozenset({Role.CASEWORKER})))


def seed_if_empty(services: Services) -> None:
    cases = services.cases
    if cases.recorder.max_notification_id():
        return
    employers, offers, volunteers = partners.seed_partners(cases)  # first: the cases refer to them
    for agentur, jobcenter, region in (
        ("agentur-aachen-dueren", "jobcenter-heinsberg", HEINSBERG),
        ("agentur-saarland", "jobcenter-st-wendel", SAARLAND),
    ):
        receiver = services.orgs.get(jobcenter)
        remote = receiver is not None and receiver.is_remote
        for row in region:
            _walk(cases, agentur, jobcenter, row, remote=remote)
    people = walks.seed_walks(cases)
    people += siegen.seed_siegen(cases, cases.today())
    services.supervisor.wake()
    log.info(
        "demo_seeded",
        cases=len(HEINSBERG) + len(SAARLAND) + people,
        employers=employers + len(siegen.EMPLOYERS),
        offers=offers + len(siegen.EMPLOYERS),
        volunteers=volunteers,
    )


def _walk(
    cases: StaffelApplication, agentur: str, jobcenter: str, row: tuple[Any, ...], *, remote: bool
) -> None:
    """Record one person's case up to its stage; with a ``remote`` Jobcenter (another
    deployment) stop at the offer: the outbox delivers the bundle, acceptance happens there."""
    given, family, birth, nationality, languages, municipality, office, bamf, stage = row
    counsellor = Actor("a.schmitz" if agentur == "agentur-aachen-dueren" else "s.klein", agentur)
    receiver = Actor("j.hoffmann" if jobcenter == "jobcenter-heinsberg" else "t.weber", jobcenter)
    goes_to = PATH.index(stage) if stage in PATH else PATH.index("offered")

    def reaches(step: str) -> bool:
        return goes_to >= PATH.index(step)

    with acting_as(counsellor):
        case_id = cases.register_case(
            person=Person(given, family, birth, nationality, languages),
            bamf_file_number=bamf,
            residence_municipality=municipality,
            legal_status=LegalStatus.ASYLUM_SEEKER,
            office=office,
        ).id
        if not reaches("assessed"):
            return
        _assess(cases, case_id, family)
        if stage == "training_toleration":
            _tolerate(cases, case_id)
            return
        cases.record(
            case_id,
            "StepAgreed",
            {
                "step_id": "s1",
                "description": "Integrationskurs beginnen",
                "due_on": date(2026, 3, 1),
                "plan": Plan.EINGLIEDERUNGSVEREINBARUNG,
            },
        )
        if not reaches("measure"):
            return
        cases.record(
            case_id,
            "MeasureStarted",
            {
                "measure_id": "m1",
                "kind": MeasureKind.INTEGRATION_COURSE,
                "provider": "VHS Kreis Heinsberg",
                "starts_on": date(2026, 2, 2),
                "ends_on": date(2026, 9, 30),
            },
        )
        if not reaches("receiver_unknown"):
            return
        cases.record(
            case_id,
            "AsylumRecognized",
            {"protection": _protection(family), "decided_on": date(2026, 4, 20)},
        )
        if not reaches("offered"):
            return  # Aachen: no Jobcenter of this deployment serves it
        # the handover policy reacts to the recognition meanwhile: it may write first
        _again(lambda: cases.record(case_id, "NoteRecorded", {
            "text": "Bescheid liegt vor; Übergabe an das Jobcenter vorbereitet.",
            "category": NoteCategory.COUNSELLING,
        }))  # fmt: skip
        try:
            offered = _again(lambda: cases.offer_handover(
                case_id, to_org=jobcenter, reason="Asyl anerkannt: Rechtskreiswechsel"
            ))  # fmt: skip
        except HandoverOpenError:  # the policy's offer came first: answer that one
            case = cases.get_case(case_id)
            offered = Recorded(case.id, case.version, 0, case.digest)
    if remote:
        return
    with acting_as(receiver):
        if stage == "rejected":
            cases.reject_handover(
                case_id,
                reason="Wohnort nach Aktenlage unklar; bitte Meldebescheinigung nachreichen",
            )
            return
        if not reaches("accepted"):
            return
        cases.accept_handover(case_id, version=offered.version, digest=offered.digest)
        if not reaches("placed"):
            return
        cases.record(
            case_id,
            "PlacementMade",
            {
                "placement_id": "p1",
                "kind": PlacementKind.JOB,
                "employer": "Elektro Dahmen GmbH, Wassenberg",
                "starts_on": date(2026, 6, 1),
                "wage_subsidy": WageSubsidy(30, 6),
                "offer_id": str(partners.DAHMEN_JOB),  # takes one of the offer's positions
            },
        )
        cases.record(
            case_id,
            "MentorAssigned",
            {
                "volunteer_id": partners.MENTOR,  # Petra Lang, within her capacity
                "organisation": "drk-heinsberg",
                "assigned_on": date(2026, 6, 1),
            },
        )


def _again(command: Callable[[], Recorded]) -> Recorded:
    for attempt in range(5):
        try:
            return command()
        except VersionConflictError:
            if attempt == 4:
                raise
    raise AssertionError("unreachable")


def _tolerate(cases: StaffelApplication, case_id: UUID) -> None:
    cases.record(
        case_id,
        "AsylumRejected",
        {"kind": RejectionKind.UNFOUNDED, "decided_on": date(2025, 11, 3)},
    )
    cases.record(
        case_id,
        "LegalStatusChanged",
        {
            "status": LegalStatus.TRAINING_TOLERATION,
            "effective_on": date(2026, 1, 15),
            "document": "Ausbildungsduldung § 60c AufenthG",
            "valid_until": date(2029, 7, 31),
        },
    )


def _assess(cases: StaffelApplication, case_id: UUID, family: str) -> None:
    level = [Cefr.A1, Cefr.A2, Cefr.B1][len(family) % 3]
    occupation = ["Elektriker", "Schneiderin", "Krankenpfleger", "Bäcker", "Lagerist"][
        len(family) % 5
    ]
    cases.record(case_id, "CompetenceAssessed", {
        "instrument": "MYSKILLS", "assessed_on": date(2026, 1, 20), "german_level": level,
        "languages": (LanguageSkill("ar", Cefr.C2),),
        "school_years": 9 + len(family) % 4, "school_certificate": None, "vocational_training": (),
        "work_experience": (WorkExperience(occupation, 1 + len(family) % 6),),
        "qualification_recognition": QualificationRecognition.NOT_APPLICABLE,
        "support_need": len(family) % 3 != 0, "notes": None,
    })  # fmt: skip


def _protection(family: str) -> Protection:
    return [Protection.REFUGEE, Protection.SUBSIDIARY_PROTECTION, Protection.ASYLUM_ENTITLED][
        len(family) % 3
    ]
