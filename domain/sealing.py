"""Personal fields are sealed before their event is built (ADR 0008).

An event class names its personal fields in ``PERSONAL_FIELDS``. While a command runs, the
application provides a ``Sealer`` (``sealing_with``); the aggregate hands each personal value to
it and records the ``Sealed`` box it gets back, so the event's hash covers the ciphertext. The
sealer (an adapter) holds the per-case data keys. Without a sealer, values are recorded as given:
pure domain tests and the stores of earlier versions.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Protocol
from uuid import UUID

from domain.values import Sealed


class Sealer(Protocol):
    def seal(self, case_id: UUID, topic: str, field: str, value: Any) -> Sealed: ...


class PersonalDataKeys(Sealer, Protocol):
    """The per-case data keys (an adapter, ADR 0008): seals values while a command runs; keys
    made for new cases are stored in the same transaction as the case's first events."""

    def take_new(self, case_ids: Iterable[UUID]) -> list[tuple[UUID, bytes]]:
        """The keys made for these cases since their last save, wrapped for storage."""
        ...

    def saved(self, keys: list[tuple[UUID, bytes]], *, stored: bool) -> None:
        """Whether the save that carried ``keys`` committed (then they may be cached)."""
        ...

    def prepare(self, case_ids: Iterable[UUID]) -> None:
        """Read the keys of these cases for sealing, all in one read (a bulk path about to seal
        for each of them), instead of one read per case as each is first sealed for."""
        ...

    def erase(self, case_id: UUID) -> bool:
        """Delete the case's key for good (a tombstone stays); False if it was gone already."""
        ...

    def open_events(self, events: Sequence[Any]) -> list[Any]:
        """The events with their sealed values opened (or marked erased)."""
        ...


class UnsealedPersonalDataError(RuntimeError):
    """An event with a personal value in clear was about to be stored by an application that
    seals: a command path that skipped ``sealing_with`` (a programming error, never user input)."""


_current: ContextVar[Sealer | None] = ContextVar("staffel_sealer", default=None)


@contextmanager
def sealing_with(sealer: Sealer | None) -> Iterator[None]:
    token = _current.set(sealer)
    try:
        yield
    finally:
        _current.reset(token)


def seal_fields(
    case_id: UUID, topic: str, personal: tuple[str, ...], fields: Mapping[str, Any]
) -> dict[str, Any]:
    """``fields`` with each personal value (not None, not sealed yet) sealed for ``case_id``."""
    sealer = _current.get()
    if sealer is None or not personal:
        return dict(fields)
    sealed = dict(fields)
    for name in personal:
        value = sealed.get(name)
        if value is not None and not isinstance(value, Sealed):
            sealed[name] = sealer.seal(case_id, topic, name, value)
    return sealed


def unsealed_fields(event: Any) -> list[str]:
    """The personal fields of ``event`` that hold a value in clear."""
    personal: tuple[str, ...] = getattr(type(event), "PERSONAL_FIELDS", ())
    return [
        name
        for name in personal
        if (value := getattr(event, name, None)) is not None and not isinstance(value, Sealed)
    ]
