"""(e) Two ``staffel serve`` and a separate ``staffel project`` on one database: the worker starts
first and leads; one server runs its workers in-process (a standby), the other none
(``STAFFEL_WORKERS=false``). Registrations, recognitions and accepts go through both servers; the
leader is killed with SIGKILL mid-load. A standby takes over: the policy offers each recognised
case exactly once, and every read model equals a rebuild from the events (no step, mentor or
handover applied twice)."""

from __future__ import annotations

import subprocess

from tests.reliability.conftest import Deployment
from tests.support.history import Load, check, no_server_errors, report
from tests.support.processes import JWT_SECRET, STAFFEL, wait_until


def test_two_servers_and_a_worker_with_the_leader_killed(deployment: Deployment) -> None:
    leader = deployment.project(name="project-leader")
    assert wait_until(leader.ready, 30, 0.1), leader.log.read_text()
    standby = deployment.serve(name="serve-standby")
    plain = deployment.serve(name="serve-no-workers", STAFFEL_WORKERS="false")
    standby.wait_ready()
    plain.wait_ready()

    load = Load([standby.base_url, plain.base_url], JWT_SECRET, threads=6).start()
    load.run_for(4.0)
    leader.kill()
    load.run_for(5.0)
    history = load.stop()
    print(history.summary())

    problems = no_server_errors(history)
    problems += check(history, deployment.app, deployment.store, deployment.env())
    status = subprocess.run(
        [STAFFEL, "status"], env=deployment.env(), capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip
    print(status.stdout, status.stderr)
    assert not problems, report(problems, history) + "\n" + deployment.logs_tail()
    assert status.returncode == 0, status.stdout + status.stderr
    assert history.outcomes()["accept acknowledged"] >= 5, history.summary()
