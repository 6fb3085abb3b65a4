"""How the domain's values are stored: each type round-trips as itself (a StrEnum stays a StrEnum,
a tuple stays a tuple, a date stays a date)."""

from __future__ import annotations

from dataclasses import fields
from datetime import date
from enum import Enum, StrEnum
from typing import Any

from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Transcoding,
    UUIDAsHex,
)

from domain.values import ENUMS, VALUE_OBJECTS


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class EnumAsValue(Transcoding):
    def __init__(self, enum: type[StrEnum]) -> None:
        self.type = self.enum = enum
        self.name = enum.__name__

    def encode(self, obj: StrEnum) -> str:
        return obj.value

    def decode(self, data: str) -> StrEnum:
        return self.enum(data)


class ValueObjectAsDict(Transcoding):
    def __init__(self, cls: type) -> None:
        self.type = cls
        self.name = cls.__name__
        self._names = tuple(f.name for f in fields(cls))

    def encode(self, obj: Any) -> dict[str, Any]:
        return {n: _tag(getattr(obj, n)) for n in self._names}

    def decode(self, data: dict[str, Any]) -> Any:
        return self.type(**data)


class TupleAsList(Transcoding):
    type = tuple
    name = "tuple"

    def encode(self, obj: tuple[Any, ...]) -> list[Any]:
        return list(obj)

    def decode(self, data: list[Any]) -> tuple[Any, ...]:
        return tuple(data)


class StaffelTranscoder(JSONTranscoder):
    """The library's JSON transcoder, made exact: ``json`` writes tuples as arrays and StrEnums
    as plain strings without asking for a transcoding, so both are tagged before encoding."""

    def __init__(self) -> None:
        super().__init__()
        register_transcodings(self)

    def encode(self, obj: Any) -> bytes:
        return super().encode(_tag(obj))


def _tag(obj: Any) -> Any:
    if isinstance(obj, Enum):
        return {"_type_": type(obj).__name__, "_data_": obj.value}
    if isinstance(obj, tuple):
        return {"_type_": "tuple", "_data_": [_tag(v) for v in obj]}
    if isinstance(obj, dict):
        return {k: _tag(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_tag(v) for v in obj]
    return obj


def register_transcodings(transcoder: JSONTranscoder) -> None:
    transcoder.register(UUIDAsHex())
    transcoder.register(DecimalAsStr())
    transcoder.register(DatetimeAsISO())
    transcoder.register(DateAsISO())
    transcoder.register(TupleAsList())
    for enum in ENUMS:
        transcoder.register(EnumAsValue(enum))
    for cls in VALUE_OBJECTS:
        transcoder.register(ValueObjectAsDict(cls))
