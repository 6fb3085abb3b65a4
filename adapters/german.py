"""German words and numbers from CLDR (Babel), in one place for every page, the Übergabebogen
and the charts (issue 18): countries and languages by their German names (the ISO codes stay
behind them), decimal comma, singular and plural, calendar weeks as "KW 49/2026"."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from babel.numbers import format_decimal

from domain.values import Redacted
from projections import cldr

LOCALE = "de_DE"
MARKERS = {m.value for m in Redacted}


def country_name(code: str | None) -> str:
    """The German CLDR name of an ISO 3166 country code (``projections.cldr``); the code where
    CLDR has none, a marker ("[gelöscht]") as it is."""
    if not code:
        return ""
    return code if code in MARKERS else cldr.country_name(code)


def language_name(code: str) -> str:
    """The German CLDR name of an ISO 639 language code (the code where CLDR has none)."""
    return code if code in MARKERS else cldr.language_name(code)


def decimal(value: float | int | Decimal | None, digits: int = 1) -> str:
    """A number as Germans write it: "230", "230,5", "1.234" (at most ``digits`` decimals)."""
    if value is None:
        return ""
    return str(format_decimal(value, format=f"#,##0.{'#' * digits}", locale=LOCALE))


def count(n: int, singular: str, plural: str) -> str:
    """ "1 Eintrag", "0 Einträge", "2 Einträge" (German plural: one is singular, all else not)."""
    return f"{decimal(n, 0)} {singular if n == 1 else plural}"


def calendar_week(iso_week: str) -> str:
    """An ISO week ("2026-W49") as "KW 49/2026"."""
    year, week = iso_week.split("-W")
    return f"KW {int(week)}/{year}"


def starting(on: date | str | None, today: date) -> str:
    """A start date: "ab 01.02.2027" while it lies ahead, "seit 01.02.2026" once begun."""
    if not on:
        return ""
    day = date.fromisoformat(on) if isinstance(on, str) else on
    return f"{'ab' if day > today else 'seit'} {day:%d.%m.%Y}"
