"""Two writers of one access log (as two server processes are: each its own pool and its own
batches) append concurrently: the batches take turns on the head row, every entry is there once
and the chain verifies."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from uuid import uuid4

from adapters.access_log import AccessLog
from adapters.settings import Settings
from bootstrap import build_case_application
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
