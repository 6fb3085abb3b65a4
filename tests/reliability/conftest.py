"""The fault suite's fixtures: a PostgreSQL server of its own (``PgInstance``, one per session,
started again by each test if a scenario left it stopped), a fresh database per test, and the
``staffel`` processes a test starts, stopped at its end.

The instance runs with ``fsync=on`` (``PgInstance``'s docstring): slower commits, and so more
commits of unknown outcome when PostgreSQL is restarted or a backend terminated under load. One
instance serves every scenario; each test has its own database on it.

Under ``CI=true`` a server that cannot be started fails the run; elsewhere the suite is skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from adapters.settings import Settings
from adapters.views.store import ViewStoreMixin
from bootstrap import build_case_application
from domain.application import StaffelApplication
from tests.conftest import IN_CI
from tests.support.pg_instance import PgInstance
from tests.support.processes import ProjectWorker, ServeProcess, StaffelProcess, production_env
from workers.projections import build_view_store


@pytest.fixture(scope="session")
def pg_instance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PgInstance]:
    try:
        instance = PgInstance(fsync=True).start()
    except (OSError, RuntimeError) as e:
        message = f"the fault suite's own PostgreSQL could not start: {e}"
        if IN_CI:
            pytest.fail(message + " (CI=true: the fault suite must run)", pytrace=False)
        pytest.skip(message)
    yield instance
    instance.close()


@pytest.fixture
def pg(pg_instance: PgInstance) -> PgInstance:
    pg_instance.ensure_running()
    return pg_instance


@dataclass
class Deployment:
    """One database with the processes a test runs on it, and a look behind them."""

    database_url: str
    data_dir: Path
    logs: Path
    processes: list[StaffelProcess] = field(default_factory=list)
    _app: StaffelApplication | None = None
    _store: ViewStoreMixin | None = None

    def env(self, **extra: str) -> dict[str, str]:
        return production_env(self.database_url, self.data_dir, **extra)

    def serve(self, *args: str, name: str = "serve", **extra: str) -> ServeProcess:
        n = len(self.processes)
        process = ServeProcess(self.env(**extra), self.logs / f"{n}-{name}.log", args=args)
        self.processes.append(process)
        return process

    def project(self, name: str = "project", **extra: str) -> ProjectWorker:
        worker = ProjectWorker(self.env(**extra), self.logs / f"{len(self.processes)}-{name}.log")
        self.processes.append(worker)
        return worker

    @property
    def app(self) -> StaffelApplication:
        """The store, read in this process (built on first use: after the faults)."""
        if self._app is None:
            self._app = build_case_application(
                Settings(database_url=self.database_url, data_dir=self.data_dir)
            )
        return self._app

    @property
    def store(self) -> ViewStoreMixin:
        if self._store is None:
            self._store = build_view_store(self.app)
        return self._store

    def logs_tail(self, lines: int = 15) -> str:
        """The last warnings, errors and non-JSON lines (tracebacks) of each process's log."""
        out = []
        for p in self.processes:
            text = p.log.read_text(errors="replace").splitlines()
            worth = [
                line[:300] for line in text
                if not line.startswith("{") or '"level": "info"' not in line
            ]  # fmt: skip
            out.append(f"--- {p.log.name}\n" + "\n".join(worth[-lines:]))
        return "\n".join(out)

    def close(self) -> None:
        for process in self.processes:
            process.stop()
        if self._app is not None:
            self._app.close()


@pytest.fixture
def deployment(pg: PgInstance, tmp_path: Path) -> Iterator[Deployment]:
    made = Deployment(pg.create_database(), tmp_path / "data", tmp_path)
    yield made
    made.close()


@pytest.fixture
def new_deployment(tmp_path: Path) -> Iterator[Callable[[str], Deployment]]:
    made: list[Deployment] = []

    def make(database_url: str) -> Deployment:
        deployment = Deployment(database_url, tmp_path / f"data{len(made)}", tmp_path)
        made.append(deployment)
        return deployment

    yield make
    for deployment in made:
        deployment.close()
