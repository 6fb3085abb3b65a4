"""Issue 16: bulk paths (the handover policy, a wave of recognitions or acceptances) read many
cases at once. ``get_cases`` answers exactly what ``get_case`` answers for each id (a case read
before and written since by another process, one never read, one from its snapshot, an id given
twice, an unknown one), and on PostgreSQL it reads the store once, not once per case."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest

from domain.actor import acting_as
from domain.errors import CaseNotFoundError
from tests.support.store import HOLDER, MakeApp, note, register

SNAPSHOT_INTERVAL = 3


def state(case: Any) -> dict[str, Any]:
    return {k: v for k, v in vars(case).items() if k != "_pending_events"}


def test_get_cases_answers_as_get_case_for_each(make_app: MakeApp) -> None:
    app = make_app(snapshot_interval=SNAPSHOT_INTERVAL)
    other = make_app(snapshot_interval=SNAPSHOT_INTERVAL)  # another process on the same store
    read_before, never_read, snapshotted = (register(app).id for _ in range(3))
    app.get_case(read_before)  # now in the cache, at version 1
    with acting_as(HOLDER):
        other.record(read_before, "NoteRecorded", note("after the read"))
        for n in range(SNAPSHOT_INTERVAL + 1):  # a snapshot at version 3, one event after it
            other.record(snapshotted, "NoteRecorded", note(f"note {n}"))
    ids = [read_before, never_read, snapshotted, read_before]

    cases = app.get_cases(ids)

    fresh = make_app(snapshot_interval=SNAPSHOT_INTERVAL)  # nothing cached: one get each
    assert [state(c) for c in cases] == [state(fresh.get_case(i)) for i in ids]
    assert [c.version for c in cases] == [2, 1, SNAPSHOT_INTERVAL + 2, 2]
    assert cases[0] is not cases[3]  # copies: a command on one changes no other, nor the cache
    with pytest.raises(CaseNotFoundError):
        app.get_cases([never_read, uuid4()])


# on PostgreSQL only: SQLite reads one case at a time (no round trips to save)
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_get_cases_reads_the_store_once_on_postgres(make_app: MakeApp) -> None:
    app = make_app()
    ids = [register(app).id for _ in range(20)]
    app.get_cases(ids[:10])  # half of them cached
    with acting_as(HOLDER):
        for case_id in ids[:5]:  # and moved on since
            make_app().record(case_id, "NoteRecorded", note("meanwhile"))
    datastore = app.recorder.datastore  # type: ignore[attr-defined]
    connections = 0
    get_connection = datastore.get_connection

    def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal connections
        connections += 1
        return get_connection(*args, **kwargs)

    datastore.get_connection = counted
    cases = app.get_cases(ids)
    assert [c.version for c in cases] == [2] * 5 + [1] * 15
    assert connections <= 2  # the snapshots of those not cached, then all new events
