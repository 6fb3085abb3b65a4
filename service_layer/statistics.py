"""The working group's figures as one document (ADR 0020): the statistics page, its CSV and XLSX
exports and the monthly report (PDF) all show ``figures(...)``, so they never differ. The counts
come from one computation over the case summaries (``adapters.views.statistics``); here they get
their German titles and labels, organisations and staff by name, for a period or the whole time.

Who sees which organisation's figures: its own staff, and auditors any (``access.list_scope``).
An export is logged in the access log (one entry, no case: the figures name no person).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from adapters import german
from domain.principal import Principal
from domain.values import MeasureKind, PlacementKind
from projections import labels as de
from service_layer import access, staff
from service_layer.periods import Period
from service_layer.ports import Services

EXPORT_ENDPOINT = "GET /statistics/export"
REPORT_ENDPOINT = "GET /statistics/report"
WEB_EXPORT_ENDPOINT = "GET /ui/statistics/export"
WEB_REPORT_ENDPOINT = "GET /ui/statistics/report.pdf"
CASELOAD_EXPORT_ENDPOINT = "GET /ui/cases/export"  # one entry per case exported
# what the access log's entries of these endpoints mean, in German (audit pages, Art. 15)
ACTIONS = {
    **dict.fromkeys((EXPORT_ENDPOINT, WEB_EXPORT_ENDPOINT), "Statistik exportiert"),
    **dict.fromkeys((REPORT_ENDPOINT, WEB_REPORT_ENDPOINT), "Monatsbericht erstellt"),
    CASELOAD_EXPORT_ENDPOINT: "Fallliste exportiert",
}
NO_CASE = ""  # the access log's case of an entry about figures, not about one case
NO_OFFICE, NO_CASEWORKER = "ohne Dienststelle", "nicht zugewiesen"


@dataclass(frozen=True)
class Table:
    """One figure as rows of (label, count): a chart and its table on the page, a sheet of the
    XLSX, a section of the CSV."""

    key: str
    title: str
    sheet: str  # at most 31 characters (Excel)
    head: tuple[str, str]
    rows: list[tuple[str, int]]


@dataclass(frozen=True)
class KeyFigure:
    key: str
    label: str
    value: int | float | None
    unit: str = ""  # "%": a percentage (0..100)


@dataclass(frozen=True)
class Figures:
    org: str
    org_name: str
    period: Period
    as_of: str
    key_figures: list[KeyFigure]
    tables: dict[str, Table]
    days: list[int]  # each accepted handover's days from recognition, ascending
    support_share: float | None
    may_choose: bool  # whether the caller may choose another organisation (an auditor)


def figures(services: Services, principal: Principal, org: str | None, period: Period) -> Figures:
    """The figures of ``org`` (the caller's own unless an auditor chooses; an auditor who chooses
    none sees the first organisation's) for ``period``."""
    orgs = [o for o in services.orgs if o.kind != "audit"]
    chosen = access.list_scope(principal, org) or (orgs[0].id if orgs else principal.org)
    stats = services.queries.statistics(org=chosen, start=period.start, end=period.end)
    found = services.orgs.get(chosen)
    return Figures(
        org=chosen,
        org_name=found.name if found else chosen,
        period=period,
        as_of=stats["as_of"],
        key_figures=_key_figures(stats, period),
        tables=_tables(services, stats),
        days=stats["days_recognition_to_acceptance"],
        support_share=stats["support_need_share"],
        may_choose=access.list_scope(principal, None) == "",
    )


def log_export(services: Services, principal: Principal, endpoint: str) -> None:
    """An export or report of figures, in the access log: one entry, about no case."""
    services.access_log.record(
        actor=principal.sub, org=principal.org, case_ids=[NO_CASE], endpoint=endpoint
    )


def _key_figures(stats: dict[str, Any], period: Period) -> list[KeyFigure]:
    share = stats["support_need_share"]
    weeks = stats["registrations_per_week"]
    if period.whole:
        current = period.this_week()
        recent = [n for w, n in weeks.items() if w != current][-8:]
        intake = [
            KeyFigure("this_week", "Neue Registrierungen diese Woche", weeks.get(current, 0)),
            KeyFigure(
                "weekly",
                f"Neue Registrierungen je Woche (Schnitt der {len(recent)} Wochen davor"
                " mit Zugängen)",
                round(sum(recent) / len(recent), 1) if recent else None,
            ),
        ]
    else:
        registered = sum(weeks.values())
        intake = [KeyFigure("registrations", "Neue Registrierungen im Zeitraum", registered)]
    median = stats["median_days_recognition_to_acceptance"]
    return [
        KeyFigure("active", "Laufende Fälle" + ("" if period.whole else " am Ende des Zeitraums"),
                  stats["active_cases"]),
        *intake,
        KeyFigure("support", "Mit besonderem Förderbedarf (laufende Fälle mit"
                  " Kompetenzfeststellung)", round(share * 100) if share is not None else None,
                  "%"),
        KeyFigure("measures", "Maßnahmen in Durchführung (Sprachkurse, Qualifizierungen)",
                  stats["measures_in_progress"]),
        KeyFigure("placements", "Vermittlungen", sum(stats["placements_by_kind"].values())),
        KeyFigure("median_days", "Median Tage von der Anerkennung bis zur angenommenen Übergabe",
                  median),
    ]  # fmt: skip


def _largest_first(counts: dict[str, int]) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def _tables(services: Services, stats: dict[str, Any]) -> dict[str, Table]:
    def caseworker(login: str) -> str:
        return NO_CASEWORKER if login == "-" else staff.display_name(services, login)

    support = stats["support_need"]
    days: dict[int, int] = {}
    for d in stats["days_recognition_to_acceptance"]:
        days[d] = days.get(d, 0) + 1
    tables = [
        Table("weeks", "Neue Registrierungen je Kalenderwoche", "Registrierungen je Woche",
              ("Kalenderwoche", "Neue Registrierungen"),
              [(german.calendar_week(w), n) for w, n in stats["registrations_per_week"].items()]),
        Table("offices", "Laufende Fälle je Dienststelle", "Fälle je Dienststelle",
              ("Dienststelle", "Laufende Fälle"),
              [(NO_OFFICE if o == "-" else o, n) for o, n in _largest_first(stats["by_office"])]),
        Table("counsellors", "Laufende Fälle je Fallbearbeitung", "Fälle je Fallbearbeitung",
              ("Fallbearbeitung", "Laufende Fälle"),
              [(caseworker(c), n) for c, n in _largest_first(stats["by_caseworker"])]),
        Table("support", "Anteil mit besonderem Förderbedarf (laufende Fälle mit"
              " Kompetenzfeststellung)", "Förderbedarf", ("Förderbedarf", "Laufende Fälle"),
              [("mit besonderem Förderbedarf", support["with"]),
               ("ohne besonderen Förderbedarf", support["without"])]),
        Table("measures", "Maßnahmen in Durchführung nach Art", "Maßnahmen",
              ("Art der Maßnahme", "Maßnahmen"),
              [(de.MEASURE[MeasureKind(k)], n) for k, n in stats["measures_by_kind"].items()]),
        Table("placements", "Vermittlungen nach Art", "Vermittlungen",
              ("Art der Vermittlung", "Vermittlungen"),
              [(de.PLACEMENT[PlacementKind(k)], n)
               for k, n in stats["placements_by_kind"].items()]),
        Table("days", "Tage von der Asylanerkennung bis zur angenommenen Übergabe",
              "Tage bis zur Übergabe", ("Tage", "Angenommene Übergaben"),
              [(str(d), n) for d, n in sorted(days.items())]),
    ]  # fmt: skip
    return {t.key: t for t in tables}
