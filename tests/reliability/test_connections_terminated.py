"""(d) Every connection of the server is cut (``pg_terminate_backend``) again and again while
clients write: commits of unknown outcome happen; every request is answered within the
fail-fast time (``STAFFEL_DB_TIMEOUT_SECONDS`` and a margin), no answer is a 500, none is wrong
about whether its write is stored, writes succeed again once the cutting stops, and the read
models equal a rebuild."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from tests.reliability.conftest import Deployment
from tests.support.history import Load, check, no_server_errors, report
from tests.support.pg_instance import PgInstance
from tests.support.processes import JWT_SECRET

DB_TIMEOUT = 2.0  # STAFFEL_DB_TIMEOUT_SECONDS for the server
FAST = DB_TIMEOUT + 2.5  # the slowest answer allowed


def test_server_connections_terminated_repeatedly_under_load(
    pg: PgInstance, deployment: Deployment
) -> None:
    database = urlsplit(deployment.database_url).path.lstrip("/")
    server = deployment.serve(STAFFEL_DB_TIMEOUT_SECONDS=str(DB_TIMEOUT))
    server.wait_ready()
    load = Load([server.base_url], JWT_SECRET, threads=4, timeout=2 * FAST).start()
    load.run_for(1.0)
    terminated = 0
    deadline = time.monotonic() + 7
    while time.monotonic() < deadline:
        terminated += pg.terminate_backends(database=database)
        load.run_for(0.1)
    cut_until = time.monotonic()
    load.run_for(3.0)
    history = load.stop()
    print(f"{terminated} connections terminated; {history.summary()}")

    assert terminated >= 20
    problems = [
        f"{what}: {a.status or a.error} after {a.seconds:.1f} s (slower than {FAST} s)"
        for what, a in history.requests
        if a.seconds > FAST
    ]
    after = [a for a in history.attempts() if a.started > cut_until + 0.5]
    if not any(a.status == 201 for a in after):
        problems.append("no write acknowledged after the cutting stopped")
    problems += no_server_errors(history)
    problems += check(history, deployment.app, deployment.store, deployment.env())
    assert not problems, report(problems, history) + "\n" + deployment.logs_tail()
    assert server.ready()
