"""Helpers the tests share that are not fixtures (those are in ``tests/conftest.py``)."""
