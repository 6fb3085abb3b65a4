"""What a projection is: a name and a version (its tables' generation and tracking are keyed by
the name; a new version rebuilds), and ``process(batch, writer)``, a fold of a batch of events
into calls on its own small view protocol, ``writer``. The view store implements each protocol in
``adapters/views`` and applies a batch in one transaction together with its tracking record:
every event is applied exactly once, even when the process dies between batches."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Protocol, TypeVar

Batch = Sequence[tuple[Any, int]]  # (domain event, global position); non-case events included

W_contra = TypeVar("W_contra", contravariant=True)


class Projection(Protocol[W_contra]):
    name: ClassVar[str]
    version: ClassVar[int]

    def process(self, batch: Batch, writer: W_contra) -> None: ...
