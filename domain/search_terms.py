"""What the caseload search's text means (issue 18): the words of a name in any order, a date
of birth as a German (``1.2.1990``, ``01.02.1990``) or ISO date, or a BAMF file number or a part
of it, with or without its separator.

A case is found by its search key, ``family given birth-date``: every word searched for must begin
a word of the key, so "Yonas Haile" and "Haile Yonas" find the same person. An erased case's key
holds only the erasure marker (the summary replaces every personal value), so it is found by no
name or date after erasure."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

MIN_DIGITS = 3  # fewer digits than this are no part of a BAMF number worth searching for
_GERMAN_DATE = re.compile(r"([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})")
_SEPARATORS = {"-", "/", "\u2212"}


@dataclass(frozen=True)
class SearchTerms:
    words: tuple[str, ...]  # each must begin a word of the search key
    digits: str | None  # the digits of (a part of) a BAMF file number, separator dropped


def _plain(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def birth_date_word(word: str) -> str | None:
    """``word`` as an ISO date where it is a date (DD.MM.YYYY or YYYY-MM-DD), else None."""
    german = _GERMAN_DATE.fullmatch(word)
    try:
        if german:
            day, month, year = (int(g) for g in german.groups())
            return date(year, month, day).isoformat()
        return date.fromisoformat(word).isoformat() if len(word) == 10 else None
    except ValueError:
        return None


def number_digits(text: str) -> str | None:
    """The digits of ``text`` where it consists of digits, separators and spaces only."""
    digits = []
    for char in unicodedata.normalize("NFKC", text):
        if char.isspace() or char in _SEPARATORS or unicodedata.category(char) == "Pd":
            continue
        value = unicodedata.decimal(char, None)
        if value is None:
            return None
        digits.append(str(value))
    return "".join(digits) if len(digits) >= MIN_DIGITS else None


def terms(query: str) -> SearchTerms:
    words = tuple(birth_date_word(w) or w for w in _plain(query).split())
    return SearchTerms(words, number_digits(query))


def search_key(family_name: str, given_name: str, birth_date: str | None) -> str:
    """The text a case is found by: its name's words and its date of birth (ISO)."""
    return " ".join(_plain(p) for p in (family_name, given_name, birth_date or "") if p).strip()


def matches(key: str, found: SearchTerms) -> bool:
    """The search's rule in Python (the SQL query's twin, for tests): every word begins a word
    of the key. The BAMF digits are matched against the number, not the key."""
    key_words = key.split()
    return bool(found.words) and all(any(k.startswith(w) for k in key_words) for w in found.words)
