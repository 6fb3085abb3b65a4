"""(a) A ``staffel serve`` is killed with SIGKILL while clients write, and started again: no
acknowledged write is lost or stored twice, the read models equal a rebuild from the events."""

from __future__ import annotations

from tests.reliability.conftest import Deployment
from tests.support.history import Load, check, no_server_errors, report
from tests.support.processes import JWT_SECRET


def test_a_server_killed_under_load_loses_nothing_acknowledged(deployment: Deployment) -> None:
    server = deployment.serve()
    server.wait_ready()
    load = Load([server.base_url], JWT_SECRET).start()
    load.run_for(3.0)
    server.kill()
    load.run_for(0.5)  # clients meet a closed port
    server.restart()
    server.wait_ready()
    load.run_for(2.5)
    history = load.stop()

    print(history.summary())
    problems = no_server_errors(history)
    problems += check(history, deployment.app, deployment.store, deployment.env())
    assert not problems, report(problems, history)
    assert history.outcomes()["register acknowledged"] >= 5, history.summary()
