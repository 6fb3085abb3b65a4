"""A pooled connection is checked without a round trip (issue 16): the pool notices one the
server closed from its socket and hands out a working one, and does not ask the server about
a healthy one."""

from __future__ import annotations

import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import psycopg
import pytest
from eventsourcing.postgres import PostgresDatastore

from adapters.database import bound_pool
from tests.conftest import SERVER_URL


@pytest.fixture
def datastore() -> Iterator[PostgresDatastore]:
    url = urlsplit(SERVER_URL)
    store = PostgresDatastore(
        "postgres", url.hostname or "127.0.0.1", url.port or 5432, url.username or "postgres",
        url.password or "", pool_size=1, max_overflow=0,
    )  # fmt: skip
    bound_pool(store.pool, 2.0)
    yield store
    store.close()


def backend_pid(datastore: PostgresDatastore) -> int:
    with datastore.get_connection() as conn:
        row = conn.execute("SELECT pg_backend_pid() AS pid").fetchone()
        assert row is not None
        return int(row["pid"])


@pytest.mark.postgres
def test_a_connection_the_server_closed_is_replaced_before_use(
    datastore: PostgresDatastore,
) -> None:
    first = backend_pid(datastore)
    with psycopg.connect(SERVER_URL + "/postgres", autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (first,))
    time.sleep(0.2)  # the server's farewell reaches the idle connection's socket
    assert backend_pid(datastore) != first  # no error: the dead one was not handed out


@pytest.mark.postgres
def test_a_healthy_connection_is_handed_out_without_asking_the_server(
    datastore: PostgresDatastore,
) -> None:
    """The server shows each backend's last statement: a pre-ping's empty query would replace
    the one the connection ran before it went back to the pool."""
    pid = backend_pid(datastore)
    with (
        datastore.get_connection(),
        psycopg.connect(SERVER_URL + "/postgres", autocommit=True) as admin,
    ):
        row = admin.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone()
    assert row is not None
    assert row[0].startswith("SELECT pg_backend_pid()"), row
