"""(f) Two processes started at the same instant on a fresh store both come up: schema creation
and migration are safe under concurrent starts (PostgreSQL and SQLite)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.reliability.conftest import Deployment
from tests.support.pg_instance import PgInstance
from tests.support.processes import wait_until

ROUNDS = 3


@pytest.mark.parametrize("store", ["postgres", "sqlite"])
def test_two_processes_started_at_once_on_a_fresh_store_both_come_up(
    store: str,
    request: pytest.FixtureRequest,
    new_deployment: Callable[[str], Deployment],
    tmp_path: Path,
) -> None:
    for round_ in range(ROUNDS):
        if store == "postgres":
            pg: PgInstance = request.getfixturevalue("pg")
            url = pg.create_database("staffel_start")
        else:
            url = f"sqlite:///{tmp_path}/fresh-{round_}.db"
        deployment: Deployment = new_deployment(url)
        first = deployment.serve(name=f"r{round_}-a")
        second = deployment.serve(name=f"r{round_}-b")  # at once: no wait between the two
        pair = (first, second)

        def settled() -> bool:
            return not all(p.alive() for p in pair) or all(p.responds() for p in pair)  # noqa: B023

        wait_until(settled, 40, 0.1)
        died = [p.log.name for p in pair if not p.alive()]
        assert not died, f"round {round_}: {died} died at start\n{deployment.logs_tail(6)}"
        assert all(p.responds() for p in pair), (
            f"round {round_}: not ready\n{deployment.logs_tail()}"
        )
        for p in pair:
            p.kill()  # quicker than a clean stop; the next round uses a fresh store
