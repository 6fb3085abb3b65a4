"""A BAMF file number has one canonical form (ADR 0010): ASCII digits, the running number padded
to seven digits, one hyphen, the three-digit country code. Every other spelling of the same number
meets it, or is refused; nothing else is a number."""

from __future__ import annotations

import contextlib
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.aggregates.bamf_index import normalise
from domain.bamf_number import padded_forms
from tests.support.bamf_spellings import spellings

CANONICAL = re.compile(r"[0-9]{7,8}-[0-9]{3}", re.ASCII)


@pytest.mark.parametrize(
    "spelled",
    [
        "7654321-423",
        " 765 4321 - 423 ",
        "\u0667\u0666\u0665\u0664\u0663\u0662\u0661-\u0664\u0662\u0663",  # Arabic-Indic
        "\u06f7\u06f6\u06f5\u06f4\u06f3\u06f2\u06f1-\u06f4\u06f2\u06f3",  # Persian
        "\u096d\u096c\u096b\u096a\u0969\u0968\u0967-\u096a\u0968\u0969",  # Devanagari
        "\uff17\uff16\uff15\uff14\uff13\uff12\uff11\uff0d\uff14\uff12\uff13",  # full-width
        "7654321\u2013423",  # en dash
        "7654321\u2212423",  # minus sign
        "7654321\u00a0-\u00a0423",  # no-break spaces
        "\u2466654321-423",  # circled seven
    ],
)
def test_spellings_of_one_number_meet_in_its_canonical_form(spelled: str) -> None:
    assert normalise(spelled) == "7654321-423"


def test_leading_zeros_of_the_running_number_are_padding() -> None:
    assert normalise("765432-423") == normalise("0765432-423") == "0765432-423"
    assert normalise("00765432-423") == "0765432-423"
    assert normalise("12345678-001") == "12345678-001"  # the country code keeps its zeros
    assert padded_forms("0765432-423") == ["765432-423", "0765432-423", "00765432-423"]
    assert padded_forms("12345678-001") == ["12345678-001"]


@pytest.mark.parametrize(
    "text",
    [
        "ABC",
        "7654321-42a",
        "7654321 423",  # no separator
        "7654321--423",
        "7654321-4230",
        "12345-423",  # too short
        "123456789-423",  # too long
        "\u1369654321-423",  # an Ethiopic digit: isdigit, but no decimal digit
        "7654321-423\u200b",  # zero-width space is no whitespace
        "0000000-423",
        "",
        "1" * 100,
    ],
)
def test_anything_else_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"\w"):  # InvalidBamfFileNumberError, saying why
        normalise(text)


@given(st.from_regex(r"\A[1-9][0-9]{6,7}-[0-9]{3}\Z").flatmap(
    lambda n: st.tuples(st.just(n), spellings(n))
))  # fmt: skip
def test_every_unicode_spelling_is_the_number_or_refused(pair: tuple[str, str]) -> None:
    number, spelled = pair
    with contextlib.suppress(ValueError):  # refused: never another number
        assert normalise(spelled) == number


@given(st.text(max_size=30))
def test_the_canonical_form_is_ascii_and_stable(text: str) -> None:
    try:
        canonical = normalise(text)
    except ValueError:
        return
    assert CANONICAL.fullmatch(canonical)
    assert normalise(canonical) == canonical
