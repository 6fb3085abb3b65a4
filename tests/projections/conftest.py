"""The projection tests' database (a fresh one per test, on each backend) and application."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from domain.application import StaffelApplication
from tests.support.projections import build_app, fresh_database_url


@pytest.fixture
def url(backend: str, tmp_path: Path) -> str:
    return fresh_database_url(backend, tmp_path)


@pytest.fixture
def app(url: str) -> Iterator[StaffelApplication]:
    app = build_app(url)
    yield app
    app.close()
