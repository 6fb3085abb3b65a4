"""A progress bar on stderr for long work (replay, verify, import): a bar on a terminal, a line
every few seconds otherwise, so logs of scripted runs stay readable."""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import TextIO


class Progress:
    def __init__(self, label: str, total: int, stream: TextIO | None = None) -> None:
        self.label, self.total, self.done = label, max(total, 0), 0
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.started = self._last = time.monotonic()

    def __enter__(self) -> Progress:
        self._draw(force=True)
        return self

    def advance(self, n: int) -> None:
        self.done += n
        self._draw()

    def _draw(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < (0.2 if self.tty else 5.0):
            return
        self._last = now
        rate = self.done / (now - self.started) if now > self.started else 0.0
        share = self.done / self.total if self.total else 1.0
        text = f"{self.label}: {self.done:,}/{self.total:,} ({share:6.1%}, {rate:,.0f}/s)"
        if self.tty:
            bar = "#" * int(30 * min(share, 1.0))
            self.stream.write(f"\r{text} [{bar:<30}]")
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._draw(force=True)
        if self.tty:
            self.stream.write("\n")
        self.stream.flush()
