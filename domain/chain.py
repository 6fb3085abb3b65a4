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
from collections.abc import Mapping
from dataclasses import fields, is_dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any
from uuid import UUID

GENESIS = "0" * 64


_PLAIN = frozenset({str, int, bool, type(None)})  # exact types: no subclass (StrEnum) passes


def to_canonical(value: Any) -> Any:
    """Turn a stored value into the JSON value the canonical form hashes."""
    if type(value) in _PLAIN:  # the common case first: this runs for every field of every event
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, tuple | list):
        return [to_canonical(v) for v in value]
    if isinstance(value, bool | int | str):  # other subclasses of the plain types
        return value
    if isinstance(value, Mapping):
        return {str(k): to_canonical(v) for k, v in value.items()}
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_canonical(getattr(value, f.name)) for f in fields(value)}
    raise TypeError(f"no canonical form for {type(value).__name__}: {value!r}")


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
