"""Where a follower of the log stands, without asking the store every round; which of the
log's events a follower needs to decode at all."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager

import structlog
from eventsourcing.utils import TopicError, resolve_topic

from adapters.views.store import OverlappingBatchError, ViewStoreMixin

log = structlog.get_logger("staffel.followers")


class Tracked:
    """A follower's tracking position (``key``): read from the store once, then where the
    follower's own batches left it. A batch refused by the compare-and-set (another runner moved
    the position) or one that failed forgets it: the next step reads it again. Issue 16: a
    round of the supervisor asked each follower's position anew, a query each, after every
    write."""

    def __init__(self, store: ViewStoreMixin, key: str) -> None:
        self.store, self.key = store, key
        self._known: int | None = None

    def start(self) -> int:
        if self._known is None:
            self._known = self.store.max_tracking_id(self.key) or 0
        return self._known

    def moved(self, end: int) -> None:
        self._known = end

    def forget(self) -> None:
        self._known = None

    @contextmanager
    def following(self, refused: str) -> Iterator[int]:
        """The position a batch follows from. A batch refused by the compare-and-set is logged
        as ``refused`` and skipped (another runner followed the same events); refused or failed,
        the position is forgotten, so the next step reads it again."""
        start = self.start()
        try:
            yield start
        except OverlappingBatchError:
            log.info(refused, start=start)
            self.forget()
        except BaseException:
            self.forget()
            raise


@functools.cache
def decodes_to(topic: str, classes: tuple[type, ...]) -> bool:
    """Whether an event stored under ``topic`` is one of ``classes``: the class the mapper
    decodes it to (``resolve_topic``, old topics too). A follower decodes only those: most of
    the log is notes and assessments that it only steps over. A topic nothing resolves counts
    as one of them: it is decoded, and fails there, as any read of it does."""
    try:
        cls = resolve_topic(topic)
    except TopicError:
        return True
    return isinstance(cls, type) and issubclass(cls, classes)
