"""(c) PostgreSQL is stopped for longer than the fail-fast timeout (``STAFFEL_DB_TIMEOUT_SECONDS``)
while clients write: every request is answered within a few seconds with 503
``application/problem+json`` and ``Retry-After`` (never a 500, never a hang), ``/readyz`` answers
503; when PostgreSQL is back, service resumes without restarting the server, and the store and
the read models are as the clients were told."""

from __future__ import annotations

import time

import httpx

from tests.reliability.conftest import Deployment
from tests.support.history import Load, check, no_server_errors, report
from tests.support.pg_instance import PgInstance
from tests.support.processes import JWT_SECRET, wait_until

DB_TIMEOUT = 2.0  # STAFFEL_DB_TIMEOUT_SECONDS for the server
DOWN = 3 * DB_TIMEOUT  # how long PostgreSQL stays down
FAST = DB_TIMEOUT + 2.5  # the slowest answer allowed while it is down


def test_postgres_down_longer_than_the_timeout_fails_fast_then_recovers(
    pg: PgInstance, deployment: Deployment
) -> None:
    server = deployment.serve(STAFFEL_DB_TIMEOUT_SECONDS=str(DB_TIMEOUT))
    server.wait_ready()
    load = Load([server.base_url], JWT_SECRET, threads=3, timeout=DOWN + 4).start()
    load.run_for(2.0)

    pg.stop("fast")
    down_at = time.monotonic()
    readyz: list[tuple[float, int | None]] = []  # (seconds to answer, status) while down
    with httpx.Client(base_url=server.base_url, timeout=DOWN + 4) as http:
        while time.monotonic() - down_at < DOWN:
            started = time.monotonic()
            try:
                status: int | None = http.get("/readyz").status_code
            except httpx.HTTPError:
                status = None
            readyz.append((time.monotonic() - started, status))
            time.sleep(0.5)
    starting_at = time.monotonic()  # PostgreSQL takes connections before ``pg_ctl -w`` returns
    pg.start()
    up_at = time.monotonic()

    def writes_again() -> bool:
        recent = [a for a in load.history.attempts() if a.started > up_at + 0.5]
        return any(a.status in (200, 201) for a in recent)

    recovered = wait_until(writes_again, 20, 0.2)
    load.run_for(1.5)
    history = load.stop()
    print(f"readyz while down {readyz}; {history.summary()}")

    # requests under way or started while it was down: answered fast, 503 before it was back
    during = [a for a in history.attempts() if down_at - 0.5 < a.started < up_at]
    # started once the server was down (``pg.stop`` returns when it is) and answered before it
    # was started again (a request waiting for a connection gets one as soon as PostgreSQL takes
    # connections, a moment before ``pg.start`` returns): a request begun during the shutdown
    # may still have committed
    answered_down = [
        a for a in during if down_at <= a.started and a.started + a.seconds < starting_at
    ]
    slow = [f"{a.status or a.error} after {a.seconds:.1f} s" for a in during if a.seconds > FAST]
    not_503 = [f"{a.status or a.error}: {a.body[:150]}" for a in answered_down if a.status != 503]
    assert not slow, f"answers slower than {FAST} s while PostgreSQL was down: {slow[:10]}"
    assert answered_down, f"no request answered while PostgreSQL was down: {history.summary()}"
    assert not not_503, f"answers other than 503 while PostgreSQL was down: {not_503[:10]}"
    assert all(seconds <= FAST for seconds, _ in readyz), f"/readyz too slow: {readyz}"
    assert all(status == 503 for _, status in readyz[1:]), f"/readyz while down: {readyz}"

    # service resumed by itself, and nothing is wrong about what was stored
    assert recovered, (
        f"no write acknowledged within 20 s of PostgreSQL's restart\n{history.summary()}"
    )
    assert server.alive()
    assert server.ready()
    problems = no_server_errors(history)
    problems += check(history, deployment.app, deployment.store, deployment.env())
    assert not problems, report(problems, history) + "\n" + deployment.logs_tail()
