"""Recompute a case's hash chain from what is stored (ADR 0003).

Reads the stored records through the application's mapper (deciphering and decompressing as
configured) but decodes them *without* upcasting: the hash covers an event as it was stored, at
its own class version. ``verify_case`` judges one case, ``adapters.audit`` the whole store.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper, StoredEvent

from adapters.audit.verify import case_records
from domain.application import StaffelApplication
from domain.chain import event_hash
from verifier.audit_verify import case_problems


@dataclass(frozen=True)
class ChainProblem:
    case_id: UUID
    version: int
    kind: str  # changed | missing | reordered | inserted | broken_link
    detail: str


def stored_state(mapper: Mapper[UUID], stored: StoredEvent) -> tuple[int, dict[str, Any]]:
    """The class version and state of a stored event, exactly as stored."""
    data = stored.state
    if mapper.cipher:
        data = mapper.cipher.decrypt(data)
    if mapper.compressor:
        data = mapper.compressor.decompress(data)
    state: dict[str, Any] = mapper.transcoder.decode(data)
    return state.pop("class_version", 1), state


def recomputed_hashes(
    app: StaffelApplication, case_id: UUID
) -> Iterator[tuple[int, str, str, str]]:
    """For each stored event of the case: (version, stored hash, recomputed hash, prev_hash)."""
    for stored in app.recorder.select_events(case_id):
        class_version, state = stored_state(app.mapper, stored)
        recomputed = event_hash(
            case_id, stored.originator_version, stored.topic, class_version, state
        )
        yield (
            stored.originator_version,
            state.get("hash", ""),
            recomputed,
            state.get("prev_hash", ""),
        )


def verify_case(app: StaffelApplication, case_id: UUID) -> list[ChainProblem]:
    """Every problem of the case's stored chain, as ``staffel audit verify`` names them
    (``audit_verify.case_problems``): changed, missing, reordered, inserted, broken_link."""
    return [
        ChainProblem(case_id, p.version or 0, p.kind, p.detail)
        for p in case_problems(str(case_id), case_records(app, case_id))
    ]
