"""Fixtures of the handover tests: a fresh database per test, once per backend.

Overrides the session-wide ``backend`` of ``tests/conftest.py``: these tests count events in the
whole store (offers, acceptances, notifications), so each gets a database of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import create_database
from tests.support.federation import Deployment, Federation, open_deployment, open_federation_on


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database URL, once per backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/staffel.db"
    request.getfixturevalue("postgres_server")  # skips (or fails under CI) when unreachable
    return create_database("staffel_handover")


@pytest.fixture
def deployment(backend: str, tmp_path: Path) -> Iterator[Deployment]:
    """A deployment (its services, store and workers) on the test's fresh database."""
    deployment = open_deployment(backend, tmp_path / "data")
    yield deployment
    deployment.close()


@pytest.fixture
def federation(backend: str, tmp_path: Path) -> Iterator[Federation]:
    """Deployments A and B, each other's peers, A on the test's fresh database (B on another of
    the same kind)."""
    federation = open_federation_on(backend, tmp_path)
    yield federation
    federation.close()
