"""Group commit on PostgreSQL (ADR 0012): concurrent commands of one process share transactions;
a command that conflicts inside a batch is re-run alone and the others succeed; a batch that fails
fails every command and stores none of them; an Idempotency-Key still records once.

What a transaction wrote is read from PostgreSQL itself: rows inserted by one transaction carry
its id in ``xmin``. To know that commands met in one batch, the first batch is held (``Held``)
until the others have queued behind it."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any
from uuid import UUID

import psycopg
import pytest
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import OperationalError, Recording

from adapters.group_commit import Command, GroupCommitter
from adapters.recorders import TABLE, PostgresStaffelRecorder
from adapters.settings import Settings
from bootstrap import build_case_application
from domain.actor import acting_as
from domain.application import StaffelApplication
from domain.values import LegalStatus
from domain.writes import IdempotencyKey, IdempotencyRecord
from tests.cases.test_concurrency import notes
from tests.conftest import SERVER_URL, create_database
from tests.support.builders import a_person
from tests.support.pg_proxy import CommitCutProxy
from tests.support.processes import wait_until
from tests.support.store import HOLDER, note, register

pytestmark = pytest.mark.postgres


@pytest.fixture
def database(postgres_server: str) -> str:
    """A database of the test's own: transaction ids and rows are only this test's."""
    return create_database("staffel_group")


@pytest.fixture
def make(database: str) -> Iterator[Callable[..., StaffelApplication]]:
    apps: list[StaffelApplication] = []

    def build(url: str = database, **overrides: Any) -> StaffelApplication:
        app = build_case_application(Settings(database_url=url, **overrides))
        apps.append(app)
        return app

    yield build
    for app in apps:
        app.close()


def group_of(app: StaffelApplication) -> GroupCommitter:
    recorder = app.recorder
    assert isinstance(recorder, PostgresStaffelRecorder)
    assert recorder.group is not None
    return recorder.group


class Held:
    """Holds the committer's next batch until ``queued`` more commands wait behind it; then calls
    ``then`` (if any) before each later batch is written."""

    def __init__(
        self, group: GroupCommitter, queued: int, then: Callable[[], None] | None = None
    ) -> None:
        self.group, self.queued, self.then = group, queued, then
        self.write = group.write
        self.batches: list[int] = []
        group.write = self

    def __call__(self, batch: Sequence[Command]) -> list[list[int]]:
        if not self.batches:
            assert wait_until(lambda: len(self.group._queue) >= self.queued, 30, 0.005)
        elif self.then is not None:
            self.then()
        self.batches.append(len(batch))
        return self.write(batch)


def transactions_of(database: str, case_ids: Sequence[UUID], after_version: int = 1) -> int:
    """How many transactions wrote the cases' events after ``after_version``."""
    with psycopg.connect(database) as conn:
        row = conn.execute(
            "SELECT count(DISTINCT xmin::text) FROM staffel_events"
            " WHERE originator_id = ANY(%s) AND originator_version > %s",
            (list(case_ids), after_version),
        ).fetchone()
    assert row is not None
    return int(row[0])


def in_threads(calls: Sequence[Callable[[], Any]]) -> list[Any]:
    with ThreadPoolExecutor(len(calls)) as pool:
        return [f.result() for f in [pool.submit(c) for c in calls]]


def recording(app: StaffelApplication, case_id: UUID, text: str) -> Callable[[], Any]:
    def call() -> Any:
        with acting_as(HOLDER):
            return app.record(case_id, "NoteRecorded", note(text))

    return call


@pytest.mark.parametrize("group_commit", [True, False])
def test_concurrent_commands_share_transactions(
    make: Callable[..., StaffelApplication], database: str, group_commit: bool
) -> None:
    app = make(group_commit=group_commit)
    writers, per_writer = 6, 8
    case_ids = [register(app).id for _ in range(writers)]
    barrier = threading.Barrier(writers)

    def write(i: int) -> None:
        barrier.wait()
        for n in range(per_writer):
            recording(app, case_ids[i], f"{i}-{n}")()

    in_threads([partial(write, i) for i in range(writers)])

    for i, case_id in enumerate(case_ids):
        assert list(notes(app, case_id)) == [f"{i}-{n}" for n in range(per_writer)]
    transactions = transactions_of(database, case_ids)
    if group_commit:
        assert transactions < writers * per_writer, "every command had its own transaction"
        assert group_of(app).largest > 1
    else:
        assert transactions == writers * per_writer
        assert app.recorder.group is None  # type: ignore[attr-defined]
    # the log: every event once, notification ids in order
    positions = [n.id for n in app.recorder.select_notifications(start=1, limit=10_000)]
    assert positions == sorted(set(positions))


def test_a_command_conflicting_in_its_batch_runs_again_alone_and_the_others_succeed(
    make: Callable[..., StaffelApplication], database: str
) -> None:
    app, other = make(), make()
    plug, contested, *rest = [register(app).id for _ in range(5)]
    for case_id in (contested, *rest):
        app.get_case(case_id)  # cached at version 1
    original = app.save
    raced: list[Any] = []
    saves: Counter[UUID] = Counter()

    def save(*objs: Any, **kwargs: Any) -> list[Recording[UUID]]:
        saves.update(o.id for o in objs)
        if not raced and any(getattr(o, "id", None) == contested for o in objs):
            raced.append(recording(other, contested, "other process")())  # it is stale now
        return original(*objs, **kwargs)

    app.save = save  # type: ignore[method-assign]
    held = Held(group_of(app), queued=1 + len(rest))  # the plug's batch waits for the others
    calls = [recording(app, plug, "plug")]
    calls += [recording(app, contested, "contested"), *(recording(app, c, "rest") for c in rest)]
    results = in_threads(calls)

    assert raced
    assert held.batches[0] == 1
    assert held.batches[1] == 1 + len(rest)
    assert list(notes(app, contested)) == ["other process", "contested"]
    assert results[1].version == 3  # run again on the version the other process wrote
    assert saves[contested] == 2  # it alone ran again
    for case_id, result in zip(rest, results[2:], strict=True):
        assert saves[case_id] == 1
        assert list(notes(app, case_id)) == ["rest"]
        assert result.version == 2


def things(app: StaffelApplication, count: int) -> list[Any]:
    """New aggregates' stored events, one list per aggregate."""
    return [[app.mapper.to_stored_event(e) for e in Aggregate().collect_events()]
            for _ in range(count)]  # fmt: skip


def test_a_failed_batch_fails_every_command_and_stores_none(
    make: Callable[..., StaffelApplication], database: str
) -> None:
    app = make(lock_timeout_seconds=1)
    group = group_of(app)
    plug, *batch = things(app, 5)
    records = [IdempotencyRecord(f"k{i}", "h", UUID(int=i + 1), 1, "") for i in range(len(batch))]
    with psycopg.connect(database) as blocker:
        taken = threading.Event()

        def block() -> None:  # another session holds the events table's lock past lock_timeout
            blocker.execute("LOCK TABLE staffel_events IN EXCLUSIVE MODE")
            taken.set()

        Held(group, queued=len(batch), then=block)

        def submit(events: Any, record: IdempotencyRecord | None) -> Any:
            try:
                return group.submit(events, {"idempotency": record} if record else {})
            except OperationalError as e:
                return e

        calls: list[Callable[[], Any]] = [lambda: submit(plug, None)]
        calls += [partial(submit, e, r) for e, r in zip(batch, records, strict=True)]
        outcomes = in_threads(calls)
        assert taken.is_set()
        blocker.rollback()
    assert isinstance(outcomes[0], list)
    assert len(outcomes[0]) == 1
    for outcome in outcomes[1:]:
        assert isinstance(outcome, OperationalError), outcome
        assert "lock" in str(outcome).lower()
    assert group.transactions == 1  # the failed batch counted nothing
    with psycopg.connect(database) as conn:  # neither events nor idempotency records stored
        ids = [events[0].originator_id for events in batch]
        stored = conn.execute(
            "SELECT count(*) FROM staffel_events WHERE originator_id = ANY(%s)", (ids,)
        ).fetchone()
        keys = conn.execute(
            f"SELECT count(*) FROM {TABLE} WHERE key = ANY(%s)",
            ([r.key for r in records],),
        ).fetchone()
    assert stored == (0,)
    assert keys == (0,)


def test_one_idempotency_key_in_one_batch_records_once(
    make: Callable[..., StaffelApplication], database: str
) -> None:
    """Three registrations with one key (one request sent three times; a case's own commands
    queue on its lock before they reach the committer, a new case's do not) meet in one batch:
    one case is registered, all three get its answer, and so does a later replay."""
    app = make()
    plug = register(app).id
    key = IdempotencyKey("u1:same-registration", "hash")

    def keyed() -> Any:
        with acting_as(HOLDER):
            return app.register_case(
                person=a_person("Einmal"),
                bamf_file_number=None,
                residence_municipality="Berlin",
                legal_status=LegalStatus.ASYLUM_SEEKER,
                idempotency=key,
            )

    head = app.recorder.max_notification_id() or 0
    held = Held(group_of(app), queued=3)
    results = in_threads([recording(app, plug, "plug"), keyed, keyed, keyed])

    assert held.batches[0] == 1
    assert len(set(results[1:])) == 1
    assert results[1].version == 1
    written = app.recorder.select_notifications(start=head + 1, limit=100)
    assert len(written) == 2  # the plug's note and one registration
    assert keyed() == results[1]  # replayed later: the first answer


def test_a_batch_whose_commit_ack_is_lost_answers_each_command_once(
    make: Callable[..., StaffelApplication], postgres_server: str
) -> None:
    proxy = CommitCutProxy(SERVER_URL)
    try:
        name = create_database("staffel_group_cut").rsplit("/", 1)[1]
        app = make(f"{proxy.url}/{name}")
        case_ids = [register(app).id for _ in range(5)]
        plug, *batch = case_ids
        Held(group_of(app), queued=len(batch), then=lambda: proxy.cut_next_commits(1))
        results = in_threads(
            [recording(app, plug, "plug"), *(recording(app, c, "cut") for c in batch)]
        )
        assert proxy.cuts >= 1
        for case_id, result in zip(batch, results[1:], strict=True):
            assert list(notes(app, case_id)) == ["cut"]
            assert result.version == 2
    finally:
        proxy.close()
