"""The security tests use the end-to-end fixtures (``api``, ``make_api`` in ``tests/conftest.py``):
the real app over real services, per backend; on PostgreSQL each module has a database of its own
(``postgres_url``), as the walk seeds a small world and reads the whole log through the
projections."""
