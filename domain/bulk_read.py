"""Many aggregates with one read of the store, for bulk paths (the handover policy, imports, a
wave of recognitions or acceptances): the library's repository answers one ``get`` with one
query (a cached aggregate fast-forwarded, or its snapshot and events), so a hundred cases cost a
hundred round trips. ``StaffelRepository.get_many`` answers the same as ``get`` for each id,
with one query for the new events of all of them (and one for the snapshots of those not
cached), where the recorder offers it (``BulkReader``, PostgreSQL); elsewhere one ``get`` each.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from contextlib import suppress
from copy import deepcopy
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Repository, project_aggregate
from eventsourcing.persistence import StoredEvent


class BulkReader(Protocol):
    """The recorder's side (``adapters/recorders.py``)."""

    def select_events_after(
        self, after: Mapping[UUID, int], table: str | None = None
    ) -> Sequence[StoredEvent]:
        """The events of each id with a version above its value, in version order (``table``:
        another table of the same store, e.g. the snapshots; default the events)."""
        ...

    def select_latest(self, ids: Sequence[UUID], table: str) -> Sequence[StoredEvent]:
        """The newest record of each id in ``table`` that has one (the snapshots)."""
        ...


class StaffelRepository(Repository[UUID]):
    def get_many(self, ids: Sequence[UUID]) -> list[Any]:
        """What ``get`` answers for each id, in order (``AggregateNotFoundError`` for a missing
        one), from one read of the store where the recorder can."""
        reader = self.event_store.recorder
        if not (self.cache and self.fastforward and hasattr(reader, "select_events_after")):
            return [self._get_one(i) for i in ids]
        unique = list(dict.fromkeys(ids))
        cached: dict[UUID, Any] = {}
        for i in unique:
            with suppress(KeyError):
                cached[i] = self.cache.get(i)
        missing = [i for i in unique if i not in cached]
        bases = self._snapshots(reader, missing)
        after = {i: a.version for i, a in cached.items()}
        after.update({i: bases[i].originator_version if i in bases else 0 for i in missing})
        new_events: dict[UUID, list[Any]] = defaultdict(list)
        for stored in reader.select_events_after(after):
            event = self.event_store.mapper.to_domain_event(stored)
            new_events[event.originator_id].append(event)
        found: dict[UUID, Any] = {}
        for i, aggregate in cached.items():
            found[i] = self._fast_forward(i, aggregate, new_events[i])
        for i in missing:
            start = [bases[i]] if i in bases else []
            aggregate = project_aggregate(None, [*start, *new_events[i]])
            if aggregate is None:
                raise AggregateNotFoundError(i)
            self.cache.put(i, aggregate)
            found[i] = deepcopy(aggregate) if self.deepcopy_from_cache else aggregate
        answers, given = [], set()
        for i in ids:  # an id given twice: a copy each time, as ``get`` answers
            answers.append(deepcopy(found[i]) if i in given else found[i])
            given.add(i)
        return answers

    def _get_one(self, aggregate_id: UUID) -> Any:
        try:
            return self.get(aggregate_id)
        except AggregateNotFoundError:
            raise AggregateNotFoundError(aggregate_id) from None

    def _snapshots(self, reader: Any, ids: Sequence[UUID]) -> dict[UUID, Any]:
        if not ids or self.snapshot_store is None:
            return {}
        table = self.snapshot_store.recorder.events_table_name  # type: ignore[attr-defined]
        mapper = self.snapshot_store.mapper
        return {
            s.originator_id: s
            for s in map(mapper.to_domain_event, reader.select_latest(ids, table))
        }

    def _fast_forward(self, aggregate_id: UUID, aggregate: Any, events: list[Any]) -> Any:
        """As ``get`` does, under the library's per-aggregate lock; events another thread has
        applied meanwhile are skipped (``events`` hold every one after the version read)."""
        lock = self._use_fastforward_lock(aggregate_id)
        try:
            with lock:
                newer = [e for e in events if e.originator_version > aggregate.version]
                if newer:
                    aggregate = project_aggregate(aggregate, newer)
        finally:
            self._disuse_fastforward_lock(aggregate_id)
        return deepcopy(aggregate) if self.deepcopy_from_cache else aggregate
