"""The period a figure or an export covers: the whole time, a month, a quarter, or any days
``from``..``to`` (both included). Text from a request becomes a ``Period`` here, and text that
names no day becomes an ``InvalidInputError`` naming its field (422 in the API)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from domain.policy import today_in_germany
from service_layer.errors import InvalidInputError

MONTHS = ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September",
          "Oktober", "November", "Dezember")  # fmt: skip
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
MONTH = re.compile(r"(\d{4})-(\d{2})")
QUARTER = re.compile(r"(\d{4})-Q([1-4])")
LONGEST = timedelta(days=3 * 366)  # a period's figures are per week: keep the files small


@dataclass(frozen=True)
class Period:
    start: date | None = None
    end: date | None = None

    @property
    def whole(self) -> bool:
        return self.start is None

    @staticmethod
    def this_week(today: date | None = None) -> str:
        year, week, _ = (today or today_in_germany()).isocalendar()
        return f"{year}-W{week:02d}"

    @property
    def label(self) -> str:
        """In German: "Dezember 2026", "4. Quartal 2026", "01.12.2026 bis 15.12.2026"."""
        if self.start is None or self.end is None:
            return "gesamter Zeitraum"
        s, e = self.start, self.end
        if s.day == 1 and e == _month_end(s.year, s.month):
            return f"{MONTHS[s.month - 1]} {s.year}"
        if s.day == 1 and s.month % 3 == 1 and e == _month_end(s.year, s.month + 2):
            return f"{s.month // 3 + 1}. Quartal {s.year}"
        return f"{s:%d.%m.%Y} bis {e:%d.%m.%Y}"

    @property
    def slug(self) -> str:
        """For a file name: ``2026-12``, ``2026-Q4``, ``2026-12-01_2026-12-15``, ``gesamt``."""
        if self.start is None or self.end is None:
            return "gesamt"
        s, e = self.start, self.end
        if s.day == 1 and e == _month_end(s.year, s.month):
            return f"{s:%Y-%m}"
        if s.day == 1 and s.month % 3 == 1 and e == _month_end(s.year, s.month + 2):
            return f"{s.year}-Q{s.month // 3 + 1}"
        return f"{s.isoformat()}_{e.isoformat()}"

    def query(self) -> dict[str, str]:
        """The ``from`` and ``to`` parameters that name this period (none for the whole time)."""
        if self.start is None or self.end is None:
            return {}
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}


def _month_end(year: int, month: int) -> date:
    first_of_next = date(year + month // 12, month % 12 + 1, 1)
    return first_of_next - timedelta(days=1)


def _iso_day(name: str, value: str) -> date:
    if not ISO_DAY.fullmatch(value):
        raise InvalidInputError(name, "not a date (YYYY-MM-DD)", f"'{value[:40]}' is no YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        detail = f"'{value}' is no day of the calendar"
        raise InvalidInputError(name, "no such day", detail) from None


def between(start: str | None, end: str | None) -> Period:
    """The days ``start``..``end`` (ISO dates, both given) or the whole time (neither)."""
    if not start and not end:
        return Period()
    if not start:
        raise InvalidInputError("from", "missing", "'to' needs 'from' too")
    if not end:
        raise InvalidInputError("to", "missing", "'from' needs 'to' too")
    first, last = _iso_day("from", start), _iso_day("to", end)
    if last < first:
        raise InvalidInputError("to", "before 'from'", f"'to' ({last}) is before 'from' ({first})")
    if last - first > LONGEST:
        raise InvalidInputError("to", "period too long", "a period spans at most three years")
    return Period(first, last)


def month(value: str) -> Period:
    """A month given as ``YYYY-MM`` (what ``<input type="month">`` sends)."""
    found = MONTH.fullmatch(value)
    if not found or not 1 <= int(found[2]) <= 12 or not 1 <= int(found[1]) <= 9998:
        raise InvalidInputError("month", "not a month (YYYY-MM)", f"'{value[:40]}' is no YYYY-MM")
    year, number = int(found[1]), int(found[2])
    return Period(date(year, number, 1), _month_end(year, number))


def quarter(value: str) -> Period:
    """A quarter given as ``YYYY-Qn``."""
    found = QUARTER.fullmatch(value)
    if not found or not 1 <= int(found[1]) <= 9998:
        detail = f"'{value[:40]}' is no YYYY-Qn"
        raise InvalidInputError("quarter", "not a quarter (YYYY-Qn)", detail)
    year, first = int(found[1]), 3 * int(found[2]) - 2
    return Period(date(year, first, 1), _month_end(year, first + 2))
