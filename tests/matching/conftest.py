"""The matching tests use the end-to-end app (``api`` of ``tests/conftest.py``), once per backend;
on PostgreSQL the module's own database (``postgres_url``), as they run projections from position
0 over the whole log."""
