"""Group commit on PostgreSQL (ADR 0012): the commands a process saves concurrently share one
transaction, one ``LOCK TABLE ... IN EXCLUSIVE MODE`` and one commit.

Every ``insert_events`` of the application recorder (a command's events with its idempotency
record and the keys of new cases) becomes a ``Command`` handed to ``GroupCommitter.submit``. The
first caller to find no batch in progress leads: it gathers what arrives meanwhile (``_gather``:
only while others keep arriving, at most ``window`` seconds, never when the last batch was a
single command), writes the batch in one transaction (``write``) and wakes its members; the
commands that queued while it wrote form the next batch, led by the first of them. Under no
concurrency a command waits for nothing; under load a batch holds what queued during the last
commit.

Notification ids stay in commit order, as the library's readers expect: the batch inserts all
its events in one statement after taking the table lock, exactly as one ``save`` of many
aggregates does.

A command never fails because of another. Two commands of one batch for one record version or
with one idempotency key: the later one waits for the next batch (where it collides with the
first's committed rows, as it would have alone). A batch whose insert violates a constraint (a
command raced by another process, a replayed key) is written again one command per transaction:
each gets its own outcome. A failure of the connection or of the database fails every command of
the batch with that error (nothing of the batch is stored, or all of it, as one commit); each
command then goes through the library's retries and the application's ambiguous-commit check
on its own.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from eventsourcing.persistence import IntegrityError, StoredEvent

from adapters.database import REQUEST_BUDGET, DatabaseUnavailableError, RequestBudget

DEFAULT_WINDOW = 0.001  # seconds: the longest a leader gathers
GAP = 0.0002  # seconds: gathering ends when nothing arrived for this long
MAX_BATCH = 500  # commands per transaction


@dataclass(eq=False)
class Command:
    """One ``insert_events`` call waiting for its batch."""

    stored_events: Sequence[StoredEvent]
    kwargs: dict[str, Any]
    budget: RequestBudget | None = None
    ids: list[int] = field(default_factory=list)
    error: BaseException | None = None
    finished: bool = False
    woken: threading.Event = field(default_factory=threading.Event)

    def keys(self) -> set[Any]:
        """What no two commands of one batch may share: record versions, the idempotency key."""
        found: set[Any] = {(e.originator_id, e.originator_version) for e in self.stored_events}
        found.update(record.key for record in records_in(self.kwargs))
        return found

    def finish(self, ids: Sequence[int] | None = None, error: BaseException | None = None) -> None:
        self.ids, self.error, self.finished = list(ids or ()), error, True
        self.woken.set()


def records_in(kwargs: dict[str, Any]) -> list[Any]:
    """The idempotency records of one save: a command's (``idempotency``), or those of the
    commands a bulk path saves together (``idempotency_records``)."""
    one = kwargs.get("idempotency")
    return [*([] if one is None else [one]), *(kwargs.get("idempotency_records") or ())]


Write = Callable[[Sequence[Command]], list[list[int]]]


class GroupCommitter:
    """Batches the commands of one process; ``write`` stores a batch in one transaction and
    returns each command's notification ids, or raises for the whole batch."""

    def __init__(
        self, write: Write, window: float = DEFAULT_WINDOW, max_batch: int = MAX_BATCH
    ) -> None:
        self.write, self.window, self.max_batch = write, window, max_batch
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._queue: list[Command] = []
        self._leading = False
        self._last_size = 0
        # what tests and benchmarks read: transactions written, commands in them, the largest
        self.transactions = 0
        self.commands = 0
        self.largest = 0

    def submit(self, stored_events: Sequence[StoredEvent], kwargs: dict[str, Any]) -> list[int]:
        budget = REQUEST_BUDGET.get()
        if budget is not None and budget.spent:
            raise DatabaseUnavailableError("the database did not answer in time")
        command = Command(stored_events, kwargs, budget)
        with self._lock:
            self._queue.append(command)
            lead = not self._leading
            self._leading = True
            self._arrived.notify()
        if not lead:
            command.woken.wait()  # written by a leader, or made the leader
        if not command.finished:
            try:  # leading: write batches until this command's is written
                while not command.finished:
                    self._gather()
                    with self._lock:
                        batch = self._take()
                    self._run(batch, budget)
            finally:
                self._pass_on()
        if command.error is not None:
            raise command.error
        return command.ids

    def _gather(self) -> None:
        """Wait while commands keep arriving, at most ``window`` seconds: only under load."""
        deadline = time.monotonic() + self.window
        with self._lock:
            if self._last_size <= 1 and len(self._queue) <= 1:
                return
            seen = len(self._queue)
            while seen < self.max_batch and (left := deadline - time.monotonic()) > 0:
                self._arrived.wait(min(GAP, left))
                if len(self._queue) == seen:
                    return
                seen = len(self._queue)

    def _take(self) -> list[Command]:
        """The batch: queued commands in order, skipping one that shares a key with an earlier
        one (it stays queued for the next batch)."""
        batch: list[Command] = []
        taken: set[Any] = set()
        rest: list[Command] = []
        for command in self._queue:
            keys = command.keys()
            if len(batch) >= self.max_batch or keys & taken:
                rest.append(command)
                continue
            batch.append(command)
            taken |= keys
        self._queue = rest
        return batch

    def _run(self, batch: Sequence[Command], budget: RequestBudget | None) -> None:
        """Write ``batch`` (in the leader's thread, with its request ``budget``) and finish each
        of its commands with its outcome."""
        try:
            outcomes = self._written(batch)
        except BaseException as e:
            spent = budget is not None and budget.spent
            for command in batch:
                if spent and command.budget is not None:
                    command.budget.spent = True  # the leader's wait ran out: so did theirs
                command.finish(error=e)
            if not isinstance(e, Exception):
                raise
            return
        for command, outcome in zip(batch, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                command.finish(error=outcome)
            else:
                command.finish(ids=outcome)

    def _written(self, batch: Sequence[Command]) -> list[list[int] | BaseException]:
        """One transaction for the batch; on a constraint violation one per command, each with
        its own outcome (ids or error)."""
        try:
            ids: list[list[int] | BaseException] = list(self._counted(batch))
        except IntegrityError as e:
            if len(batch) == 1:
                return [e]
            ids = []
            for command in batch:  # each its own outcome, whatever the others' is
                try:
                    ids.append(self._counted([command])[0])
                except Exception as alone:
                    ids.append(alone)
        return ids

    def _counted(self, batch: Sequence[Command]) -> list[list[int]]:
        ids = self.write(batch)
        with self._lock:
            self.transactions += 1
            self.commands += len(batch)
            self.largest = max(self.largest, len(batch))
            self._last_size = len(batch)
        return ids

    def _pass_on(self) -> None:
        """Leadership to the first queued command, or to whoever comes next."""
        with self._lock:
            if self._queue:
                self._queue[0].woken.set()
            else:
                self._leading = False
