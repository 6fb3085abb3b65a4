"""What the Python runtime itself costs us, and what we do about it (ADR 0021).

CPython 3.11 answers ``isinstance(x, P)`` for a runtime-checkable ``typing.Protocol`` ``P`` by
collecting ``P``'s members anew on every call (``typing._get_protocol_attrs``: a walk over the
protocol's MRO, its ``__dict__`` and its annotations). The eventsourcing library checks every
event and aggregate it saves or replays that way (``project_aggregate``'s assert,
``ProcessingEvent.collect_events``, ``Application._record``, the events' ``mutate``). Under
``StaffelApplication.record`` this was 9.6 % of the samples holding the GIL (py-spy, 4 threads,
PostgreSQL). Python 3.12 collects the members once, when the protocol class is made
(``__protocol_attrs__``, CPython gh-74690); on 3.11 ``cache_protocol_members`` remembers them per
class, which gives the same answers: a protocol's members are fixed once its class exists.
"""

from __future__ import annotations

import functools
import sys
import typing
from collections.abc import Callable
from typing import Any

_CACHED = "_staffel_cached"


def cache_protocol_members() -> bool:
    """Remember each protocol class's members after the first ``isinstance`` against it
    (Python before 3.12 only; idempotent). Returns whether the runtime was changed now."""
    if sys.version_info >= (3, 12):
        return False
    attrs: Callable[[type], Any] = typing._get_protocol_attrs  # type: ignore[attr-defined]
    if getattr(attrs, _CACHED, False):
        return False

    @functools.cache
    def members(cls: type) -> frozenset[str]:
        return frozenset(attrs(cls))

    @functools.cache
    def callable_members_only(cls: type) -> bool:
        return all(callable(getattr(cls, attr, None)) for attr in members(cls))

    for function in (members, callable_members_only):
        setattr(function, _CACHED, True)
    typing._get_protocol_attrs = members  # type: ignore[attr-defined]
    typing._is_callable_members_only = callable_members_only  # type: ignore[attr-defined]
    return True
