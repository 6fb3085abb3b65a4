"""Legal rules that decide who is responsible for a case, kept in one place as data.

Sources: § 7 SGB II (entitlement of recognised persons), § 1 AsylbLG (asylum seekers, tolerated
persons), § 24 AufenthG (temporary protection, SGB II since 1 June 2022) and the BA's month rule:
AsylbLG ends at the end of the month of recognition, SGB II starts on the first of the next month.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from domain.values import LegalBasis, LegalStatus

# The law under which the responsible body counsels a person with this status.
COUNSELLING_BASIS: dict[LegalStatus, LegalBasis] = {
    LegalStatus.ASYLUM_SEEKER: LegalBasis.SGB_III,
    LegalStatus.TOLERATED: LegalBasis.SGB_III,
    LegalStatus.TRAINING_TOLERATION: LegalBasis.SGB_III,
    LegalStatus.EMPLOYMENT_TOLERATION: LegalBasis.SGB_III,
    LegalStatus.ASYLUM_ENTITLED: LegalBasis.SGB_II,
    LegalStatus.REFUGEE: LegalBasis.SGB_II,
    LegalStatus.SUBSIDIARY_PROTECTION: LegalBasis.SGB_II,
    LegalStatus.DEPORTATION_BAN: LegalBasis.SGB_II,
    LegalStatus.TEMPORARY_PROTECTION: LegalBasis.SGB_II,
    LegalStatus.OTHER_RESIDENCE_PERMIT: LegalBasis.SGB_II,
}


def counselling_basis(status: LegalStatus) -> LegalBasis:
    return COUNSELLING_BASIS[status]


def switch_date(decided_on: date) -> date:
    """The month rule: the first day of the month after the decision."""
    return (decided_on.replace(day=28) + timedelta(days=4)).replace(day=1)


def handover_due_date(offered_on: date, working_days: int = 5) -> date:
    """The day by which an offer must be answered: ``working_days`` Monday-to-Friday days later."""
    return working_days_after(offered_on, working_days)


GERMANY = ZoneInfo("Europe/Berlin")  # the days of deadlines, periods and reports


def day_in_germany(moment: datetime) -> date:
    """The German calendar day of ``moment`` (an event's timestamp is UTC: at 00:30 on the 1st
    in Berlin it is still the last day of the month before in UTC)."""
    return moment.astimezone(GERMANY).date()


def today_in_germany() -> date:
    """Today's German calendar day: the default "today" of every date Staffel records or checks
    (registration, acceptance, deadlines, "not in the future"). A server's own calendar is UTC
    or anything else; between midnight in Germany and midnight UTC it is still yesterday."""
    return day_in_germany(datetime.now(UTC))


def working_days_after(start: date, working_days: int) -> date:
    """``working_days`` Monday-to-Friday days after ``start`` (public holidays are not known)."""
    day, left = start, working_days
    while left:
        day += timedelta(days=1)
        if day.weekday() < 5:
            left -= 1
    return day
