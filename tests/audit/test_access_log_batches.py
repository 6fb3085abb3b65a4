"""Two writers of one access log (as two server processes are: each its own pool and its own
batches) append concurrently: the batches take turns on the head row, every entry is there once
and the chain verifies."""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from structlog.testing import capture_logs

from adapters.access_log import AccessLog, AccessLogHeadError, row_hash
from adapters.settings import Settings
from bootstrap import build_case_application
from domain.application import StaffelApplication
from tests.support.audit import Forger
from workers.projections import build_view_store

READS = 160


def test_two_writers_batches_make_one_chain(db_url: str) -> None:
    apps = [build_case_application(Settings(database_url=db_url)) for _ in range(2)]
    try:
        logs = [AccessLog(build_view_store(app)) for app in apps]
        cases = [str(uuid4()) for _ in range(READS)]

        def read(i: int) -> None:
            logs[i % 2].record(actor=f"writer-{i % 2}", org="o", case_ids=[cases[i]], endpoint="x")

        with ThreadPoolExecutor(16) as pool:
            list(pool.map(read, range(READS)))

        entries = logs[0].entries(limit=10 * READS)
        assert sorted(e["case_id"] for e in entries) == sorted(cases)
        assert logs[1].verify() == []
        assert logs[0].head()["rows"] == READS
        assert 2 <= logs[0].batches + logs[1].batches < READS
    finally:
        for app in apps:
            app.close()


class StaleOnce(AccessLog):
    """A writer whose turn on the head row protected nothing once: its next batch extends a
    last hash read before another writer appended (what a fork needs). SQLite only: on
    PostgreSQL the last hash is read by the server inside the batch's one statement, after its
    turn on the head row, so there is no read of this process's to go stale; the index that
    refuses a fork is tested on both (``test_the_index_refuses_a_second_row_on_one_predecessor``).
    """

    stale: str | None = None

    def _last_hash(self, curs: Any) -> str:
        if self.stale is not None:
            prev, self.stale = self.stale, None
            return prev
        return super()._last_hash(curs)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_two_writers_extending_one_predecessor_make_no_fork(
    app: StaffelApplication, access_log: AccessLog
) -> None:
    other = StaleOnce(access_log.store)
    access_log.record(actor="a", org="o", case_ids=["c1"], endpoint="x")
    other.stale = access_log.head()["last_hash"]  # row 1: about to be extended by the other
    access_log.record(actor="a", org="o", case_ids=["c2"], endpoint="x")
    with capture_logs() as logs:
        other.record(actor="b", org="o", case_ids=["c3", "c4"], endpoint="x")
    rows = access_log.entries()
    assert [r["case_id"] for r in rows] == ["c1", "c2", "c3", "c4"]
    assert all(b["prev_hash"] == a["hash"] for a, b in itertools.pairwise(rows))
    assert access_log.verify() == []
    assert [e["event"] for e in logs] == ["access_log_fork_refused"]
    assert other.batches == 1


def test_the_index_refuses_a_second_row_on_one_predecessor(
    app: StaffelApplication, access_log: AccessLog
) -> None:
    access_log.record(actor="a", org="o", case_ids=["c1"], endpoint="x")
    row = access_log.entries()[0]
    with pytest.raises(Exception, match=r"(?i)unique|prev_hash"):
        Forger(app).sql(
            "INSERT INTO access_log (at, actor, org, case_id, endpoint, prev_hash, hash)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (row["at"], "b", "o", "c2", "x", row["prev_hash"], "f" * 64),
        )


def test_a_log_with_a_fork_starts_without_the_index_and_verify_names_it(
    app: StaffelApplication, access_log: AccessLog
) -> None:
    access_log.record(actor="a", org="o", case_ids=["c1", "c2"], endpoint="x")
    forger = Forger(app)
    forger.sql("DROP INDEX access_log_prev_hash")
    first = access_log.entries()[0]
    fork = {"at": first["at"], "actor": "b", "org": "o", "case_id": "c3", "endpoint": "x"}
    forger.sql(  # a second row on row 1: the fork the index refuses
        "INSERT INTO access_log (at, actor, org, case_id, endpoint, prev_hash, hash)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (*fork.values(), first["hash"], row_hash(fork, first["hash"])),
    )
    forger.sql("UPDATE access_log_head SET written = written + 1")
    with capture_logs() as logs:
        restarted = AccessLog(access_log.store)
    assert [e["event"] for e in logs] == ["access_log_fork_found_index_skipped"]
    named = [(p.kind, p.row) for p in restarted.verify()]
    assert named == [("access_log_missing", access_log.entries()[-1]["id"])]


def test_a_batch_without_the_head_row_fails_loudly(
    app: StaffelApplication, access_log: AccessLog
) -> None:
    Forger(app).sql("DELETE FROM access_log_head")
    with pytest.raises(AccessLogHeadError, match="touched 0 rows"):
        access_log.record(actor="a", org="o", case_ids=["c1"], endpoint="x")
    assert access_log.entries() == []


# any text a field may hold: no NUL (refused at the door) and no lone surrogates (not UTF-8)
TEXT = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=40)


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batch=st.lists(st.tuples(TEXT, TEXT, TEXT), min_size=1, max_size=4))
def test_the_servers_hashes_are_the_verifiers_for_any_text(
    access_log: AccessLog, batch: list[tuple[str, str, str]]
) -> None:
    """On PostgreSQL the server hashes each row (``APPEND_FUNCTION``) from the prefix this
    process encodes; the verifier hashes the whole canonical JSON in Python. They agree for any
    actor, organisation and endpoint: quotes, backslashes, control characters, any script."""
    before = access_log.head()["rows"]
    for actor, org, endpoint in batch:
        access_log.record(actor=actor, org=org, case_ids=[str(uuid4())], endpoint=endpoint)
    rows = access_log.entries(after=0, limit=100_000)[before:]
    assert [(r["actor"], r["org"], r["endpoint"]) for r in rows] == batch
    for row in rows:
        assert row["hash"] == row_hash(row, row["prev_hash"])
    assert access_log.verify() == []


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_second_access_log_leaves_the_append_function_as_it_is(access_log: AccessLog) -> None:
    """The function is created once; another process opening the log (a server starting, an
    auditor's ``staffel audit verify``) finds it as it should be and writes no catalog row."""

    def row_version() -> str:
        with access_log.store.cursor() as curs:
            curs.execute("SELECT xmin::text AS v FROM pg_proc WHERE proname = 'access_log_append'")
            return str(curs.fetchone()["v"])

    before = row_version()
    AccessLog(access_log.store)
    assert row_version() == before
    access_log.record(actor="a", org="o", case_ids=["c1"], endpoint="x")
    assert access_log.verify() == []
