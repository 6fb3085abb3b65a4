"""Demo employers, offers and volunteers (scenarios 2 and 4): about 100 employers around
Heinsberg and the Reutlingen integration centres, each with one to three offers, and volunteers
of the DRK Heinsberg. Recorded through the application's commands, before the cases, so the
demo's placed person sits on a real offer and is mentored by a registered volunteer.

Scenario 2 walk: Elektro Dahmen's job offer for an Elektriker in Wassenberg (``DAHMEN_JOB``)
has two positions; Oleksandr Kovalenko holds one (placed by the Jobcenter, mentored by Petra
Lang). Yonas Haile (Agentur, Elektriker, Hückelhoven) consented to share with the employer: he
is the top candidate for the remaining position, and can be placed and given a mentor.
"""

from __future__ import annotations

from datetime import date
from uuid import NAMESPACE_URL, uuid5

from domain.actor import Actor, acting_as
from domain.aggregates.volunteer import Volunteer
from domain.application import StaffelApplication
from domain.values import Cefr, ContactPerson, PlacementKind

JOBCENTER, AGENTUR = "jobcenter-heinsberg", "agentur-aachen-dueren"
DRK, REUTLINGEN = "drk-heinsberg", "integration-reutlingen"
DAHMEN = "elektro-dahmen"
DAHMEN_JOB = uuid5(NAMESPACE_URL, "https://staffel.example/demo/offer/elektro-dahmen/1")
MENTOR = str(Volunteer.create_id(DRK, "p.lang"))

K = PlacementKind


def job_title(occupation: str) -> str:
    """An offer's title as German job advertisements write it: open to every gender (AGG)."""
    return f"{occupation} (m/w/d)"


# trade: (name pattern, sector, occupation, kinds offered, German level needed)
TRADES = [
    ("Elektro {} GmbH", "Handwerk", "Elektriker", (K.JOB, K.APPRENTICESHIP), Cefr.A2),
    ("Bäckerei {}", "Lebensmittelhandwerk", "Bäcker", (K.APPRENTICESHIP, K.INTERNSHIP), Cefr.A2),
    ("Malerbetrieb {}", "Handwerk", "Maler und Lackierer", (K.APPRENTICESHIP, K.JOB), Cefr.A2),
    ("Pflegedienst {}", "Gesundheit", "Krankenpfleger", (K.JOB, K.APPRENTICESHIP), Cefr.B1),
    ("Autohaus {}", "Kfz-Handwerk", "Kfz-Mechatroniker", (K.APPRENTICESHIP,), Cefr.B1),
    ("Gartenbau {}", "Garten- und Landschaftsbau", "Gärtner",
     (K.EINSTIEGSQUALIFIZIERUNG, K.JOB), Cefr.A1),
    ("Spedition {}", "Logistik", "Lagerist", (K.JOB, K.INTERNSHIP), Cefr.A2),
    ("Gasthaus {}", "Gastronomie", "Koch", (K.APPRENTICESHIP, K.JOB), Cefr.A2),
    ("Änderungsschneiderei {}", "Textil", "Schneider", (K.JOB,), Cefr.A1),
    ("Metallbau {}", "Metall", "Metallbauer", (K.EINSTIEGSQUALIFIZIERUNG, K.APPRENTICESHIP),
     Cefr.A2),
    ("Sanitär {} GmbH", "Handwerk", "Anlagenmechaniker", (K.APPRENTICESHIP,), Cefr.B1),
    ("Markt {}", "Handel", "Verkäufer", (K.JOB, K.INTERNSHIP), Cefr.B1),
    ("Gebäudereinigung {}", "Dienstleistung", "Gebäudereiniger", (K.JOB,), Cefr.A1),
    ("Zahnarztpraxis Dr. {}", "Gesundheit", "Zahnmedizinischer Fachangestellter",
     (K.APPRENTICESHIP,), Cefr.B2),
]  # fmt: skip
HEINSBERG_NAMES = ["Dahmen", "Jansen", "Hensen", "Coenen", "Heinrichs", "Wilms", "Frenken",
                   "Thelen", "Houben", "Beckers", "Kleinen", "Lenzen", "Reiners", "Schroeders",
                   "Vieten", "Mevissen", "Goertz", "Claßen", "Peters", "Bongartz", "Krings",
                   "Laumen", "Janssen", "Offermanns", "Willems", "Dohmen", "Stassen", "Kaiser",
                   "Derichs", "Tholen", "Moll", "Plum", "Hamacher", "Vincken", "Gerads", "Sieben",
                   "Esser", "Brands", "Muckel", "Kremers", "Mertens", "Wolters", "Küppers",
                   "Schiffers", "Driessen", "Hoven", "Otten", "Rütten", "Spelthahn",
                   "Tillmanns", "Meuser", "Pelzer", "Gillessen", "Corsten", "Hilgers",
                   "Nießen", "Paulus", "Royen"]  # fmt: skip
REUTLINGEN_NAMES = ["Maier", "Schäfer", "Bader", "Hummel", "Walz", "Rieger", "Kächele",
                    "Gekeler", "Hölz", "Reiff", "Wörner", "Gauger", "Renz", "Vöhringer",
                    "Kehrer", "Bächle", "Eberle", "Grauer", "Hägele", "Kusterer", "Lamparter",
                    "Nägele", "Ruoff", "Schanz", "Stooß", "Wendler", "Zeeb", "Bantel", "Digel",
                    "Fauser", "Gölz", "Haug", "Kienzle", "Mayer", "Schwarz",
                    "Wahl", "Ziegler", "Raichle", "Schnitzer", "Keppler"]  # fmt: skip
# scenario 4: the large firm in Metzingen asking the Ermstal centre for staff
LARGE_FIRM = ("Textilwerk Metzingen AG", "Metzingen", "Textil und Handel", [
    (K.JOB, "Verkäufer", Cefr.B1, 5), (K.JOB, "Lagerist", Cefr.A2, 4),
    (K.APPRENTICESHIP, "Kaufmann im Einzelhandel", Cefr.B1, 3),
    (K.EINSTIEGSQUALIFIZIERUNG, "Schneider", Cefr.A2, 2),
])  # fmt: skip
STAFF = {JOBCENTER: "j.hoffmann", AGENTUR: "a.schmitz", REUTLINGEN: "s.bader"}
HEINSBERG_PLACES = ["Heinsberg", "Erkelenz", "Hückelhoven", "Geilenkirchen", "Wassenberg",
                    "Wegberg", "Übach-Palenberg", "Gangelt", "Selfkant", "Waldfeucht"]  # fmt: skip
# the three integration centres and the municipalities each serves
CENTRES = {
    "Integrationszentrum Ermstal": ["Metzingen", "Bad Urach", "Dettingen an der Erms"],
    "Integrationszentrum Alb (Münsingen)": ["Münsingen", "Römerstein", "Gomadingen"],
    "Integrationszentrum Reutlingen": ["Reutlingen", "Pfullingen", "Eningen unter Achalm"],
}
VOLUNTEERS = [("p.lang", "Petra Lang", ("de", "en"), "Heinsberg", 3)] + [
    (f"{given[0].lower()}.{family.lower()}", f"{given} {family}", languages, place, capacity)
    for given, family, languages, place, capacity in [
        ("Hans", "Jansen", ("de", "nl"), "Erkelenz", 2), ("Maria", "Coenen", ("de", "fr"), "Gerderath", 2),
        ("Ahmad", "Karimi", ("de", "fa", "ps"), "Hückelhoven", 3), ("Ursula", "Wilms", ("de",), "Geilenkirchen", 1),
        ("Sami", "Haddad", ("de", "ar"), "Heinsberg", 3), ("Gisela", "Frenken", ("de", "en"), "Wassenberg", 2),
        ("Dirk", "Thelen", ("de",), "Wegberg", 1), ("Lea", "Houben", ("de", "en", "fr"), "Übach-Palenberg", 2),
        ("Tigist", "Bekele", ("de", "ti", "am"), "Erkelenz", 2), ("Werner", "Beckers", ("de",), "Gangelt", 1),
        ("Olena", "Shevchenko", ("de", "uk", "ru"), "Heinsberg", 3), ("Karin", "Lenzen", ("de", "en"), "Selfkant", 1),
        ("Yusuf", "Demir", ("de", "tr", "ku"), "Hückelhoven", 2), ("Anne", "Reiners", ("de", "es"), "Waldfeucht", 2),
        ("Peter", "Vieten", ("de",), "Heinsberg", 1), ("Fatima", "Rahimi", ("de", "fa"), "Wegberg", 2),
    ]
]  # fmt: skip


def employer_account(name: str) -> str:
    plain = name.casefold().replace("ä", "ae").replace("ö", "oe").replace("ü", "ue")
    plain = plain.replace("ß", "ss").replace(".", "")
    return "-".join(w for w in plain.split() if w not in ("gmbh", "dr"))


def seed_partners(app: StaffelApplication) -> tuple[int, int, int]:
    """Employers, their offers and the volunteers; returns how many of each."""
    offers = 0
    regions = [
        (n, JOBCENTER if i % 2 else AGENTUR, HEINSBERG_PLACES, "Frau")
        for i, n in enumerate(HEINSBERG_NAMES)
    ]
    regions += [(n, REUTLINGEN, CENTRES[c], "Herr")
                for i, n in enumerate(REUTLINGEN_NAMES) for c in [list(CENTRES)[i % 3]]]  # fmt: skip
    for i, (family, caring, places, title) in enumerate(regions):
        pattern, sector, occupation, kinds, level = TRADES[i % len(TRADES)]
        name = pattern.format(family)
        home = "Wassenberg" if family == "Dahmen" else places[(i * 5 + i // 3) % len(places)]
        with acting_as(Actor(STAFF[caring], caring)):
            employer = app.register_employer(
                account=employer_account(name), name=name, sector=sector,
                locations=(home,), contact=ContactPerson(f"{title} {family}", "02452 1234-0"),
                caring_org=caring, interest=kinds,
            ).id  # fmt: skip
            for n, kind in enumerate(kinds[: 1 + i % 3] if family != "Dahmen" else (K.JOB,)):
                app.publish_offer(
                    employer, kind=kind, occupation=job_title(occupation), municipality=home,
                    german_level=None if kind is K.INTERNSHIP else level,
                    starts_on=date(2026, 8 if kind is K.APPRENTICESHIP else 6, 1),
                    positions=2 if family == "Dahmen" else 1 + (i + n) % 3,
                    wage_subsidy_possible=kind is K.JOB,
                    offer_id=DAHMEN_JOB if family == "Dahmen" else None,
                )  # fmt: skip
                offers += 1
    offers += _large_firm(app)
    with acting_as(Actor("h.vogel", DRK)):
        for login, name, languages, place, capacity in VOLUNTEERS:
            app.register_volunteer(
                login=login, name=name, languages=languages, municipality=place,
                capacity=capacity,
            )  # fmt: skip
    return len(regions) + 1, offers, len(VOLUNTEERS)


def _large_firm(app: StaffelApplication) -> int:
    name, place, sector, posts = LARGE_FIRM
    with acting_as(Actor(STAFF[REUTLINGEN], REUTLINGEN)):
        employer = app.register_employer(
            account=employer_account(name), name=name, sector=sector, locations=(place,),
            contact=ContactPerson("Frau Kächele (Personal)", "07123 9400-0"),
            caring_org=REUTLINGEN, interest=tuple(k for k, *_ in posts),
        ).id  # fmt: skip
        for kind, occupation, level, positions in posts:
            app.publish_offer(
                employer, kind=kind, occupation=job_title(occupation), municipality=place,
                german_level=level, starts_on=date(2026, 9, 1), positions=positions,
                wage_subsidy_possible=kind is K.JOB,
            )  # fmt: skip
    return len(posts)
