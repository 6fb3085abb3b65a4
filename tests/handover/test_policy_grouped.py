"""The handover policy saves the offers of one step together (issue 16): every recognised case is
offered exactly once, all of the step's offers in one transaction, each case's chain intact.
(Before, it reacted to the cases concurrently and group commit shared some transactions.)"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest

from adapters import keystore
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


def recognised_cases(app: Any, count: int = CASES) -> list[UUID]:
    """``count`` cases the Agentur holds, each with its asylum recognised (the policy's input)."""
    case_ids = [register(app, HOLDER, "Wegberg").id for _ in range(count)]
    with acting_as(HOLDER):
        for case_id in case_ids:
            app.record(
                case_id,
                "AsylumRecognized",
                {"protection": Protection.REFUGEE, "decided_on": date(2026, 4, 20)},
            )
    return case_ids


def test_the_offers_of_one_step_share_one_transaction(
    deployment: Deployment, database: str
) -> None:
    app = deployment.app
    case_ids = recognised_cases(app)
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


def test_a_step_reads_the_keys_of_its_cases_at_once_whatever_the_key_cache_holds(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each offer seals its reason with its case's key. With more cases than the writers' key
    cache holds (10,000; 4 here), each offer read its key on its own: a query per case (a wave
    of 30,000 spent 30 of the policy's 50 seconds on them). Now one per step (4 notifications,
    the recognitions of 4 cases)."""
    monkeypatch.setattr(keystore, "CACHE_SIZE", 4)
    app = deployment.app
    case_ids = recognised_cases(app)
    assert isinstance(app.keys, keystore.CaseKeys)
    reads: list[int] = []
    rows = app.keys._rows

    def counted(ids: Sequence[UUID]) -> list[tuple[UUID, bytes | None]]:
        reads.append(len(ids))
        return rows(ids)

    monkeypatch.setattr(app.keys, "_rows", counted)
    deployment.policy.batch_size = 4
    deployment.run_policy()

    assert all(count_of(app, case_id, ev.HandoverOffered) == 1 for case_id in case_ids)
    assert reads == [4] * (CASES // 4)  # one read of each step's keys, none per offer


def test_a_step_decodes_only_the_events_that_may_trigger_an_offer(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The policy follows the whole log, but only a few kinds of events trigger an offer: the
    others (registrations, its own offers, every other fact) are passed over by their topic."""
    app = deployment.app
    case_ids = recognised_cases(app, 4)
    decoded: list[str] = []
    decode = app.mapper.to_domain_event

    def counted(stored: Any) -> Any:
        decoded.append(stored.topic)
        return decode(stored)

    monkeypatch.setattr(app.mapper, "to_domain_event", counted)
    deployment.run_policy()
    monkeypatch.undo()

    assert all(count_of(app, case_id, ev.HandoverOffered) == 1 for case_id in case_ids)
    assert ev.AsylumRecognized.TOPIC in decoded
    assert ev.CaseRegistered.TOPIC not in decoded
    assert ev.HandoverOffered.TOPIC not in decoded
