"""The matching projection: keeps the matching inputs current (people, offers, employers,
volunteers) for ranking and for consent-based sharing, through its view ``MatchingWriter``
(implemented in ``adapters/views/matching_writer.py``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, ClassVar, Protocol

from domain.aggregates.case_events import PersonalDataErased
from projections.base import Batch
from projections.matching_inputs import FOLDS
from projections.partner_docs import Doc


class MatchingWriter(Protocol):
    """The matching inputs, one document per kind and id: what ``MatchingProjection`` writes."""

    def load_docs(self, kind: str, ids: Iterable[str]) -> dict[str, Doc]: ...

    def save_docs(self, kind: str, docs: Sequence[Doc]) -> None: ...

    def secure_delete(self) -> None:
        """Rows replaced from now on leave no trace in the database file."""
        ...


class MatchingProjection:
    name: ClassVar[str] = "matching"
    version: ClassVar[int] = 1

    def process(self, batch: Batch, writer: MatchingWriter) -> None:
        if any(isinstance(e, PersonalDataErased) for e, _ in batch):
            writer.secure_delete()
        for kind, (event_types, fold) in FOLDS.items():
            events: list[Any] = [e for e, _ in batch if isinstance(e, event_types)]
            if not events:
                continue
            ids = {str(e.originator_id) for e in events}
            docs: dict[str, Doc | None] = {**dict.fromkeys(ids), **writer.load_docs(kind, ids)}
            for event in events:
                case_id = str(event.originator_id)
                docs[case_id] = fold(docs[case_id], event)
            writer.save_docs(kind, [d for d in docs.values() if d is not None])
