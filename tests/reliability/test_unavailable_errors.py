"""Which database errors mean "unavailable" (a 503) and which are faults (a 500): real errors
of the real drivers, through the library's wrapping."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import psycopg
import pytest
from eventsourcing.persistence import PersistenceError
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore

from adapters.database import DatabaseUnavailableError, bound_pool, is_unavailable
from tests.support.processes import free_port


def raised(datastore: SQLiteDatastore, statement: str) -> PersistenceError:
    with pytest.raises(PersistenceError) as caught, datastore.transaction(commit=True) as c:
        c.execute(statement)
    return caught.value


def test_sqlite_locked_is_unavailable_a_wrong_statement_is_not(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    datastore = SQLiteDatastore(db_name=str(path), lock_timeout=1)
    with datastore.transaction(commit=True) as c:
        c.execute("CREATE TABLE t (x INTEGER PRIMARY KEY)")
        c.execute("INSERT INTO t VALUES (1)")
    holder = sqlite3.connect(path)
    holder.execute("BEGIN IMMEDIATE")
    try:
        assert is_unavailable(raised(datastore, "INSERT INTO t VALUES (2)"))  # database is locked
    finally:
        holder.rollback()
        holder.close()
    assert not is_unavailable(raised(datastore, "SELECT * FROM no_such_table"))
    assert not is_unavailable(raised(datastore, "INSERT INTO t VALUES (1)"))  # IntegrityError
    assert not is_unavailable(ValueError("not a database error"))


def test_postgres_refused_is_unavailable_within_the_timeout() -> None:
    """Nobody listens on the port: the bounded pool gives up after its timeout."""
    datastore = PostgresDatastore("staffel", "127.0.0.1", free_port(), "postgres", "")
    bound_pool(datastore.pool, 0.5)
    try:
        started = time.monotonic()
        with pytest.raises(PersistenceError) as caught, datastore.get_connection():
            pass
        assert time.monotonic() - started < 2
        assert is_unavailable(caught.value)
        assert isinstance(caught.value.__cause__, psycopg.OperationalError)
    finally:
        datastore.close()
    assert is_unavailable(DatabaseUnavailableError("spent"))
