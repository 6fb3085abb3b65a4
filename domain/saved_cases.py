"""Each case as this process last saved it, for the write path (issue 16).

A write's first attempt runs its command on a copy of the case as this process last saved it,
without asking the store whether it moved on: one query less per write. That is safe because a
save is optimistic: the case's next version is unique in the store, so a save on a copy that
another process (or a bulk path) overtook collides, and ``StaffelApplication._save`` runs the
command again on the stored state. A save that succeeds proves the copy was the newest. A
command the copy refuses is decided again on the stored state, so a stale copy never refuses a
write the case would take. Only writers use it, each under its case's lock in this process
(``StaffelApplication._writing``): no reader ever sees or changes these objects.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from copy import deepcopy
from uuid import UUID

from domain.aggregates.case import Case


class SavedCases:
    """The ``size`` cases saved last, least recently used out first; ``size`` 0 keeps none."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._cases: OrderedDict[UUID, Case] = OrderedDict()
        self._lock = threading.Lock()

    def copy_of(self, case_id: UUID) -> Case | None:
        """A copy of the case as last saved here, to run a command on; None if not kept."""
        with self._lock:
            case = self._cases.get(case_id)
            if case is None:
                return None
            self._cases.move_to_end(case_id)
        return deepcopy(case)

    def saved(self, case: Case) -> None:
        """``case`` was just saved (committed), with nothing pending: keep it as it is."""
        if self.size <= 0:
            return
        with self._lock:
            self._cases[case.id] = case
            self._cases.move_to_end(case.id)
            while len(self._cases) > self.size:
                self._cases.popitem(last=False)

    def forget(self, case_id: UUID) -> None:
        with self._lock:
            self._cases.pop(case_id, None)
