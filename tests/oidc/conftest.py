"""The OpenID provider the tests in this folder run against (``tests/support/oidc.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.oidc import OidcProvider


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcProvider]:
    """A provider shared by a module's tests that do not rotate its keys."""
    started = OidcProvider(tmp_path_factory.mktemp("oidc")).start()
    yield started
    started.stop()


@pytest.fixture
def own_provider(tmp_path: Path) -> Iterator[OidcProvider]:
    """A provider of the test's own (its keys are rotated)."""
    started = OidcProvider(tmp_path).start()
    yield started
    started.stop()
