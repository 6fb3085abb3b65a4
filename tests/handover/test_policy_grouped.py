"""The handover policy saves the offers of one step together (issue 16): every recognised case is
offered exactly once, all of the step's offers in one transaction, each case's chain intact.
(Before, it reacted to the cases concurrently and group commit shared some transactions.)"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import psycopg
import pytest

from adapters.chain_check import verify_case
from domain.actor import Actor, acting_as
from domain.aggregates import case_events as ev
from domain.values import Protection
from tests.conftest import create_database
from tests.support.federation import AGENTUR, Deployment, count_of, open_deployment, register

pytestmark = pytest.mark.postgres
HOLDER = Actor("cw-agentur", AGENTUR)
CASES = 16


@pytest.fixture
def database(postgres_server: str) -> str:
    return create_database("staffel_policy")


@pytest.fixture(params=[True, False], ids=["group-commit", "library-insert"])
def deployment(
    database: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Deployment]:
    deployment = open_deployment(database, tmp_path / "data", group_commit=request.param)
    yield deployment
    deployment.close()


def test_the_offers_of_one_step_share_one_transaction(
    deployment: Deployment, database: str
) -> None:
    app = deployment.app
    case_ids = [register(app, HOLDER, "Wegberg").id for _ in range(CASES)]
    with acting_as(HOLDER):
        for case_id in case_ids:
            app.record(
                case_id,
                "AsylumRecognized",
                {"protection": Protection.REFUGEE, "decided_on": date(2026, 4, 20)},
            )
    deployment.run_policy()

    for case_id in case_ids:
        assert count_of(app, case_id, ev.HandoverOffered) == 1
    with psycopg.connect(database) as conn:
        row = conn.execute(
            "SELECT count(*), count(DISTINCT xmin::text) FROM staffel_events WHERE topic = %s",
            (ev.HandoverOffered.TOPIC,),
        ).fetchone()
    assert row is not None
    offers, transactions = row
    assert offers == CASES
    assert transactions == 1  # the step read all 16 recognitions
    assert all(verify_case(app, case_id) == [] for case_id in case_ids)
