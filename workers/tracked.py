"""Where a follower of the log stands, without asking the store every round."""

from __future__ import annotations

from adapters.views.store import ViewStoreMixin


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
