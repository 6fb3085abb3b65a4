"""``staffel`` subprocesses the tests start, kill with SIGKILL and restart, and waiting for them."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

STAFFEL = str(Path(sys.executable).with_name("staffel"))


@dataclass
class StaffelProcess:
    """One ``staffel ARGS`` process, started at once; its stdout and stderr are appended to
    ``log`` (to see it has started, and for a failing run), its working directory is the log's."""

    args: Sequence[str]
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] = field(init=False)

    def __post_init__(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [STAFFEL, *self.args],
                env=self.env,
                cwd=self.log.parent,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def alive(self) -> bool:
        return self.process.poll() is None

    def logged(self, marker: bytes) -> bool:
        """Whether ``marker`` is in the log; fails with the log when the process has died."""
        assert self.alive(), self.log.read_text()
        return marker in self.log.read_bytes()

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.alive():
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


class ProjectWorker(StaffelProcess):
    """``staffel project`` (the projections, the handover policy and the outbox), polling fast."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        super().__init__(["project", "--poll-interval", "0.05"], env, log)

    def ready(self) -> bool:
        return self.logged(b"Ctrl-C to stop")


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
