"""``staffel`` subprocesses the tests start, kill with SIGKILL and restart, and waiting for them."""

from __future__ import annotations

import http.client
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

STAFFEL = str(Path(sys.executable).with_name("staffel"))
JWT_SECRET = "staffel-fault-suite-jwt-secret-0123456789"  # production_env's; tokens minted with it


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


def http_status(url: str, timeout: float, headers: dict[str, str] | None = None) -> int | None:
    """The status of a GET of the plain-HTTP ``url`` on a connection of its own; None when
    nothing answered. For polls and fan-outs: an ``httpx.Client`` per call builds a TLS context
    first (about 30 ms of CPU here), which made waiting for a server slow down its start."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)
    try:
        conn.request(
            "GET", parts.path + (f"?{parts.query}" if parts.query else ""), headers=headers or {}
        )
        response = conn.getresponse()
        response.read()
        return response.status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        conn.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def production_env(database_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a ``staffel`` process as production runs it (no demo): the demo's
    organisations, a JWT secret, the issuer and audience the tests' tokens name, JSON logs. The
    master key is the tests' (``tests/conftest.py`` puts it into the environment)."""
    import os

    from adapters.settings import DEFAULT_JWT_AUDIENCE, DEFAULT_JWT_ISSUER
    from demo import ORGS_FILE

    data_dir.mkdir(parents=True, exist_ok=True)
    return {
        **os.environ,
        "STAFFEL_DATABASE_URL": database_url,
        "STAFFEL_DATA_DIR": str(data_dir),
        "STAFFEL_ORGS_FILE": str(ORGS_FILE),
        "STAFFEL_JWT_SECRET": JWT_SECRET,
        "STAFFEL_JWT_ISSUER": DEFAULT_JWT_ISSUER,
        "STAFFEL_JWT_AUDIENCE": DEFAULT_JWT_AUDIENCE,
        "STAFFEL_DEMO": "false",
        "STAFFEL_SEED": "false",
        "STAFFEL_LOG_FORMAT": "json",
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


class ServeProcess(StaffelProcess):
    """``staffel serve --port PORT [ARGS]`` on loopback; ``ready()`` asks its ``/readyz``."""

    def __init__(
        self, env: dict[str, str], log: Path, port: int | None = None, args: Sequence[str] = ()
    ) -> None:
        self.port = port or free_port()
        super().__init__(["serve", "--port", str(self.port), *args], env, log)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def ready(self) -> bool:
        """Whether ``/readyz`` answers 200; fails with the log's tail when the process died."""
        assert self.alive(), self.log.read_text()[-5000:]
        return self.responds()

    def responds(self) -> bool:
        """Whether ``/readyz`` answers 200 (False, not a failure, when the process died)."""
        return http_status(self.base_url + "/readyz", timeout=2) == 200

    def wait_ready(self, timeout: float = 30) -> None:
        assert wait_until(self.ready, timeout, 0.1), (
            f"{self.base_url} not ready in {timeout} s\n{self.log.read_text()[-5000:]}"
        )

    def restart(self) -> None:
        """Start the same command again (after ``kill`` or ``stop``), on the same port."""
        self.__post_init__()
