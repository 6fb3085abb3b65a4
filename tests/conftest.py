"""Shared fixtures: the same test runs once per backend (SQLite file, real PostgreSQL); the
application (``make_app``) and the end-to-end app over HTTP (``make_api``, ``api``) on it.
Helpers that are not fixtures live in ``tests/support/``.

PostgreSQL: ``STAFFEL_TEST_POSTGRES_URL`` or ``postgresql://postgres@127.0.0.1:5432``. Each run
creates its own database and drops it at the end. With ``CI=true`` an unreachable server fails the
run; elsewhere the PostgreSQL tests are skipped and the summary says so loudly.
"""

from __future__ import annotations

import os
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg import sql

from adapters.settings import Settings
from api.app import create_app
from bootstrap import Services, build_case_application, build_services
from domain.application import StaffelApplication
from tests.support.api import Api, settings_for

# One master key for every application the tests build, in this process and in the servers and
# workers they start (which inherit the environment): tests share databases, and a projection over
# a shared log opens every case's key. A test that needs another key passes its own settings.
os.environ.setdefault("STAFFEL_MASTER_KEY", "c3RhZmZlbC10ZXN0cy1tYXN0ZXIta2V5LTMyLWJ5dGU=")
# The servers the tests start run one HTTP worker process (``staffel serve --workers``); a test
# that wants more asks for them (tests/api/test_serve_workers.py).
os.environ.setdefault("STAFFEL_HTTP_WORKERS", "1")

SERVER_URL = os.environ.get("STAFFEL_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
_created: list[str] = []
_pg_outcomes = {"passed": 0, "failed": 0, "skipped": 0}


def _server_error() -> str | None:
    try:
        with psycopg.connect(SERVER_URL + "/postgres", connect_timeout=3):
            return None
    except psycopg.Error as e:
        return str(e).strip()


def create_database(prefix: str = "staffel_test") -> str:
    """Create a fresh database on the test server; return its URL. Dropped at session end."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(SERVER_URL + "/postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    _created.append(name)
    return f"{SERVER_URL}/{name}"


@pytest.fixture(scope="session")
def postgres_server() -> str:
    error = _server_error()
    if error is not None:
        message = f"PostgreSQL at {SERVER_URL} is unreachable: {error}"
        if IN_CI:
            pytest.fail(message + " (CI=true: PostgreSQL tests must run)", pytrace=False)
        pytest.skip(message)
    return SERVER_URL


@pytest.fixture(scope="module")
def postgres_url(postgres_server: str) -> str:
    """One database per test module; its tests use random case ids, never wipe tables. A module
    of its own: a module's projections read the whole log from position 0, and other modules store
    events with other settings (encrypted, compressed, another key) that they could not read, so a
    shared database made the outcome depend on the order the modules ran in."""
    return create_database()


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL, once per backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/staffel.db"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def make_app(backend: str) -> Iterator[Callable[..., StaffelApplication]]:
    """Build applications on the test's backend; keyword arguments override settings."""
    apps: list[StaffelApplication] = []

    def make(**overrides: object) -> StaffelApplication:
        settings = Settings(database_url=backend, **overrides)  # type: ignore[arg-type]
        app = build_case_application(settings)
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_postgres = callspec is not None and callspec.params.get("backend") == "postgres"
        if on_postgres or "postgres_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgres)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if "postgres" in report.keywords and (report.when == "call" or report.outcome == "skipped"):
        _pg_outcomes[report.outcome] += 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    ran = _pg_outcomes["passed"] + _pg_outcomes["failed"]
    line = (
        f"PostgreSQL ({SERVER_URL}): {ran} tests ran ({_pg_outcomes['passed']} passed, "
        f"{_pg_outcomes['failed']} failed), {_pg_outcomes['skipped']} skipped"
    )
    if _pg_outcomes["skipped"]:
        terminalreporter.write_sep("!", "POSTGRESQL TESTS SKIPPED: " + line, red=True)
    else:
        terminalreporter.write_sep("=", line, green=ran > 0)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Drop the databases this run created. Cleanup only: a server too busy to take one more
    connection (other runs on a shared server) is waited for a while, then left with a warning,
    never turned into a failed run."""
    if not _created:
        return
    for attempt in range(20):
        try:
            with psycopg.connect(SERVER_URL + "/postgres", autocommit=True) as conn:
                for name in _created:
                    conn.execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                        (name,),
                    )
                    conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
            return
        except psycopg.OperationalError as e:
            if attempt == 19:
                warnings.warn(f"test databases left on {SERVER_URL}: {e}", stacklevel=1)
                return
            time.sleep(0.5)


# -- the end-to-end app (tests/support/api.py) ---------------------------------------------------


@pytest.fixture
def make_api(backend: str, tmp_path: Path) -> Iterator[Callable[..., Api]]:
    """Build the app on the test's backend; keyword arguments override settings."""
    built: list[tuple[Services, TestClient]] = []

    def make(**overrides: Any) -> Api:
        settings = settings_for(backend, data_dir=tmp_path / "data", **overrides)
        services = build_services(settings)
        app = create_app(settings, services)
        client = TestClient(app)
        client.__enter__()
        built.append((services, client))
        return Api(app=app, services=services, client=client)

    yield make
    for services, client in reversed(built):
        client.__exit__(None, None, None)
        services.close()


@pytest.fixture
def api(make_api: Callable[..., Api]) -> Api:
    return make_api()
