"""Who is acting: set once per request by the entry point, read by every recorded event."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    """A member of staff (or a system process) acting for one organisation."""

    id: str
    org: str


class NoActorError(Exception):
    """A command ran without anyone acting: entry points must set the actor first."""


_current: ContextVar[Actor | None] = ContextVar("staffel_actor", default=None)


def current_actor() -> Actor:
    actor = _current.get()
    if actor is None:
        raise NoActorError("no actor is set for this command")
    return actor


@contextmanager
def acting_as(actor: Actor) -> Iterator[Actor]:
    token = _current.set(actor)
    try:
        yield actor
    finally:
        _current.reset(token)
