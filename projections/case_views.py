"""The case projections: what each does with a batch of events. Storage is behind small
protocols (implemented in ``adapters/views``) so the logic here knows no database.

A batch is applied by the view store in one transaction together with its tracking record:
every event is applied exactly once, even when the process dies between batches.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, ClassVar, Protocol

from domain.aggregates.case_events import CaseEvent, HandoverOffered, PersonalDataErased
from projections import summary
from projections.history import HistoryEntry, entry_for
from projections.matching_view import MatchingProjection

Batch = Sequence[tuple[Any, int]]  # (domain event, global position); non-case events included


class HistoryWriter(Protocol):
    def insert_history(self, entries: Sequence[HistoryEntry]) -> None: ...

    def erase_history(self, case_ids: Sequence[str]) -> None:
        """Each entry of these cases with personal fields now reads as its erased form."""
        ...


class SummaryWriter(Protocol):
    def load_summaries(self, case_ids: Iterable[str]) -> dict[str, summary.Doc]: ...

    def save_summaries(self, docs: Sequence[summary.Doc], handovers_of: set[str]) -> None: ...

    def secure_delete(self) -> None:
        """Rows replaced from now on leave no trace in the database file."""
        ...


class CaseProjection(Protocol):
    name: ClassVar[str]
    version: ClassVar[int]

    def process(self, batch: Batch, writer: Any) -> None: ...


class CaseHistoryProjection:
    """One history entry per case event; an erasure turns the case's entries into their erased
    form (computed when each entry was written, so no key is needed to erase)."""

    name: ClassVar[str] = "case_history"
    version: ClassVar[int] = 2

    def process(self, batch: Batch, writer: HistoryWriter) -> None:
        entries = [entry_for(e, pos) for e, pos in batch if isinstance(e, CaseEvent)]
        if entries:
            writer.insert_history(entries)
        erased = [str(e.originator_id) for e, _ in batch if isinstance(e, PersonalDataErased)]
        if erased:
            writer.erase_history(erased)


class CaseSummaryProjection:
    """The current summary of each case, and its handover offers (the handover queues)."""

    name: ClassVar[str] = "case_summary"
    version: ClassVar[int] = 2

    def process(self, batch: Batch, writer: SummaryWriter) -> None:
        events = [e for e, _ in batch if isinstance(e, CaseEvent)]
        if not events:
            return
        if any(isinstance(e, PersonalDataErased) for e in events):
            writer.secure_delete()
        ids = {str(e.originator_id) for e in events}
        docs: dict[str, summary.Doc | None] = {**dict.fromkeys(ids), **writer.load_summaries(ids)}
        handovers_of: set[str] = set()
        for event in events:
            case_id = str(event.originator_id)
            before = docs[case_id]
            after = summary.fold(before, event)
            docs[case_id] = after
            if isinstance(event, HandoverOffered) or (
                before is not None and before["handovers"] != after["handovers"]
            ):
                handovers_of.add(case_id)
        writer.save_summaries([d for d in docs.values() if d is not None], handovers_of)


PROJECTIONS: tuple[CaseProjection, ...] = (
    CaseHistoryProjection(),
    CaseSummaryProjection(),
    MatchingProjection(),
)
