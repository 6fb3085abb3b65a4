"""A PostgreSQL server of the tests' own, for runs that stop and restart it: ``initdb`` into a
temporary directory, trust authentication, a free port on 127.0.0.1. Never the shared server.

Minimal version (the outage tests); the fault suite's helper extends it with the same names.
As root (initdb refuses root) the binaries run as the ``postgres`` user through ``runuser``.
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

BINDIR = Path("/usr/lib/postgresql/15/bin")


class PgInstance:
    """One private PostgreSQL server: ``start()``, then ``stop(mode)``, ``restart(mode)`` and
    ``terminate_backends()`` at will; ``close()`` removes it."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="staffel-pg-"))
        self.data, self.logfile, self.port = self.dir / "data", self.dir / "server.log", free_port()
        self._as_postgres = os.getuid() == 0
        if self._as_postgres:
            user = pwd.getpwnam("postgres")
            os.chown(self.dir, user.pw_uid, user.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                  "--locale=C", "--no-sync", "--no-instructions")  # fmt: skip
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"listen_addresses = '127.0.0.1'\nport = {self.port}\n"
                f"unix_socket_directories = '{self.dir}'\nfsync = off\n"
            )

    def _run(self, *args: str) -> None:
        command = [str(BINDIR / args[0]), *args[1:]]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=60, cwd=self.dir, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {done.stderr or done.stdout}")

    @property
    def server_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """The URL of the ``postgres`` database (``create_database`` makes others)."""
        return f"{self.server_url}/postgres"

    def start(self) -> PgInstance:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.logfile), "-w", "start")
        return self

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def restart(self, mode: str = "fast") -> None:
        self.stop(mode)
        self.start()

    def close(self) -> None:
        with contextlib.suppress(RuntimeError):  # not running
            self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)

    def create_database(self, prefix: str = "staffel_fault") -> str:
        """A fresh database on this server; its URL."""
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(self.url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return f"{self.server_url}/{name}"

    def terminate_backends(self) -> int:
        """``pg_terminate_backend`` of every other client connection; how many."""
        query = (
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE pid <> pg_backend_pid() AND backend_type = 'client backend'"
        )
        with psycopg.connect(self.url, autocommit=True, connect_timeout=5) as conn:
            row = conn.execute(query).fetchone()
        return int(row[0]) if row else 0
