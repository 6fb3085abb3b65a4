"""What a person can consent to share, by name: the vocabulary of ``ConsentGiven.scope``.

A scope lists field names (or groups of them). A name outside this vocabulary grants nothing:
an employer or mentor sees a field only when an open consent for them names it.
"""

from __future__ import annotations

from collections.abc import Iterable

# field -> what it shows (German, for the consent form and the API description)
FIELDS: dict[str, str] = {
    "name": "Vor- und Nachname",
    "birth_date": "Geburtsdatum",
    "nationality": "Staatsangehörigkeit",
    "languages": "Sprachen",
    "german_level": "Deutschkenntnisse (GER-Stufe)",
    "work_experience": "Berufserfahrung",
    "vocational_training": "Berufsausbildung",
    "school": "Schulbildung",
    "municipality": "Wohnort",
    "legal_status": "Aufenthaltsstatus",
    "measures": "Kurse und Maßnahmen",
    "placements": "Praktika, Ausbildung, Arbeit",
}
GROUPS: dict[str, tuple[str, ...]] = {
    "competences": (
        "languages",
        "german_level",
        "work_experience",
        "vocational_training",
        "school",
    ),
}


def expand(scope: Iterable[str]) -> frozenset[str]:
    """The fields a scope grants: its known field names and the members of its groups."""
    granted: set[str] = set()
    for name in scope:
        if name in FIELDS:
            granted.add(name)
        granted.update(GROUPS.get(name, ()))
    return frozenset(granted)


VOCABULARY: frozenset[str] = frozenset(FIELDS) | frozenset(GROUPS)
