"""The clock the workers read, injectable: the system's in production, a settable one in tests.

Dates are the German calendar day (Europe/Berlin): a handover's answer deadline is a German
working day, and a reminder "one working day before" means before it in Germany."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

BERLIN = ZoneInfo("Europe/Berlin")


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware (UTC)."""
        ...

    def today(self) -> date:
        """Today's date in Germany."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self) -> date:
        return self.now().astimezone(BERLIN).date()


class SettableClock:
    """A clock that stands still until a test moves it (thread-safe: the worker reads it)."""

    def __init__(self, start: datetime) -> None:
        self._now = start.astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def today(self) -> date:
        return self.now().astimezone(BERLIN).date()

    def set(self, instant: datetime) -> None:
        with self._lock:
            self._now = instant.astimezone(UTC)

    def advance(self, **delta: float) -> None:
        with self._lock:
            self._now += timedelta(**delta)
