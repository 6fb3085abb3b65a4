"""The canonical form of a BAMF file number (Aktenzeichen), ADR 0010.

A BAMF Aktenzeichen is a running number and the three-digit code of the country of origin
(Destatis Staatsangehörigkeitsschlüssel), joined by a hyphen: ``7654321-423``. Canonical form:
ASCII digits only, the running number without leading zeros padded to seven digits, one ``-``,
the three-digit code. Leading zeros of the running number are padding, not part of the number
(``0765432-423`` and ``765432-423`` are one number); the code is always three digits.

Input is read leniently but never ambiguously: Unicode NFKC first (full-width digits and
hyphens), then every Unicode decimal digit (Arabic-Indic, Devanagari, ...) as its value, any
dash as the separator, whitespace dropped. Anything else is refused, so two spellings of one
number always meet in one canonical form and the uniqueness index sees one number.
"""

from __future__ import annotations

import re
import unicodedata

MAX_INPUT = 64
RUNNING_DIGITS = 7  # the usual width; newer numbers have eight
_SHAPE = re.compile(r"([0-9]{6,8})-([0-9]{3})", re.ASCII)
_MINUS = "\u2212"


class InvalidBamfFileNumberError(ValueError):
    """Not a BAMF file number: the text says why, without repeating the input."""


def normalise(text: str) -> str:
    """The canonical form of ``text``, or ``InvalidBamfFileNumberError``."""
    if len(text) > MAX_INPUT:
        raise InvalidBamfFileNumberError(f"at most {MAX_INPUT} characters")
    plain = []
    for char in unicodedata.normalize("NFKC", text):
        if char.isspace():
            continue
        if (digit := unicodedata.decimal(char, None)) is not None:
            plain.append(str(digit))
        elif unicodedata.category(char) == "Pd" or char == _MINUS:
            plain.append("-")
        else:
            raise InvalidBamfFileNumberError(
                "only digits and one hyphen, e.g. 7654321-423"
                f" (not {unicodedata.name(char, f'U+{ord(char):04X}')})"
            )
    match = _SHAPE.fullmatch("".join(plain))
    if match is None:
        raise InvalidBamfFileNumberError(
            "a running number of 6 to 8 digits, a hyphen and the 3-digit country code,"
            " e.g. 7654321-423"
        )
    running, country = match.groups()
    if int(running) == 0:
        raise InvalidBamfFileNumberError("the running number cannot be zero")
    return f"{int(running):0{RUNNING_DIGITS}d}-{country}"


def padded_forms(canonical: str) -> list[str]:
    """The ASCII spellings of a canonical number that differ only in leading zeros (6 to 8
    digits): how earlier versions may have stored it (ADR 0010, the migration's window)."""
    running, country = canonical.split("-")
    value = int(running)
    return [f"{value:0{width}d}-{country}" for width in (6, 7, 8) if len(str(value)) <= width]


def normalise_or_none(text: str) -> str | None:
    """For searching: the canonical form, or None where ``text`` is no BAMF file number."""
    try:
        return normalise(text)
    except InvalidBamfFileNumberError:
        return None
