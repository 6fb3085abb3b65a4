"""Recompute a case's hash chain from what is stored (ADR 0003).

Reads the stored records through the application's mapper (deciphering and decompressing as
configured) but decodes them *without* upcasting: the hash covers an event as it was stored, at
its own class version.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper, StoredEvent

from domain.application import CaseApplication
from domain.chain import GENESIS, event_hash


@dataclass(frozen=True)
class ChainProblem:
    case_id: UUID
    version: int
    kind: str  # changed | missing | broken_link
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


def recomputed_hashes(app: CaseApplication, case_id: UUID) -> Iterator[tuple[int, str, str, str]]:
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


def verify_case(app: CaseApplication, case_id: UUID) -> list[ChainProblem]:
    problems: list[ChainProblem] = []
    expected_version, head = 1, GENESIS
    for version, stored_hash, recomputed, prev_hash in recomputed_hashes(app, case_id):
        if version != expected_version:
            problems.append(
                ChainProblem(
                    case_id, expected_version, "missing", f"next stored version is {version}"
                )
            )
        if recomputed != stored_hash:
            problems.append(
                ChainProblem(case_id, version, "changed", "content does not match its hash")
            )
        if prev_hash != head:
            problems.append(
                ChainProblem(case_id, version, "broken_link", "prev_hash does not match")
            )
        expected_version, head = version + 1, stored_hash
    return problems
