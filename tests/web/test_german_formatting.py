"""German numbers and words on the pages (issue 18): decimal comma and thousands dot, singular and
plural, calendar weeks "KW 49/2026", "ab" for a start ahead, countries and languages by name."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from hypothesis import given
from hypothesis import strategies as st

from adapters import german


@given(st.decimals(min_value=0, max_value=10**7, places=1, allow_nan=False))
def test_a_decimal_reads_back_as_the_same_number(value: Decimal) -> None:
    shown = german.decimal(value)
    back = Decimal(shown.replace(".", "").replace(",", "."))
    assert back == value.quantize(Decimal("0.1"), ROUND_HALF_EVEN)
    assert not shown.endswith(",0")


def test_the_median_of_the_issue() -> None:
    assert german.decimal(230.0) == "230"
    assert german.decimal(230.5) == "230,5"
    assert german.decimal(12345.25) == "12.345,2"


@given(st.integers(0, 10_000))
def test_one_is_singular_everything_else_plural(n: int) -> None:
    shown = german.count(n, "Eintrag", "Einträge")
    assert shown.endswith(" Eintrag") == (n == 1)
    assert shown.endswith(" Einträge") == (n != 1)


@given(st.dates(date(2000, 1, 1), date(2099, 12, 31)))
def test_a_calendar_week_reads_kw_week_slash_year(day: date) -> None:
    year, week, _ = day.isocalendar()
    assert german.calendar_week(f"{year}-W{week:02d}") == f"KW {week}/{year}"


@given(st.dates(date(2000, 1, 1), date(2099, 12, 31)), st.integers(-400, 400))
def test_a_start_ahead_reads_ab(today: date, offset: int) -> None:
    try:
        start = today + timedelta(days=offset)
    except OverflowError:
        return
    shown = german.starting(start, today)
    assert shown == f"{'ab' if offset > 0 else 'seit'} {start:%d.%m.%Y}"


def test_countries_and_languages_by_german_name() -> None:
    assert german.country_name("SY") == "Syrien"
    assert german.country_name("er") == "Eritrea"
    assert german.language_name("ar") == "Arabisch"
    assert german.language_name("[gelöscht]") == "[gelöscht]"
