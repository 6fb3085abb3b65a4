"""What a correction (Berichtigung, Art. 16 GDPR) may change: a field of a recorded event, by the
event's type. The original event stays as it was recorded; a ``FactCorrected`` names its version,
the field and the new value, and every read model applies it (ADR 0019).

The kind says how the new value is written (its stored text form): ``name`` free text, ``date``
ISO 8601, ``country`` ISO 3166 code, ``cefr`` a level. Fields of the person are personal data:
their new value is sealed with the case's key like the original (``FactCorrected.personal_value``).
"""

from __future__ import annotations

from types import MappingProxyType

# (event type, field) -> kind of value
CORRECTABLE = MappingProxyType(
    {
        ("CaseRegistered", "given_name"): "name",
        ("CaseRegistered", "family_name"): "name",
        ("CaseRegistered", "birth_date"): "date",
        ("CaseRegistered", "nationality"): "country",
        ("CaseRegistered", "registered_on"): "date",
        ("CompetenceAssessed", "german_level"): "cefr",
        ("CompetenceAssessed", "assessed_on"): "date",
    }
)
# the fields of ``Person``: their new values are personal data (sealed)
PERSON_FIELDS = frozenset({"given_name", "family_name", "birth_date", "nationality"})
# German names of the fields, for the timeline, the form and the Art. 15 report
LABELS = MappingProxyType(
    {
        "given_name": "Vorname",
        "family_name": "Familienname",
        "birth_date": "Geburtsdatum",
        "nationality": "Staatsangehörigkeit",
        "registered_on": "Registriert am",
        "german_level": "Deutschkenntnisse",
        "assessed_on": "Kompetenzfeststellung am",
    }
)


def is_personal(field: str) -> bool:
    return field in PERSON_FIELDS
