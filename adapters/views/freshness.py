"""Read-your-writes, waited for at the first read of a read model (ADR 0005 addendum).

An HTTP read that must see a position (the caller's own last write, or ``?min_position=``) used
to wait for the read models before its route ran. A request the service layer refuses on the
caller's role alone (an employer listing volunteers) then waited too, and under load answered
503 "read models behind" where its answer is 403. Now the request only names what must be
waited for (``wait_before_reading``), and the view store waits at its first read in that
request (``reads_current``): the service layer's checks that need no read model come first, and
a request that reads no read model waits for nothing.

The wait is held in a context variable: each request runs in its own context (the event loop's
task, copied into the thread its route runs in), so one request's wait never reaches another's
reads, and the background workers' threads never see one.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar

_pending: ContextVar[Callable[[], None] | None] = ContextVar("staffel_reads_wait", default=None)


def wait_before_reading(wait: Callable[[], None]) -> None:
    """``wait`` (bounded; it raises when the read models are still behind) runs before this
    request's first read of a read model, after any wait named before it."""
    earlier = _pending.get()
    if earlier is None:
        _pending.set(wait)
        return

    def both() -> None:
        earlier()
        wait()

    _pending.set(both)


def reads_current() -> None:
    """Before a read of a read model: this request's pending wait, once. It is cleared before it
    runs, so a wait that raised is not waited for again by a later read of the same request."""
    wait = _pending.get()
    if wait is not None:
        _pending.set(None)
        wait()
