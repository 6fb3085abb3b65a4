"""Corrections (Berichtigung, Art. 16 GDPR, ADR 0019): before a ``FactCorrected`` is recorded,
the event it corrects is read from the log (its type decides which fields may be corrected) and
the new value is checked and brought into its stored form. Refusals name the field (422)."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from domain import corrections
from domain.policy import today_in_germany
from domain.values import Cefr
from projections import cldr
from service_layer.errors import InvalidInputError
from service_layer.ports import Services


def prepared(services: Services, case_id: UUID, fields: dict[str, Any]) -> dict[str, Any]:
    """``fields`` of a correction with the corrected event's type and the value in stored form."""
    version = int(fields["corrects_version"])
    found = list(services.cases.events.get(case_id, gt=version - 1, lte=version))
    if version < 1 or not found:
        raise InvalidInputError(
            "corrects_version", "no such entry", f"the case has no version {version}"
        )
    corrects_event = type(found[0]).__name__
    field = str(fields["field"])
    kind = corrections.CORRECTABLE.get((corrects_event, field))
    if kind is None:
        allowed = sorted(f for e, f in corrections.CORRECTABLE if e == corrects_event)
        raise InvalidInputError(
            "field",
            "this field of the entry cannot be corrected",
            f"{corrects_event} has no correctable field '{field}'"
            f" (correctable: {', '.join(allowed) or 'none'})",
        )
    return {
        "corrects_version": version,
        "corrects_event": corrects_event,
        "field": field,
        "value": stored_value(kind, str(fields["value"]), field),
        "reason": fields["reason"],
    }


def stored_value(kind: str, value: str, field: str = "value") -> str:
    """The new value in its stored form; ``InvalidInputError`` for ``value`` otherwise."""
    text = value.strip()
    if kind == "name":
        if not 1 <= len(text) <= 100:
            raise InvalidInputError("value", "a name of 1 to 100 characters")
        return text
    if kind == "date":
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise InvalidInputError("value", "not a date (YYYY-MM-DD)") from None
        if day > today_in_germany() or day.year < 1900:
            raise InvalidInputError("value", "a date between 1900 and today")
        return day.isoformat()
    if kind == "country":
        code = cldr.country_code(text)
        if code is None:
            raise InvalidInputError("value", "not a country (ISO 3166 code or German name)")
        return code
    if kind == "cefr":
        try:
            return Cefr(text.upper()).value
        except ValueError:
            raise InvalidInputError("value", "not a CEFR level (A1 to C2)") from None
    raise AssertionError(f"unknown kind {kind} of {field}")  # the table names every kind
