"""(d) Every connection of the server is cut (``pg_terminate_backend``) again and again while
clients write: commits of unknown outcome happen; no answer is a 500, none is wrong about
whether its write is stored, and the read models equal a rebuild."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest

from tests.reliability.conftest import Deployment
from tests.support.history import Load, check, no_server_errors, report
from tests.support.pg_instance import PgInstance
from tests.support.processes import JWT_SECRET

pytestmark = pytest.mark.postgres


def test_server_connections_terminated_repeatedly_under_load(
    pg: PgInstance, deployment: Deployment
) -> None:
    database = urlsplit(deployment.database_url).path.lstrip("/")
    server = deployment.serve()
    server.wait_ready()
    load = Load([server.base_url], JWT_SECRET, threads=4).start()
    load.run_for(1.0)
    terminated = 0
    deadline = time.monotonic() + 7
    while time.monotonic() < deadline:
        terminated += pg.terminate_backends(database=database)
        load.run_for(0.4)
    load.run_for(2.0)
    history = load.stop()
    print(f"{terminated} connections terminated; {history.summary()}")

    assert terminated >= 10
    problems = no_server_errors(history)
    problems += check(history, deployment.app, deployment.store, deployment.env())
    assert not problems, report(problems, history) + "\n" + deployment.logs_tail()
    assert server.ready()
