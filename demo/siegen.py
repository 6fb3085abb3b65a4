"""Scenario 3: the Integration Point Siegen at full load, scaled down for the demo.

Six counsellors in two offices (Siegen, Olpe) with uneven caseloads; 60 asylum seekers registered
over the eight weeks before this one (five to nine a week); about 90 % of those assessed need
particular support; most sit in an integration course, some in a Berufssprachkurs or a
qualification; the newest are not assessed yet. Dates are relative to the day of seeding, so the
weekly intake always shows the last eight weeks. Deterministic: the same people every time.
"""

from __future__ import annotations

from datetime import date, timedelta
from itertools import cycle

from demo.partners import job_title
from domain.actor import Actor, acting_as
from domain.application import StaffelApplication
from domain.values import (
    Cefr,
    ContactPerson,
    LegalStatus,
    MeasureKind,
    Person,
    PlacementKind,
    Plan,
    QualificationRecognition,
    WorkExperience,
)

SIEGEN = "integration-point-siegen"
OFFICE_SIEGEN, OFFICE_OLPE = "Integration Point Siegen", "Integration Point Olpe"
# counsellor -> (office, cases held): 60 in all, as uneven as a real team's
COUNSELLORS = {
    "d.schneider": (OFFICE_SIEGEN, 14),
    "a.yildiz": (OFFICE_SIEGEN, 12),
    "m.bender": (OFFICE_SIEGEN, 11),
    "s.weller": (OFFICE_SIEGEN, 9),
    "k.ohlig": (OFFICE_OLPE, 8),
    "r.pfeifer": (OFFICE_OLPE, 6),
}
# the counsellors who are not demo users, as the staff directory names them (demo/seed.py)
NAMES = {
    "a.yildiz": "Aylin Yildiz",
    "m.bender": "Markus Bender",
    "s.weller": "Sandra Weller",
    "k.ohlig": "Karin Ohlig",
    "r.pfeifer": "Ralf Pfeifer",
}
WEEKLY_INTAKE = (5, 6, 8, 7, 9, 8, 9, 8)  # the oldest week first; 60 in all
PLACES = {
    OFFICE_SIEGEN: ("Siegen", "Kreuztal", "Netphen", "Hilchenbach", "Freudenberg", "Wilnsdorf",
                    "Bad Berleburg"),
    OFFICE_OLPE: ("Olpe", "Attendorn", "Lennestadt", "Wenden", "Drolshagen"),
}  # fmt: skip
# nationality -> (languages, given names, family names)
ORIGINS = {
    "SY": (("ar",), ("Rania", "Khaled", "Lina", "Yousef", "Hiba", "Samer"),
           ("Darwish", "Kassem", "Mansour", "Nasser", "Saleh", "Zein")),
    "AF": (("fa", "ps"), ("Farhad", "Zahra", "Hamid", "Parisa", "Nilofar"),
           ("Ahmadzai", "Hakimi", "Noorzai", "Rahmani", "Sadat")),
    "IQ": (("ku", "ar"), ("Shilan", "Hussein", "Dilan", "Aras"), ("Jaff", "Barzani", "Kurdi")),
    "ER": (("ti",), ("Semhar", "Dawit", "Selam", "Filmon"), ("Tekle", "Habte", "Mehari")),
    "SO": (("so",), ("Abdi", "Hodan", "Ayaan", "Mahad"), ("Warsame", "Osman", "Farah")),
    "IR": (("fa",), ("Reza", "Shirin", "Babak", "Navid"), ("Moradi", "Jafari", "Sohrabi")),
}  # fmt: skip
OCCUPATIONS = ("Lagerist", "Koch", "Elektriker", "Friseur", "Schneiderin", "Pflegehelfer",
               "Maler und Lackierer", "Kraftfahrer")  # fmt: skip
LEVELS = (Cefr.A1, Cefr.A1, Cefr.A2, Cefr.A2, Cefr.B1)
EMPLOYERS = [  # (name, place, sector, occupation, kind, German, positions)
    ("Metallbau Siegerland GmbH", "Kreuztal", "Metall", "Metallbauer",
     PlacementKind.EINSTIEGSQUALIFIZIERUNG, Cefr.A2, 2),
    ("Seniorenzentrum Olpe", "Olpe", "Gesundheit", "Pflegehelfer", PlacementKind.JOB, Cefr.A2, 3),
]  # fmt: skip


def people() -> list[tuple[str, str, str]]:
    """(given name, family name, nationality) of each person, unique, in a fixed order: the
    origins in turn, each walking through its given names and, slower, its family names."""
    out: list[tuple[str, str, str]] = []
    seen = dict.fromkeys(ORIGINS, 0)
    for nationality in cycle(ORIGINS):
        if len(out) == sum(WEEKLY_INTAKE):
            return out
        _, given, family = ORIGINS[nationality]
        n = seen[nationality]
        seen[nationality] += 1
        out.append(
            (given[n % len(given)], family[(n + n // len(given)) % len(family)], nationality)
        )
    raise AssertionError("unreachable")


def counsellors() -> list[str]:
    """Who registers the n-th person: every counsellor in turn, while they have cases left."""
    left = {sub: held for sub, (_, held) in COUNSELLORS.items()}
    order: list[str] = []
    while any(left.values()):
        for sub in COUNSELLORS:
            if left[sub]:
                order.append(sub)
                left[sub] -= 1
    return order


def seed_siegen(app: StaffelApplication, today: date) -> int:
    """Register and assess the Integration Point's people; returns how many."""
    monday = today - timedelta(days=today.weekday())
    start = monday - timedelta(weeks=len(WEEKLY_INTAKE))
    days = [start + timedelta(weeks=w, days=(i * 2) % 5)
            for w, n in enumerate(WEEKLY_INTAKE) for i in range(n)]  # fmt: skip
    for i, ((given, family, nationality), sub, registered_on) in enumerate(
        zip(people(), counsellors(), days, strict=True)
    ):
        office = COUNSELLORS[sub][0]
        with acting_as(Actor(sub, SIEGEN)):
            _person(app, i, given, family, nationality, office, registered_on, today)
    _employers(app)
    return len(days)


def _person(
    app: StaffelApplication, i: int, given: str, family: str, nationality: str, office: str,
    registered_on: date, today: date,
) -> None:  # fmt: skip
    languages = ORIGINS[nationality][0]
    places = PLACES[office]
    case_id = app.register_case(
        person=Person(given, family, date(1975 + i % 28, 1 + i % 12, 1 + i % 28), nationality,
                      languages),
        bamf_file_number=f"7003{i:03d}-475", residence_municipality=places[i % len(places)],
        legal_status=LegalStatus.ASYLUM_SEEKER, office=office, registered_on=registered_on,
    ).id  # fmt: skip
    assessed_on = registered_on + timedelta(days=6)
    if assessed_on >= today:  # the newest are not assessed yet
        app.record(case_id, "StepAgreed", {
            "step_id": "s1", "description": "Kompetenzfeststellung durchführen",
            "plan": Plan.KOOPERATIONSPLAN, "due_on": registered_on + timedelta(days=14),
        })  # fmt: skip
        return
    level = LEVELS[i % len(LEVELS)]
    app.record(case_id, "CompetenceAssessed", {
        "instrument": "Kompetenzkarten", "assessed_on": assessed_on, "german_level": level,
        "languages": (), "school_years": 6 + i % 7, "school_certificate": None,
        "vocational_training": (),
        "work_experience": (WorkExperience(OCCUPATIONS[i % len(OCCUPATIONS)], 1 + i % 7),),
        "qualification_recognition": QualificationRecognition.NOT_APPLICABLE,
        "support_need": i % 10 != 3, "notes": None,
    })  # fmt: skip
    starts_on = registered_on + timedelta(days=14)
    if starts_on > today:
        return
    kind, provider = MeasureKind.INTEGRATION_COURSE, "VHS Siegen-Wittgenstein"
    if level is Cefr.B1:
        kind, provider = MeasureKind.JOB_LANGUAGE_COURSE, "Berufskolleg Siegen"
    elif i % 9 == 4:
        kind, provider = MeasureKind.QUALIFICATION, "Bildungswerk Südwestfalen"
    app.record(case_id, "MeasureStarted", {
        "measure_id": "m1", "kind": kind, "provider": provider, "starts_on": starts_on,
        "ends_on": starts_on + timedelta(weeks=30),
    })  # fmt: skip


def _employers(app: StaffelApplication) -> None:
    """Employers come for advice too: two of them, with an offer each."""
    with acting_as(Actor("d.schneider", SIEGEN)):
        for name, place, sector, occupation, kind, level, positions in EMPLOYERS:
            employer = app.register_employer(
                account=name.casefold().replace(" ", "-").replace(".", ""), name=name,
                sector=sector, locations=(place,), contact=ContactPerson("Personalabteilung"),
                caring_org=SIEGEN, interest=(kind,),
            ).id  # fmt: skip
            app.publish_offer(
                employer, kind=kind, occupation=job_title(occupation), municipality=place,
                german_level=level, starts_on=date(2027, 2, 1), positions=positions,
                wage_subsidy_possible=kind is PlacementKind.JOB,
            )  # fmt: skip
