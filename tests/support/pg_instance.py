"""A PostgreSQL server of the tests' own, for fault runs that stop, restart and cut it: ``initdb``
into a temporary directory, trust authentication, a free port on 127.0.0.1, its unix socket in
the same directory. Never the shared server at 127.0.0.1:5432.

Durability: ``synchronous_commit=on`` always (with it off an immediate stop loses acknowledged
commits). ``fsync`` is a choice: off, a commit's WAL reaches the kernel before the answer, so a
crash of the *server* (``-m immediate``, a killed backend) still loses nothing acknowledged and
startup is quickest; on (what the fault suite uses, ``tests/reliability/conftest.py``), the
window between a commit's WAL being written and its answer is an fsync long, so a crash or
a terminated backend in that window leaves a commit of unknown outcome much more often: the
very case the suite must provoke. Startup is about a second either way.

As root (initdb refuses root) the binaries run as the ``postgres`` user through ``runuser`` and
the temporary directory is given to it.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import psycopg
from psycopg import sql

from tests.support.processes import free_port


def bindir() -> Path:
    """Where ``initdb`` and ``pg_ctl`` are: PostgreSQL 15's directory, else ``pg_config``'s."""
    default = Path("/usr/lib/postgresql/15/bin")
    if (default / "initdb").exists():
        return default
    found = shutil.which("pg_config")
    if found:
        out = subprocess.run([found, "--bindir"], capture_output=True, text=True, check=True)
        return Path(out.stdout.strip())
    raise FileNotFoundError("no PostgreSQL binaries (initdb, pg_ctl) found")


class PgInstance:
    """One private PostgreSQL server. ``start()`` once, then ``stop(mode)``, ``restart(mode)``
    and ``terminate_backends()`` at will; ``close()`` removes it."""

    def __init__(self, *, fsync: bool = False) -> None:
        self.bin = bindir()
        self.dir = Path(tempfile.mkdtemp(prefix="staffel-pg-"))
        self.data = self.dir / "data"
        self.logfile = self.dir / "server.log"
        self.port = free_port()
        self.fsync = fsync
        self._as_postgres = os.getuid() == 0
        if self._as_postgres:
            user = pwd.getpwnam("postgres")
            os.chown(self.dir, user.pw_uid, user.pw_gid)
        self._initdb()

    # -- the binaries -----------------------------------------------------------------------------

    def _run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin / args[0]), *args[1:]]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, cwd=self.dir, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"{' '.join(args[:2])} failed ({done.returncode}): {done.stderr or done.stdout}"
                f"\n{self.log_tail()}"
            )
        return done

    def _initdb(self) -> None:
        self._run(
            "initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust",
            "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions",
        )  # fmt: skip
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.dir}'",
            "max_connections": "100",
            "shared_buffers": "16MB",
            "fsync": "on" if self.fsync else "off",
            "synchronous_commit": "on",  # never off: an immediate stop would lose commits
            "full_page_writes": "on" if self.fsync else "off",
            "logging_collector": "off",
            "log_min_messages": "warning",
        }
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write("\n# staffel fault tests\n")
            conf.writelines(f"{k} = {v}\n" for k, v in settings.items())

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.logfile.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    # -- the server -------------------------------------------------------------------------------

    @property
    def server_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """The URL of the ``postgres`` database (``create_database`` makes others)."""
        return f"{self.server_url}/postgres"

    def start(self) -> PgInstance:
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.logfile), "-w", "-t", "30", "start"
        )
        return self

    def stop(self, mode: str = "fast") -> None:
        """``mode``: ``fast`` (clean shutdown) or ``immediate`` (a crash: recovery at start)."""
        assert mode in ("smart", "fast", "immediate"), mode
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "30", "stop")

    def restart(self, mode: str = "fast") -> None:
        self.stop(mode)
        self.start()

    def running(self) -> bool:
        command = [str(self.bin / "pg_ctl"), "-D", str(self.data), "status"]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, capture_output=True, check=False).returncode == 0

    def ensure_running(self) -> None:
        if not self.running():
            self.start()

    def close(self) -> None:
        if self.running():
            with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- databases and connections ----------------------------------------------------------------

    def create_database(self, prefix: str = "staffel_fault") -> str:
        """A fresh database on this server; its URL."""
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(self.url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return f"{self.server_url}/{name}"

    def terminate_backends(
        self, application_name: str | None = None, database: str | None = None
    ) -> int:
        """``pg_terminate_backend`` of every other client connection (of ``application_name``,
        of ``database``, when given); how many were terminated."""
        query = (
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE pid <> pg_backend_pid() AND backend_type = 'client backend'"
            " AND (%(app)s::text IS NULL OR application_name = %(app)s)"
            " AND (%(db)s::text IS NULL OR datname = %(db)s)"
        )
        with psycopg.connect(self.url, autocommit=True, connect_timeout=5) as conn:
            row = conn.execute(query, {"app": application_name, "db": database}).fetchone()
        return int(row[0]) if row else 0
