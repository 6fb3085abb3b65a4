"""The web page tests run the end-to-end app (``api``) on a PostgreSQL database of their own: the
session's shared database also holds events other tests stored encrypted or compressed (the
storage-mode tests of ``tests/cases``, which run earlier), which this app's projections cannot
read. The browser tests (``browser/``) run their own server on SQLite."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import create_database


@pytest.fixture(scope="session")
def web_postgres_url(postgres_server: str) -> str:
    return create_database("staffel_web")


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL, once per backend (PostgreSQL: the web page tests' own database)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/staffel.db"
    return str(request.getfixturevalue("web_postgres_url"))
