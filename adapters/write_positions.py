"""Each caller's last write position, for read-your-writes (ADR 0013).

A caseworker's read waits until the read models have processed their own last write, and no
longer: a read by anyone else does not wait at all. One HTTP worker knows its callers' writes
(``LastWrites``). Under ``staffel serve --workers N`` the write may have been answered by another
worker, so the workers share one table of positions in a file that ``staffel serve`` creates for
each start (``SharedWritePositions``, a memory map, ``STAFFEL_WRITE_POSITIONS``).

The shared table has a fixed number of slots; a caller's slot is a stable hash of
(organisation, subject). Two callers on one slot share its highest position: the one with the
lower position then waits for the other's write as well. That costs a wait, never a stale read.
Updates hold a lock on the slot's bytes (``fcntl.lockf``, per process) and a thread lock (the
record lock does not exclude threads of one process); reads are one aligned 8-byte load.
Across separate ``staffel serve`` processes (hosts behind a load balancer) nothing is shared:
clients there pass ``min_position`` from the write's answer, or the balancer keeps a session on
one host (ADR 0013).
"""

from __future__ import annotations

import fcntl
import mmap
import os
import threading
import zlib
from collections import OrderedDict
from pathlib import Path
from typing import Protocol

ENV = "STAFFEL_WRITE_POSITIONS"
SLOTS = 1 << 16  # 512 KiB of int64s
SLOT_BYTES = 8

Caller = tuple[str, str]  # (organisation, subject)


class WritePositions(Protocol):
    def remember(self, who: Caller, position: int) -> None: ...

    def get(self, who: Caller) -> int: ...


class LastWrites:
    """One process's callers (bounded: the oldest are forgotten first)."""

    def __init__(self, size: int = 10_000) -> None:
        self._positions: OrderedDict[Caller, int] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def remember(self, who: Caller, position: int) -> None:
        with self._lock:
            self._positions[who] = max(position, self._positions.pop(who, 0))
            while len(self._positions) > self._size:
                self._positions.popitem(last=False)

    def get(self, who: Caller) -> int:
        with self._lock:
            return self._positions.get(who, 0)


def create(path: Path) -> Path:
    """The zeroed table for one ``staffel serve`` start (in its private directory)."""
    with open(path, "wb") as f:
        f.truncate(SLOTS * SLOT_BYTES)
    return path


def slot(who: Caller) -> int:
    """Stable across processes (``hash()`` of a str is salted per process)."""
    org, sub = who
    return zlib.crc32(f"{org}\x00{sub}".encode()) % SLOTS


class SharedWritePositions:
    """The table shared by the HTTP workers of one ``staffel serve``."""

    def __init__(self, path: Path) -> None:
        self._fd = os.open(path, os.O_RDWR)
        self._map = mmap.mmap(self._fd, SLOTS * SLOT_BYTES)
        self._slots = memoryview(self._map).cast("q")
        self._lock = threading.Lock()

    def remember(self, who: Caller, position: int) -> None:
        index = slot(who)
        with self._lock:
            fcntl.lockf(self._fd, fcntl.LOCK_EX, SLOT_BYTES, index * SLOT_BYTES)
            try:
                if self._slots[index] < position:
                    self._slots[index] = position
            finally:
                fcntl.lockf(self._fd, fcntl.LOCK_UN, SLOT_BYTES, index * SLOT_BYTES)

    def get(self, who: Caller) -> int:
        return int(self._slots[slot(who)])


def for_this_process() -> WritePositions:
    """The shared table when ``staffel serve`` made one, else this process's own."""
    path = os.environ.get(ENV)
    return SharedWritePositions(Path(path)) if path else LastWrites()
