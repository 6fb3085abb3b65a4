"""The security tests use the end-to-end fixtures: the real app over real services, per backend."""

from tests.e2e.conftest import api, make_api

__all__ = ["api", "make_api"]
