"""Countries and languages by their German CLDR names (Babel), codes kept behind: one place for
the pages, the forms' pickers and the Übergabebogen. Codes are ISO 3166 (countries, upper case)
and ISO 639-1 (languages, lower case); a name typed or chosen in a picker maps back to its code."""

from __future__ import annotations

import functools

from babel import Locale

from domain.values import Redacted

MARKERS = {m.value for m in Redacted}
Doc = dict[str, str | None]
_NO_COUNTRY = {"EU", "EZ", "UN", "QO", "XA", "XB", "ZZ"}  # unions, pseudo-regions, unknown


@functools.cache
def _german() -> Locale:
    return Locale("de")


def country_name(code: str) -> str:
    return str(_german().territories.get(code.upper(), code))


def language_name(code: str) -> str:
    return str(_german().languages.get(code.lower(), code))


def country(code: str | None) -> Doc | None:
    """A country by its ISO 3166 code, with its German CLDR name (the code where CLDR has none)."""
    if not code:
        return None
    if code in MARKERS:
        return {"code": None, "name": code}
    return {"code": code, "name": country_name(code)}


def language(code: str) -> Doc:
    """A language by its ISO 639 code, with its German CLDR name."""
    if code in MARKERS:
        return {"code": None, "name": code}
    return {"code": code, "name": language_name(code)}


@functools.cache
def countries() -> tuple[tuple[str, str], ...]:
    """(code, German name) of the countries (two-letter territories), by name."""
    names = _german().territories
    found = (
        (c, str(n))
        for c, n in names.items()
        if len(c) == 2 and c.isalpha() and c not in _NO_COUNTRY
    )
    return tuple(sorted(found, key=lambda cn: cn[1].casefold()))


@functools.cache
def languages() -> tuple[tuple[str, str], ...]:
    """(code, German name) of the languages with a two-letter ISO 639-1 code, by name."""
    names = _german().languages
    found = ((c, str(n)) for c, n in names.items() if len(c) == 2 and c.isalpha())
    return tuple(sorted(found, key=lambda cn: cn[1].casefold()))


@functools.cache
def _codes(kind: str) -> dict[str, str]:
    table = countries() if kind == "country" else languages()
    out = {name.casefold(): code for code, name in table}
    out.update({code.casefold(): code for code, _ in table})
    return out


def country_code(text: str) -> str | None:
    """The code of a country given by its German name or its code; None if neither."""
    return _codes("country").get(text.strip().casefold())


def language_code(text: str) -> str | None:
    """The code of a language given by its German name or its code; None if neither."""
    return _codes("language").get(text.strip().casefold())
