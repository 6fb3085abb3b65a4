"""Each audit test gets a database of its own: verification reads the whole store."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from adapters.access_log import AccessLog
from adapters.settings import Settings
from bootstrap import build_case_application
from domain.application import StaffelApplication
from tests.conftest import create_database
from workers.projections import build_view_store


@pytest.fixture
def db_url(backend: str) -> str:
    """A fresh database on the test's backend (the SQLite file is the test's own already)."""
    return backend if backend.startswith("sqlite") else create_database("staffel_audit")


@pytest.fixture
def app(db_url: str) -> Iterator[StaffelApplication]:
    application = build_case_application(Settings(database_url=db_url))
    yield application
    application.close()


@pytest.fixture
def access_log(app: StaffelApplication) -> AccessLog:
    return AccessLog(build_view_store(app))
