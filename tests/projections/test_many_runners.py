"""Many processes on one database (ADR 0004): one supervisor leads and the others stand by, a
standby takes over when the leader is killed, and no read model applies an event twice, even
with two runners working at once (the tracking write is a compare-and-set, the summary ignores
events not newer than it holds)."""

from __future__ import annotations

import json
import random
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest

from adapters.settings import Settings
from adapters.views.store import ViewStoreMixin
from bootstrap import build_services
from cli.main import main, parser
from domain.application import StaffelApplication
from projections.registry import PROJECTIONS
from projections.summary import CaseSummaryProjection, Doc
from tests.projections.test_projection_crash import _runner_env
from tests.support.processes import ProjectWorker, wait_until
from tests.support.projections import (
    RandomChooser,
    World,
    assert_active_views_equal_fold,
    build_app,
    catch_up_active,
    count_history,
    fresh_database_url,
    save_random_cases,
    stored_case_events,
)
from workers.leader import AlwaysLead, holder, is_held
from workers.projections import ProjectionWorker, build_view_store, ensure_generation, read_batch
from workers.supervisor import Supervisor


def _positions(store: ViewStoreMixin) -> set[int]:
    positions = set()
    for projection in PROJECTIONS:
        generation = store.active_generation(projection.name) or 0
        positions.add(store.position(projection.name, generation) if generation else 0)
    return positions


def _assert_exactly_once(app: StaffelApplication, store: ViewStoreMixin) -> None:
    events = stored_case_events(app)
    generation = store.active_generation("case_history") or 0
    assert set(count_history(store, generation).values()) == {1}
    assert len(count_history(store, generation)) == len(events)
    assert_active_views_equal_fold(app, store)


# -- the overlapping batch, directly ---------------------------------------------------------------


def test_two_workers_at_one_position_the_later_overlapping_batch_is_refused(
    app: StaffelApplication,
) -> None:
    """Both read a batch from position 0; the first commits a short one, the second a longer
    one: the library's "only forwards" let the second through (its end is further), applying
    the first's events again. The compare-and-set refuses it; the next step re-reads."""
    store = build_view_store(app)
    world, chooser = World.fresh(), RandomChooser(15)
    cases, _ = save_random_cases(app, world, chooser, n=3, events=4)
    save_random_cases(app, world, chooser, events=3, cases=cases)
    for projection in (PROJECTIONS[1], PROJECTIONS[0]):  # the summary, the history
        generation, _ = ensure_generation(store, projection)
        first = ProjectionWorker(app, store, projection, generation)
        second = ProjectionWorker(app, store, projection, generation)
        start = first.position
        assert start == second.position == 0
        short, long = read_batch(app, start, 4), read_batch(app, start, 100)
        first.apply(short, start)
        second.apply(long, start)
        assert store.position(projection.name, generation) == short[-1][1]
    catch_up_active(app, store)
    _assert_exactly_once(app, store)


def test_the_summary_ignores_an_event_it_has_applied_already(app: StaffelApplication) -> None:
    class Docs:
        def __init__(self) -> None:
            self.docs: dict[str, Doc] = {}

        def load_summaries(self, case_ids: Any) -> dict[str, Doc]:
            return {k: v for k, v in self.docs.items() if k in set(case_ids)}

        def save_summaries(self, docs: Any) -> None:
            self.docs.update({d["case_id"]: d for d in docs})

        def save_handovers(self, docs: Any) -> None:
            pass

        def secure_delete(self) -> None:
            pass

    world, chooser = World.fresh(), RandomChooser(16)
    save_random_cases(app, world, chooser, n=2, events=6)
    batch = [(e, p) for e, p in stored_case_events(app)]
    once, twice = Docs(), Docs()
    CaseSummaryProjection().process(batch, once)
    CaseSummaryProjection().process(batch[:5], twice)
    CaseSummaryProjection().process(batch, twice)  # the first five again, then the rest
    assert twice.docs == once.docs


def slowed(app: StaffelApplication) -> None:
    """Reading a batch takes a few milliseconds more: a busy machine's timing, which widens the
    window in which another runner commits from the same position."""
    select = app.recorder.select_notifications
    rng = random.Random(19)

    def select_later(*args: Any, **kwargs: Any) -> Any:
        notifications = select(*args, **kwargs)
        time.sleep(rng.uniform(0, 0.02))
        return notifications

    app.recorder.select_notifications = select_later  # type: ignore[method-assign]


# the summary first: its overlap is not masked by the history's primary key failing the round
ORDER = (PROJECTIONS[1], PROJECTIONS[0], PROJECTIONS[2], *PROJECTIONS[3:])


# -- supervisors on one database ---------------------------------------------------------------


@pytest.mark.parametrize("elected", [True, False], ids=["elected", "both-running"])
def test_three_supervisors_on_one_database_apply_every_event_exactly_once(
    url: str, elected: bool
) -> None:
    """Three supervisors, each with its own application and store (as two processes have), follow
    one database while a writer records. Elected, one leads and the other stands by; with the
    election switched off (both always lead) the fold alone keeps every event applied once."""
    apps = [build_app(url) for _ in range(4)]
    writer_app, supervisors = apps[0], []
    try:
        for app in apps[1:]:
            slowed(app)
            lead = None if elected else AlwaysLead()
            supervisors.append(
                Supervisor(app, ORDER, poll_interval=0.005, batch_size=50, lead=lead)
            )
        for supervisor in supervisors:
            supervisor.start()
        world, chooser = World.fresh(), RandomChooser(17)
        cases: list[Any] = []
        deadline = time.monotonic() + 3.0
        while time.monotonic() < deadline:
            if len(cases) < 12:
                new, _ = save_random_cases(writer_app, world, chooser, n=2, events=2)
                cases += new
            else:
                save_random_cases(writer_app, world, chooser, events=2, cases=cases[-4:])
            time.sleep(0.002)
        head = writer_app.recorder.max_notification_id() or 0
        store = build_view_store(writer_app)
        assert wait_until(lambda: _positions(store) == {head}, 30, 0.05), _positions(store)
        if elected:
            assert sum(s.leading for s in supervisors) == 1
        _assert_exactly_once(writer_app, store)
    finally:
        for supervisor in supervisors:
            supervisor.stop()
        for app in apps:
            app.close()


# -- the leader killed -----------------------------------------------------------------------------


def test_a_killed_leader_is_replaced_by_a_standby_within_seconds(
    app: StaffelApplication,
    url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    store = build_view_store(app)
    env = _runner_env(url, tmp_path)
    workers: list[ProjectWorker] = []
    try:
        for i in range(2):  # one after the other: concurrent first starts are issue 15's point 4
            workers.append(ProjectWorker(env, tmp_path / f"worker-{i}.log"))
            assert wait_until(workers[-1].ready, 30), workers[-1].log.read_text()
        assert wait_until(lambda: (h := holder(app, store)) is not None and h.live, 10)
        lead = holder(app, store)
        assert lead is not None
        pids = [w.process.pid for w in workers]
        assert lead.pid in pids
        leader = workers[pids.index(lead.pid)]
        standby = workers[1 - pids.index(lead.pid)]

        monkeypatch.setenv("STAFFEL_DATABASE_URL", url)
        assert main(["status", "--json", "--require-lead"]) == 0
        shown = json.loads(capsys.readouterr().out)
        assert {v["pid"] for v in shown["leads"].values()} == {lead.pid}
        assert {"case_summary", "handover_policy", "outbox"} <= set(shown["leads"])

        world, chooser = World.fresh(), RandomChooser(18)
        cases, head = save_random_cases(app, world, chooser, n=3, events=3)
        assert wait_until(lambda: _positions(store) == {head}, 10, 0.05)
        leader.kill()
        killed = time.monotonic()
        _, head = save_random_cases(app, world, chooser, events=3, cases=cases)
        assert wait_until(lambda: _positions(store) == {head}, 10, 0.05), _positions(store)
        took = time.monotonic() - killed
        assert took < 5.0, took
        now = holder(app, store)
        assert now is not None
        assert now.live
        assert now.pid == standby.process.pid
        assert main(["status"]) == 0
        out = capsys.readouterr().out
        assert f"pid {standby.process.pid}" in out
        _assert_exactly_once(app, store)
    finally:
        for worker in workers:
            worker.stop()


# -- an HTTP-only process --------------------------------------------------------------------------


def test_an_http_only_process_runs_no_workers_and_counts_as_ready(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STAFFEL_WORKERS", "false")
    settings = Settings(database_url=url, data_dir=tmp_path / "data")
    assert settings.workers is False
    services = build_services(settings)
    try:
        assert not services.supervisor.leading
        assert services.supervisor._thread is None  # nothing runs here: `staffel project` does
        assert services.supervisor.running  # /readyz: this process's share of the work is going
        assert services.supervisor.finish_round(0.1)
    finally:
        services.close()
    assert parser().parse_args(["serve", "--no-workers"]).no_workers
    assert not parser().parse_args(["serve"]).no_workers


def test_a_leader_whose_lock_session_is_terminated_stops_and_the_lead_moves_on(
    postgres_server: str, tmp_path: Path
) -> None:
    """PostgreSQL only: the lock's session ended by the server (``pg_terminate_backend``, as in
    a restart) frees the lock; the leader notices before its next round and competes again, so
    there is one leader again within seconds, and never two for longer than that check."""
    url = fresh_database_url(postgres_server, tmp_path)
    apps = [build_app(url) for _ in range(2)]
    supervisors = [Supervisor(app, poll_interval=0.05) for app in apps]
    try:
        for supervisor in supervisors:
            supervisor.start()
        assert wait_until(lambda: sum(s.leading for s in supervisors) == 1, 10)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = 'staffel-lead' AND datname = current_database()"
            )
        assert wait_until(lambda: is_held(apps[0]), 10)
        assert wait_until(lambda: sum(s.leading for s in supervisors) == 1, 10)
        world, chooser = World.fresh(), RandomChooser(20)
        _, head = save_random_cases(apps[0], world, chooser, n=2, events=3)
        store = build_view_store(apps[0])
        assert wait_until(lambda: _positions(store) == {head}, 10, 0.05), _positions(store)
    finally:
        for supervisor in supervisors:
            supervisor.stop()
        for app in apps:
            app.close()


def test_a_worker_reads_its_position_once_and_again_after_a_refused_batch(
    app: StaffelApplication,
) -> None:
    """Issue 16, cheaper rounds: a worker asks the store for its tracking position once and then
    follows its own batches; when another runner moved the position meanwhile, the
    compare-and-set refuses the worker's batch and the worker reads the position again."""
    store = build_view_store(app)
    world, chooser = World.fresh(), RandomChooser(16)
    cases, _ = save_random_cases(app, world, chooser, n=2, events=3)
    projection = PROJECTIONS[1]  # the summary
    generation, _ = ensure_generation(store, projection)
    reads: list[int] = []
    position = store.position

    def counted(name: str, gen: int) -> int:
        reads.append(gen)
        return position(name, gen)

    store.position = counted  # type: ignore[method-assign,assignment]
    worker = ProjectionWorker(app, store, projection, generation, batch_size=2)
    other = ProjectionWorker(app, store, projection, generation)
    assert worker.step()
    assert worker.step()
    assert len(reads) == 1  # the first step's; the second followed its own batch
    save_random_cases(app, world, chooser, events=2, cases=cases)
    other.catch_up()  # another runner moves the tracking on
    before = len(reads)
    assert worker.step()  # refused: its start is stale; nothing written
    assert worker.step() == 0  # the position read again: caught up, no event applied twice
    assert len(reads) == before + 1
    assert worker.position == (app.recorder.max_notification_id() or 0)
    catch_up_active(app, store)
    _assert_exactly_once(app, store)
