"""Fixtures of the matching tests: the end-to-end app (``api`` of ``tests/conftest.py``) on their
own PostgreSQL database. The session's shared database also holds events other tests stored
encrypted or compressed; these tests run projections from position 0, which could not read those."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import create_database


@pytest.fixture(scope="package")
def matching_database(postgres_server: str) -> str:
    return create_database("staffel_matching")


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL, once per backend (PostgreSQL: this package's own database)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/staffel.db"
    return str(request.getfixturevalue("matching_database"))
