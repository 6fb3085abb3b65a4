"""The caseload search's reading of what people type (issue 18): a name in either order, a date
of birth in German or ISO spelling, a BAMF file number or part of it with or without separator."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from domain.search_terms import matches, number_digits, search_key, terms

NAME = st.text(st.characters(categories=("Lu", "Ll")), min_size=1, max_size=12)


@given(NAME, NAME, st.dates(date(1920, 1, 1), date(2020, 12, 31)))
def test_a_name_is_found_in_either_order_and_by_birth_date(
    given_name: str, family: str, born: date
) -> None:
    key = search_key(family, given_name, born.isoformat())
    assert matches(key, terms(f"{given_name} {family}"))
    assert matches(key, terms(f"{family} {given_name}"))
    assert matches(key, terms(f"{born.day}.{born.month}.{born.year}"))
    assert matches(key, terms(f"{born:%d.%m.%Y}"))
    assert matches(key, terms(born.isoformat()))


def test_each_word_must_begin_a_word_of_the_key() -> None:
    key = search_key("Haile", "Yonas", "1994-03-12")
    assert matches(key, terms("hai yo"))
    assert matches(key, terms("  YONAS   haile "))
    assert not matches(key, terms("Yonas Tesfaye"))
    assert not matches(key, terms("aile"))
    assert not matches(key, terms("13.03.1994"))
    assert not matches(key, terms(""))


def test_an_erased_case_is_found_by_nothing_personal() -> None:
    key = search_key("[gelöscht]", "[gelöscht]", None)
    assert not matches(key, terms("Haile"))
    assert not matches(key, terms("12.03.1994"))


@given(st.integers(1, 99_999_999), st.integers(0, 999), st.sampled_from(["-", "", " - ", "\u2013"]))
def test_a_bamf_number_reads_as_its_digits_with_any_separator(
    running: int, country: int, separator: str
) -> None:
    spelled = f"{running:07d}{separator}{country:03d}"
    assert number_digits(spelled) == f"{running:07d}{country:03d}"


def test_a_part_of_a_number_is_digits_but_names_and_dates_are_not() -> None:
    assert number_digits("4321") == "4321"
    assert number_digits("١٢٣٤") == "1234"
    assert number_digits("12") is None
    assert number_digits("Haile") is None
    assert number_digits("12.03.1994") is None
