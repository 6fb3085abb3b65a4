"""The read models and events as a reader sees them under the disclosure table
(``domain.disclosure``): each personal value the reader may not see becomes
``Redacted.WITHHELD``, and ``withheld`` names those fields. Pure functions.

A history row holds the entry in clear and, beside it, its summary as it reads once erased
(every personal value "[gelöscht]"): the withheld summary is that line with the other marker,
so no summary is ever composed at read time. An erased value stays "[gelöscht]": it is not
withheld, it is gone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from domain.disclosure import PERSONAL_FIELDS, Audience, sees, sees_all
from domain.values import Redacted
from projections.summary import person_doc

Doc = dict[str, Any]
Reader = frozenset[Audience]
ERASED = Redacted.ERASED.value
WITHHELD = Redacted.WITHHELD.value


def withheld_fields(reader: Reader, event_type: str, data: Doc) -> list[str]:
    """The personal fields of an event's ``data`` that hold a value ``reader`` may not see."""
    names = PERSONAL_FIELDS.get(event_type, ())
    if not names or sees_all(reader, event_type):
        return []
    category = data.get("category")
    return [
        name
        for name in names
        if _held(data.get(name))
        and not sees(reader, event_type, name, category if isinstance(category, str) else None)
    ]


def _held(value: Any) -> bool:
    """A value in clear (not absent, not erased, not a sealed box nobody opened)."""
    return value is not None and value != ERASED and not _is_box(value)


def _is_box(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"box"}


def history_entry(entry: Doc, reader: Reader) -> Doc:
    """A history entry (a row of the history read model) as ``reader`` sees it."""
    shown = entry.copy()
    erased_summary = shown.pop("erased_summary", None)
    names = withheld_fields(reader, entry["type"], entry["data"])
    if not names:
        shown["withheld"] = []
        return shown
    shown["data"] = {**entry["data"], **dict.fromkeys(names, WITHHELD)}
    shown["summary"] = (
        erased_summary.replace(ERASED, WITHHELD)
        if isinstance(erased_summary, str)
        else f"{entry['type']}: {WITHHELD}"
    )
    shown["withheld"] = names
    return shown


def sealed_fields(event_type: str, data: Doc | None) -> list[str]:
    """The personal fields of an event's stored ``data`` that hold a sealed box (ciphertext)."""
    if data is None:
        return []
    return [name for name in PERSONAL_FIELDS.get(event_type, ()) if _is_box(data.get(name))]


def clear_fields(event_type: str, data: Doc | None) -> list[str]:
    """The personal fields of an event's stored ``data`` that hold a value in clear: an event
    stored before its field was sealed (tolerant reading, ADR 0008)."""
    if data is None:
        return []
    return [name for name in PERSONAL_FIELDS.get(event_type, ()) if _held(data.get(name))]


def sees_sealed(reader: Reader, event_type: str, data: Doc | None) -> bool:
    """Whether ``reader`` may see one of the sealed values of an event's stored ``data`` (so its
    case's key is to be unwrapped: never for values the reader may not see)."""
    category = _category(data)
    return any(sees(reader, event_type, n, category) for n in sealed_fields(event_type, data))


def stored_data(
    event_type: str,
    data: Doc | None,
    reader: Reader,
    *,
    erased: bool = False,
    open_box: Callable[[str, dict[str, Any]], Any] | None = None,
    clear_erased: bool = False,
) -> tuple[Doc | None, list[str]]:
    """An event's stored ``data`` (``/audit/events``) as ``reader`` sees it, with the fields
    withheld. A personal value ``reader`` may not see is withheld, stored in clear or sealed.
    A sealed value it may see is ``open_box(field, box)`` (its value); ``erased`` (its case's
    key is gone) makes every sealed value "[gelöscht]", seen or not. Without ``open_box`` (and
    not ``erased``) sealed boxes stay as they are stored. ``open_box`` is never called for a
    value ``reader`` may not see. ``clear_erased`` (the case is erased) makes a value stored in
    clear (before its field was sealed) "[gelöscht]" too."""
    if data is None:
        return None, []
    category = _category(data)
    shown: Doc = {}
    withheld: list[str] = []
    for name in PERSONAL_FIELDS.get(event_type, ()):
        value = data.get(name)
        if value is None or value == ERASED:
            continue
        box = _is_box(value)
        if (box and erased) or (clear_erased and not box):
            shown[name] = ERASED
        elif box and open_box is None:
            continue
        elif not sees(reader, event_type, name, category):
            shown[name] = WITHHELD
            withheld.append(name)
        elif box and open_box is not None:
            shown[name] = open_box(name, value)
    return ({**data, **shown} if shown else data), withheld


def _category(data: Doc | None) -> str | None:
    category = data.get("category") if data else None
    return category if isinstance(category, str) else None


def case_event(event: Any, reader: Reader) -> tuple[Any, list[str]]:
    """A copy of an opened case event with the values ``reader`` may not see withheld (the event
    itself when nothing is)."""
    event_type = type(event).__name__
    category = getattr(event, "category", None)
    names = [
        name
        for name in PERSONAL_FIELDS.get(event_type, ())
        if (value := getattr(event, name, None)) is not None
        and not isinstance(value, Redacted)
        and not sees(reader, event_type, name, str(category) if category is not None else None)
    ]
    if not names:
        return event, []
    copy = object.__new__(type(event))
    copy.__dict__.update(event.__dict__)
    for name in names:
        copy.__dict__[name] = Redacted.WITHHELD
    return copy, names


# summary document field -> the event field it comes from
_SUMMARY = {
    "person": ("CaseRegistered", "person"),
    "bamf_file_number": ("CaseRegistered", "bamf_file_number"),
}


def summary_doc(doc: Doc, reader: Reader) -> Doc:
    """A case summary (the summary read model's document) as ``reader`` sees it, with
    ``withheld``: the summary's fields (dotted for nested ones) that were withheld."""
    shown = dict(doc)
    withheld: list[str] = []
    for key, (event_type, field) in _SUMMARY.items():
        value = doc.get(key)
        if key == "person" and isinstance(value, dict):
            value = value.get("family_name")
        if _held(value) and not sees(reader, event_type, field):
            shown[key] = person_doc(WITHHELD) if key == "person" else WITHHELD
            withheld.append(key)
    competences = doc.get("competences")
    notes = competences.get("notes") if isinstance(competences, dict) else None
    if _held(notes) and not sees(reader, "CompetenceAssessed", "notes"):
        shown["competences"] = {**(competences or {}), "notes": WITHHELD}
        withheld.append("competences.notes")
    steps = doc.get("steps") or []
    described = any(_held(s.get("description")) for s in steps)
    if described and not sees(reader, "StepAgreed", "description"):
        shown["steps"] = [
            {**s, "description": WITHHELD} if _held(s.get("description")) else s for s in steps
        ]
        withheld.append("steps.description")
    shown["withheld"] = withheld
    return shown
