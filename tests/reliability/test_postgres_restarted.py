"""(b) PostgreSQL is restarted with ``-m immediate`` (a crash, recovery at start) while clients
write: commits of unknown outcome happen; an acknowledged answer is never wrong about whether
the write is stored, no answer is a 500, and the read models equal a rebuild."""

from __future__ import annotations

from tests.reliability.conftest import Deployment
from tests.support.history import Load, check, no_server_errors, report
from tests.support.pg_instance import PgInstance
from tests.support.processes import JWT_SECRET


def test_postgres_restarted_immediately_under_load(pg: PgInstance, deployment: Deployment) -> None:
    server = deployment.serve()
    server.wait_ready()
    load = Load([server.base_url], JWT_SECRET, threads=6).start()
    for _ in range(6):
        load.run_for(1.0)
        pg.restart("immediate")
    load.run_for(3.0)
    history = load.stop()
    print(history.summary())

    problems = no_server_errors(history)
    problems += check(history, deployment.app, deployment.store, deployment.env())
    assert not problems, report(problems, history) + "\n" + deployment.logs_tail()
    assert server.ready()  # service resumed without a restart of the server
