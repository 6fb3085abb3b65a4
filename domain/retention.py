"""How long a closed case's personal data are kept, and which cases are due for erasure.

Art. 17 Abs. 1 lit. a GDPR (with § 84 SGB X for social data) obliges the body to erase personal
data as soon as it no longer needs them for its lawful tasks. The law names no period in years
for these files; the defaults below are the administrative retention periods the bodies apply to
their files (Aufbewahrungsfristen of the Bundesagentur für Arbeit and the Jobcenters). Each
deployment sets its own in configuration (``STAFFEL_RETENTION_YEARS_*``) after its
data-protection officer has confirmed them.

Pure: no clock, no store. ``service_layer.retention`` feeds it the case summaries and erases.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from domain.values import LegalBasis

DEFAULT_YEARS: Mapping[LegalBasis, int] = {
    # SGB II (Jobcenter): 10 years after closure. Administrative practice of the Jobcenters (the
    # BA's and joint Jobcenters' Aufbewahrungsbestimmungen for SGB II files), matching the
    # longest period in which a benefit decision can still be withdrawn and repaid (§ 40 Abs. 1
    # SGB II with § 45 Abs. 3 Satz 3 and § 50 SGB X: 10 years in cases of bad faith).
    LegalBasis.SGB_II: 10,
    # SGB III (Agentur für Arbeit): 5 years after closure, the BA's minimum Aufbewahrungsfrist
    # for its files once benefits end (no longer needed, Art. 17 Abs. 1 lit. a GDPR, once a
    # repayment claim is time-barred: § 50 Abs. 4 SGB X, 4 years after the end of the calendar
    # year).
    LegalBasis.SGB_III: 5,
    # AsylbLG (Sozialamt): 5 years after closure, by the same reasoning as SGB III (§ 9 AsylbLG
    # applies §§ 44 to 50 SGB X); municipal records rules may differ per Land.
    LegalBasis.ASYLBLG: 5,
}


@dataclass(frozen=True)
class CaseState:
    """What the rule needs to know about one case, as its summary holds it."""

    case_id: str
    legal_basis: LegalBasis  # the basis the case had when it was closed (unchanged since)
    closed_on: date | None  # None: the case is open (never closed, or reopened)
    erased: bool


@dataclass(frozen=True)
class Due:
    case_id: str
    legal_basis: LegalBasis
    closed_on: date
    due_on: date


def add_years(day: date, years: int) -> date:
    """``day`` moved by whole years. 29 February onto a year without it becomes 28 February:
    a period in years ends on the day of the last year that corresponds to its start, and where
    that day does not exist, on the last day of the month (§ 26 Abs. 1 SGB X with § 188 Abs. 2
    and 3 BGB). The period is then never longer than the years configured."""
    year = day.year + years
    return day.replace(year=year, day=min(day.day, calendar.monthrange(year, day.month)[1]))


def due_date(closed_on: date, legal_basis: LegalBasis, years: Mapping[LegalBasis, int]) -> date:
    return add_years(closed_on, years[legal_basis])


def due_cases(
    cases: Iterable[CaseState], today: date, years: Mapping[LegalBasis, int] = DEFAULT_YEARS
) -> list[Due]:
    """The closed, not yet erased cases whose retention has run out by ``today`` (the due date
    itself included), earliest due first."""
    due = [
        Due(c.case_id, c.legal_basis, c.closed_on, on)
        for c in cases
        if c.closed_on is not None
        and not c.erased
        and (on := due_date(c.closed_on, c.legal_basis, years)) <= today
    ]
    return sorted(due, key=lambda d: (d.due_on, d.case_id))
