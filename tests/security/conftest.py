"""The security tests use the end-to-end fixtures (``api``, ``make_api`` in ``tests/conftest.py``):
the real app over real services, per backend.

On PostgreSQL they get a database of their own: the walk seeds a small world and reads the whole
log through the projections, and the session's shared database also holds events of other tests
written with other settings (an encrypting cipher) that this app cannot read.
"""

from pathlib import Path

import pytest

from tests.conftest import create_database


@pytest.fixture(scope="session")
def security_postgres_url(postgres_server: str) -> str:
    return create_database("staffel_security")


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL, once per backend (PostgreSQL: the security tests' own database)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/staffel.db"
    return str(request.getfixturevalue("security_postgres_url"))
