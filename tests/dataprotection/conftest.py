"""Each data-protection test gets a database of its own (a retention run reads every case) and
the environment the ``staffel`` command reads, so the test's application and the command share
the store and the master key."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.settings import Settings
from bootstrap import build_case_application
from domain.application import StaffelApplication
from tests.conftest import create_database


@pytest.fixture
def db_url(backend: str) -> str:
    """A fresh database on the test's backend (the SQLite file is the test's own already)."""
    return backend if backend.startswith("sqlite") else create_database("staffel_dp")


@pytest.fixture
def env(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("STAFFEL_DATABASE_URL", db_url)
    monkeypatch.setenv("STAFFEL_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


@pytest.fixture
def app(env: Path) -> Iterator[StaffelApplication]:
    application = build_case_application(Settings())
    yield application
    application.close()
