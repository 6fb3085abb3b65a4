"""What a write takes and returns beside the command itself: the answer (``Recorded``) and the
Idempotency-Key a retried request carries (ADR 0005)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID, uuid4

SERVER_MADE = "server-made"  # the request hash of an id the server made (never a client's)


@dataclass(frozen=True)
class Recorded:
    """What a write returns: where the written case, employer, offer or volunteer stands and
    where the write sits in the global log. ``digest``: the case's chain head; "" for records
    without a chain (employers, offers, volunteers)."""

    id: UUID
    version: int
    position: int
    digest: str


@dataclass(frozen=True)
class IdempotencyKey:
    """A client's key for one request, and a hash of what the request asked for."""

    key: str
    request_hash: str

    @classmethod
    def server_made(cls) -> IdempotencyKey:
        """A command id for a write whose client sent no Idempotency-Key: stored with the events
        like a client's key, so that a commit of unknown outcome can be looked up (ADR 0005).
        ``s1:`` never begins a client's stored key (those are ``u1:`` hashes), so no client key
        can replay it, and nothing but the write that made it ever looks it up."""
        return cls("s1:" + uuid4().hex, SERVER_MADE)


@dataclass(frozen=True)
class IdempotencyRecord:
    """Stored with the events a request produced, in the same transaction: the answer a retry
    gets (``id``: the record the write answers for; stored in the column ``case_id``)."""

    key: str
    request_hash: str
    id: UUID
    version: int
    digest: str


class IdempotencyStore(Protocol):
    """The recorder's side of idempotency (``adapters/recorders.py``)."""

    def find_idempotent(self, key: str) -> tuple[str, Recorded] | None: ...

    def find_idempotent_keys(self, keys: Sequence[str]) -> set[str]:
        """Which of ``keys`` are stored (bulk paths: one query for a batch)."""
        ...
