"""The projection runner live: read-your-writes, lag and ``staffel status``, a projection whose
version changed, and on PostgreSQL a dropped LISTEN connection and dropped pool connections."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any, ClassVar

import psycopg
import pytest

from adapters.views.queries import CaseQueries
from cli.main import main
from domain.actor import acting_as
from domain.application import StaffelApplication
from domain.values import LegalStatus, NoteCategory, Person
from projections.base import Batch
from projections.history import CaseHistoryProjection
from projections.registry import PROJECTIONS
from projections.summary import CaseSummaryProjection
from tests.conftest import create_database
from tests.support.processes import wait_until
from tests.support.projections import (
    RandomChooser,
    World,
    assert_active_views_equal_fold,
    build_app,
    catch_up_active,
    save_random_cases,
    table_names,
)
from workers.projections import build_view_store, lag, wait_for
from workers.supervisor import Supervisor


@contextmanager
def running(app: StaffelApplication, **kwargs: Any) -> Iterator[Supervisor]:
    supervisor = Supervisor(app, **kwargs).start()
    try:
        yield supervisor
    finally:
        supervisor.stop()


# -- read-your-writes ------------------------------------------------------------------------------


def test_after_a_write_wait_for_its_position_returns_and_the_history_holds_it(
    app: StaffelApplication,
) -> None:
    queries = CaseQueries(build_view_store(app))
    world, chooser = World.fresh(), RandomChooser(4)
    actor = world.staff(world.orgs[0], chooser)
    with running(app, poll_interval=0.2) as supervisor:
        with acting_as(actor):
            recorded = app.register_case(
                person=Person("Amina", "Haddad", date(1994, 3, 2), "SY"),
                bamf_file_number=None,
                residence_municipality="Berlin",
                legal_status=LegalStatus.ASYLUM_SEEKER,
            )
        case_id = str(recorded.id)
        assert supervisor.wait_for(recorded.position, timeout=2)
        history = queries.history(case_id)
        assert history is not None
        assert [e["type"] for e in history.entries] == ["CaseRegistered"]

        for text in ("Erstgespräch", "Sprachkurs angefragt", "Rückruf"):
            with acting_as(actor):
                recorded = app.record(
                    recorded.id,
                    "NoteRecorded",
                    {"text": text, "category": NoteCategory.GENERAL},
                )
            assert supervisor.wait_for(recorded.position, timeout=2)
            history = queries.history(case_id)
            summary = queries.summary(case_id)
            assert history is not None
            assert summary is not None
            assert (history.version, history.digest) == (recorded.version, recorded.digest)
            assert history.entries[-1]["data"]["text"] == text
            assert history.entries[-1]["position"] == recorded.position
            assert (summary["version"], summary["digest"]) == (recorded.version, recorded.digest)

        started = time.monotonic()
        assert not supervisor.wait_for(recorded.position + 1_000, timeout=0.5)
        waited = time.monotonic() - started
        assert 0.5 <= waited < 2.0


# -- lag and staffel status ------------------------------------------------------------------------


def test_lag_and_status_report_unprocessed_events_until_caught_up(
    app: StaffelApplication,
    url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("STAFFEL_DATABASE_URL", url)
    store = build_view_store(app)
    catch_up_active(app, store)
    assert main(["status", "--max-behind", "0"]) == 0

    _, head = save_random_cases(app, World.fresh(), RandomChooser(8), n=2, events=3)
    time.sleep(0.05)
    for projection in PROJECTIONS:
        behind = lag(app, store, projection)
        assert (behind.position, behind.head) == (0, head)
        assert behind.behind == head > 0
        assert behind.seconds >= 0.05
    capsys.readouterr()
    assert main(["status", "--max-behind", "0"]) == 1
    out = capsys.readouterr().out
    assert {"case_history", "case_summary"} <= {line.split()[0] for line in out.splitlines()}
    assert main(["status", "--max-behind", str(head)]) == 0

    catch_up_active(app, store)
    for projection in PROJECTIONS:
        current = lag(app, store, projection)
        assert (current.position, current.head, current.behind) == (head, head, 0)
        assert current.seconds == 0.0
    assert main(["status", "--max-behind", "0"]) == 0
    assert main(["status"]) == 0


# -- a projection whose version changed ------------------------------------------------------------


class GatedSummaryV2(CaseSummaryProjection):
    """The summary projection at its next version; its ``open_after``-th batch waits for the
    gate."""

    version: ClassVar[int] = CaseSummaryProjection.version + 1

    def __init__(self, open_after: int) -> None:
        self.batches, self.open_after = 0, open_after
        self.reached, self.gate = threading.Event(), threading.Event()

    def process(self, batch: Batch, writer: Any) -> None:
        if self.batches == self.open_after:
            self.reached.set()
            assert self.gate.wait(30)
        self.batches += 1
        super().process(batch, writer)


def test_a_new_projection_version_is_rebuilt_beside_the_serving_one_then_swapped_in(
    app: StaffelApplication, url: str
) -> None:
    store = build_view_store(app)
    queries = CaseQueries(store)
    world, chooser = World.fresh(), RandomChooser(6)
    cases, head = save_random_cases(app, world, chooser, n=8, events=6)
    assert catch_up_active(app, store) == {
        "case_history": 1,
        "case_summary": 1,
        "matching": 1,
        "follow_ups": 1,
    }
    before = {str(c.id): queries.summary(str(c.id)) for c in cases}

    v2 = GatedSummaryV2(open_after=3)
    with running(app, projections=(CaseHistoryProjection(), v2), batch_size=5) as supervisor:
        assert v2.reached.wait(10), "the rebuild never started"
        # The rebuild stands in the middle of its fourth batch: generation 1 still serves.
        generations = {g["generation"]: g for g in store.generations("case_summary")}
        now = CaseSummaryProjection.version
        assert (generations[1]["state"], generations[1]["version"]) == ("active", now)
        assert (generations[2]["state"], generations[2]["version"]) == ("building", now + 1)
        assert store.position("case_summary", 2) == 15 < head
        assert {case_id: queries.summary(case_id) for case_id in before} == before
        assert len(queries.search(holder=None, limit=200).items) == len(cases)

        v2.gate.set()
        assert wait_until(lambda: store.active_generation("case_summary") == 2, 20)
        # the swap, then the old generation's tables are dropped (a step of its own)
        assert wait_until(
            lambda: (
                {g["generation"]: g["state"] for g in store.generations("case_summary")}
                == {1: "dropped", 2: "active"}
            ),
            5,
        )
        assert store.position("case_summary", 2) == head
        assert "case_summary_g1" not in table_names(store, url.startswith("postgres"))
        assert store.active_generation("case_history") == 1
        assert {case_id: queries.summary(case_id) for case_id in before} == before

        _, position = save_random_cases(app, world, chooser, events=2, cases=cases[:2])
        assert supervisor.wait_for(position, timeout=3)
        summary = queries.summary(str(cases[0].id))
        assert summary is not None
        assert summary["version"] == cases[0].version
    assert_active_views_equal_fold(app, store)


# -- errors: the supervisor restarts from tracking, with a short backoff ---------------------------


class FlakyHistory(CaseHistoryProjection):
    """Fails the first attempt at every batch (a dropped connection, a locked database)."""

    def __init__(self) -> None:
        self.failed: set[int] = set()

    def process(self, batch: Batch, writer: Any) -> None:
        last = batch[-1][1]
        if last not in self.failed:
            self.failed.add(last)
            raise RuntimeError(f"flaky at {last}")
        super().process(batch, writer)


def test_the_supervisor_retries_a_failed_batch_promptly_however_often_it_failed_before(
    app: StaffelApplication,
) -> None:
    flaky = FlakyHistory()
    world, chooser = World.fresh(), RandomChooser(9)
    cases, _ = save_random_cases(app, world, chooser, n=1, events=0)
    with running(app, projections=(flaky, CaseSummaryProjection()), poll_interval=0.05) as sv:
        for _ in range(10):  # the backoff once grew with every error: 1.6 s after the eighth
            _, position = save_random_cases(app, world, chooser, events=1, cases=cases)
            assert sv.wait_for(position, timeout=1.5), f"still behind after {sv.errors} errors"
        assert sv.errors >= 10
    assert_active_views_equal_fold(app, build_view_store(app))


# -- PostgreSQL: dropped connections ---------------------------------------------------------------


def _terminate(admin: psycopg.Connection[Any], condition: str) -> list[int]:
    rows = admin.execute(
        "SELECT pid, pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE datname = current_database() AND pid <> pg_backend_pid() AND " + condition
    ).fetchall()
    return [int(row[0]) for row in rows]


def _listeners(admin: psycopg.Connection[Any]) -> list[int]:
    rows = admin.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
        " AND query ILIKE 'LISTEN%'"
    ).fetchall()
    return [int(row[0]) for row in rows]


@pytest.mark.postgres
def test_dropped_listen_and_pool_connections_lose_no_event(postgres_server: str) -> None:
    url = create_database("staffel_views")
    # A pool of one: psycopg_pool checks a connection before handing it out and backs off
    # 1, 2, 4, 8 ... seconds after each dead one, so a pool full of dead connections takes up
    # to half a minute to hand out a live one.
    writer, runner = build_app(url), build_app(url, postgres_pool_size=1)
    apps = [writer, runner]
    world, chooser = World.fresh(), RandomChooser(3)
    admin = psycopg.connect(url, autocommit=True)
    try:
        # A poll interval far beyond the waits below: only notifications (or the pull after a
        # reconnection) can bring the views up to date in time.
        with running(runner, poll_interval=60.0, batch_size=2) as supervisor:
            store = supervisor.store
            assert wait_until(lambda: len(_listeners(admin)) == 1, 5)
            listener = _listeners(admin)
            cases, position = save_random_cases(writer, world, chooser, n=3, events=2)
            assert supervisor.wait_for(position, timeout=3)

            assert _terminate(admin, "query ILIKE 'LISTEN%'") == listener
            _, position = save_random_cases(writer, world, chooser, n=3, events=2)
            assert supervisor.wait_for(position, timeout=5)
            assert wait_until(lambda: len(_listeners(admin)) == 1, 5)
            assert _listeners(admin) != listener
            _, position = save_random_cases(writer, world, chooser, events=1, cases=cases)
            assert supervisor.wait_for(position, timeout=3)

            # Mid-stream: hundreds of events to catch up on in batches of two, then every
            # connection but the LISTEN one is terminated. The test writes and waits through
            # an application of its own from then on (its old pool is all dead connections).
            cases, position = save_random_cases(writer, world, chooser, n=30, events=8)
            behind = {p.name: store.position(p.name, 1) for p in PROJECTIONS}
            assert _terminate(admin, "query NOT ILIKE 'LISTEN%'")
            assert min(behind.values()) < position, "the runner had already caught up"
            writer = build_app(url)
            apps.append(writer)
            _, position = save_random_cases(writer, world, chooser, events=2, cases=cases[:5])
            names = [p.name for p in PROJECTIONS]
            assert wait_for(build_view_store(writer), position, 30, names), supervisor.errors
            assert supervisor.running
        assert_active_views_equal_fold(writer, build_view_store(writer))
    finally:
        admin.close()
        for app in apps:
            app.close()
