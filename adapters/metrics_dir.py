"""The private directory in which ``staffel serve``'s HTTP worker processes share their metrics
(``PROMETHEUS_MULTIPROC_DIR``, api/metrics.py, ADR 0013): a fresh one for each start, removed
at exit. A server killed outright leaves its directory behind; the next start removes those
whose server is gone (each names its server's pid in ``server.pid``)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PREFIX = "staffel-metrics-"
OWNER = "server.pid"


@contextmanager
def shared_metrics_dir(parent: Path | None = None) -> Iterator[Path]:
    remove_stale(parent)
    path = Path(tempfile.mkdtemp(prefix=PREFIX, dir=parent))  # this account's only (0700)
    (path / OWNER).write_text(str(os.getpid()))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def remove_stale(parent: Path | None = None) -> None:
    for path in Path(parent or tempfile.gettempdir()).glob(PREFIX + "*"):
        try:
            pid = int((path / OWNER).read_text())
        except (OSError, ValueError):  # another account's, or not made by us
            continue
        if not alive(pid):
            shutil.rmtree(path, ignore_errors=True)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another account's process
        return True
    return True
