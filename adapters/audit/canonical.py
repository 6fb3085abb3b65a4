"""Stored events straight into canonical values (ADR 0003), without building domain objects.

``stored_state`` plus ``to_canonical`` (``adapters.chain_check``, ``domain.chain``) decode a record
into typed values and turn them back into JSON values. This does both in one pass: the JSON
decoder's hook turns each tagged value (``{"_type_": ..., "_data_": ...}``) into its canonical form
through the same transcoding, so the result is the same, at a fraction of the cost. Nothing is
upcast: the hash covers an event at its own class version.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import fields
from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import (
    DatetimeAsISO,
    JSONTranscoder,
    Mapper,
    Transcoding,
    UUIDAsHex,
)

from domain.chain import to_canonical
from domain.transcodings import DateAsISO, EnumAsValue, TupleAsList, ValueObjectAsDict

Canon = Callable[[Any], Any]


def _refuse(text: str) -> Any:
    raise ValueError(f"{text}: floats have no canonical form")


def _exact(transcoding: Transcoding) -> Canon:
    return lambda data: to_canonical(transcoding.decode(data))


def _of_text(parse: Callable[[str], Any], transcoding: Transcoding) -> Canon:
    slow = _exact(transcoding)
    return lambda data: str(parse(data)) if type(data) is str else slow(data)


def _canon_for(transcoding: Transcoding) -> Canon:
    """The canonical value of ``transcoding.decode(data)``, by a shortcut where one is exact."""
    slow = _exact(transcoding)
    if isinstance(transcoding, EnumAsValue):
        values = frozenset(m.value for m in transcoding.enum)
        return lambda data: data if type(data) is str and data in values else slow(data)
    if isinstance(transcoding, TupleAsList):  # items are canonical already
        return lambda data: data if type(data) is list else slow(data)
    if type(transcoding) is DatetimeAsISO:
        return lambda data: (
            datetime.fromisoformat(data).isoformat() if type(data) is str else slow(data)
        )
    if type(transcoding) is DateAsISO:
        return lambda data: (
            date.fromisoformat(data).isoformat() if type(data) is str else slow(data)
        )
    if type(transcoding) is UUIDAsHex:
        return _of_text(UUID, transcoding)
    if isinstance(transcoding, ValueObjectAsDict) and "__post_init__" not in vars(transcoding.type):
        names = frozenset(f.name for f in fields(transcoding.type))
        # its fields' values are canonical already: the object's form is the same dict
        return lambda data: data if type(data) is dict and data.keys() == names else slow(data)
    return slow


class CanonicalReader:
    """``state(bytes)`` -> (class version, state in canonical values, with ``hash``)."""

    def __init__(self, mapper: Mapper[UUID]) -> None:
        self.cipher, self.compressor = mapper.cipher, mapper.compressor
        transcoder = mapper.transcoder
        if not isinstance(transcoder, JSONTranscoder):
            raise TypeError(f"cannot read {type(transcoder).__name__} records canonically")
        self._canon = {name: _canon_for(t) for name, t in transcoder.names.items()}
        self._decoder = json.JSONDecoder(
            object_hook=self._hook, parse_float=_refuse, parse_constant=_refuse
        )

    def _hook(self, d: dict[str, Any]) -> Any:
        # as the library's JSONTranscoder: exactly the two keys, or a plain object
        if len(d) == 2 and "_type_" in d and "_data_" in d:
            return self._canon[d["_type_"]](d["_data_"])
        return d

    def state(self, data: bytes) -> tuple[Any, dict[str, Any]]:
        if self.cipher:
            data = self.cipher.decrypt(data)
        if self.compressor:
            data = self.compressor.decompress(data)
        state = self._decoder.decode(data.decode("utf-8"))
        if not isinstance(state, dict):
            raise ValueError("a stored event's state is not an object")
        return state.pop("class_version", 1), state

    def value(self, plain: bytes) -> Any:
        """The canonical value in an opened sealed box (its plaintext: the transcoded
        ``{"v": value}``, ``adapters.keystore``)."""
        wrapped = self._decoder.decode(plain.decode("utf-8"))
        if not isinstance(wrapped, dict) or set(wrapped) != {"v"}:
            raise ValueError("an opened sealed value is not a wrapped value")
        return wrapped["v"]
