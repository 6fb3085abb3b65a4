"""The hash chain over a case stream: canonical form and SHA-256 (ADR 0003).

An event's hash is SHA-256 over the canonical JSON of::

    {"case_id": "<uuid>", "version": N, "topic": "<TOPIC>", "class_version": K,
     "state": {<every stored field of the event except "hash">}}

``state`` holds the event exactly as stored at class version K (before any upcasting), including
``timestamp``, ``actor``, ``org`` and ``prev_hash``, the hash of version N-1 (``GENESIS`` for
version 1). Canonical JSON: object keys sorted, no insignificant whitespace, UTF-8, no ASCII
escaping; dates and datetimes as ISO 8601 strings, enums as their value, tuples as arrays, value
objects as objects of their fields, UUIDs in hyphenated form. Floats are refused.
"""

from __future__ import annotations

import hashlib
import json
import operator
from collections.abc import Callable, Mapping
from dataclasses import fields, is_dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any
from uuid import UUID

GENESIS = "0" * 64


_PLAIN = frozenset({str, int, bool, type(None)})  # exact types: no subclass (StrEnum) passes


def to_canonical(value: Any) -> Any:
    """Turn a stored value into the JSON value the canonical form hashes."""
    kind = type(value)
    if kind in _PLAIN:  # the common case first: this runs for every field of every event
        return value
    convert = _CONVERTERS.get(kind)
    if convert is None:
        convert = _CONVERTERS[kind] = _converter(kind)
    return convert(value)


def _converter(kind: type) -> Callable[[Any], Any]:
    """How values of ``kind`` are turned canonical: decided once per type, since every test
    below depends on the value's type only."""
    if issubclass(kind, Enum):
        return _ENUM_VALUE
    if issubclass(kind, datetime | date):
        return _ISOFORMAT
    if issubclass(kind, UUID):
        return str
    if issubclass(kind, tuple | list):
        return _sequence
    if issubclass(kind, bool | int | str):  # other subclasses of the plain types
        return _same
    if issubclass(kind, Mapping):
        return _mapping
    if is_dataclass(kind) and not issubclass(kind, type):
        names = tuple(f.name for f in fields(kind))
        return lambda value: {name: to_canonical(getattr(value, name)) for name in names}
    return _refused


_ENUM_VALUE = operator.attrgetter("value")
_ISOFORMAT = operator.methodcaller("isoformat")


def _sequence(value: tuple[Any, ...] | list[Any]) -> list[Any]:
    return [to_canonical(v) for v in value]


def _same(value: Any) -> Any:
    return value


def _mapping(value: Mapping[Any, Any]) -> dict[str, Any]:
    return {str(k): to_canonical(v) for k, v in value.items()}


def _refused(value: Any) -> Any:
    raise TypeError(f"no canonical form for {type(value).__name__}: {value!r}")


_CONVERTERS: dict[type, Callable[[Any], Any]] = {}


def canonical_bytes(
    case_id: UUID, version: int, topic: str, class_version: int, state: Mapping[str, Any]
) -> bytes:
    document = {
        "case_id": str(case_id),
        "version": version,
        "topic": topic,
        "class_version": class_version,
        "state": {k: to_canonical(v) for k, v in state.items() if k != "hash"},
    }
    return json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def event_hash(
    case_id: UUID, version: int, topic: str, class_version: int, state: Mapping[str, Any]
) -> str:
    return hashlib.sha256(
        canonical_bytes(case_id, version, topic, class_version, state)
    ).hexdigest()
