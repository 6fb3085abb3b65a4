"""The web page tests run the end-to-end app (``api`` of ``tests/conftest.py``), once per backend;
on PostgreSQL each module has a database of its own (``postgres_url``). The browser tests
(``browser/``) run their own server on SQLite."""
