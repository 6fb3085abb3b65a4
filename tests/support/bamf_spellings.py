"""Hypothesis strategies: other spellings of a BAMF file number (issue 13). Every Unicode
character that is a digit of the right value (``str.isdigit``, ``unicodedata.decimal``, or whose
NFKC form is the ASCII digit), every dash and whitespace character, mixed freely."""

from __future__ import annotations

import sys
import unicodedata

from hypothesis import strategies as st


def _tables() -> tuple[dict[str, list[str]], list[str], list[str]]:
    digits: dict[str, list[str]] = {str(d): [] for d in range(10)}
    dashes, spaces = [], []
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        if 0xD800 <= code <= 0xDFFF:
            continue
        nfkc = unicodedata.normalize("NFKC", char)
        value = unicodedata.digit(char, None) if char.isdigit() else None
        if value is not None:
            digits[str(value)].append(char)
        elif len(nfkc) == 1 and nfkc in digits:
            digits[nfkc].append(char)
        if unicodedata.category(char) == "Pd" or char == "\u2212" or nfkc == "-":
            dashes.append(char)
        if char.isspace():
            spaces.append(char)
    return digits, dashes, spaces


DIGITS, DASHES, SPACES = _tables()


def spellings(number: str) -> st.SearchStrategy[str]:
    """``number`` (ASCII, e.g. ``7654321-423``) spelled with other digits, dashes and blanks."""
    padding = st.lists(st.sampled_from(SPACES), max_size=2).map("".join)
    parts = []
    for char in number:
        other = st.sampled_from(DASHES) if char == "-" else st.sampled_from(DIGITS[char])
        parts.append(st.tuples(padding, st.one_of(st.just(char), other)).map("".join))
    return st.tuples(*parts, padding).map("".join)
