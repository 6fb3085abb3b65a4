"""Every command carries an id stored with its events (the client's Idempotency-Key or one the
server makes), so a save whose outcome is unknown is decided by looking it up. Unit level, both
backends: a recorder hook raises the connection error after (or instead of) the commit. The real
ambiguous commit, through a proxy that drops the acknowledgement, is ``test_ambiguous_commit``."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import OperationalError

from api.app import create_app
from domain.actor import acting_as
from domain.application import StaffelApplication
from domain.errors import IdempotencyKeyReusedError
from domain.writes import IdempotencyKey
from tests.support.api import settings_for
from tests.support.store import HOLDER, MakeApp, note, register


def lose_connection(
    app: StaffelApplication, monkeypatch: pytest.MonkeyPatch, *, committed: bool
) -> None:
    """The next insert raises as if the connection broke, after its commit or before it."""
    original = app.recorder.insert_events

    def insert_events(*args: Any, **kwargs: Any) -> Any:
        monkeypatch.setattr(app.recorder, "insert_events", original)
        if committed:
            original(*args, **kwargs)
        raise OperationalError("consuming input failed: server closed the connection")

    monkeypatch.setattr(app.recorder, "insert_events", insert_events)


def versions(app: StaffelApplication, case_id: UUID) -> list[int]:
    return [e.originator_version for e in app.recorder.select_events(case_id)]


@pytest.mark.parametrize("key", [None, IdempotencyKey("client-key-1", "hash-1")])
def test_a_write_committed_before_the_connection_broke_answers_what_was_stored(
    make_app: MakeApp, monkeypatch: pytest.MonkeyPatch, key: IdempotencyKey | None
) -> None:
    app = make_app()
    case_id = register(app).id
    lose_connection(app, monkeypatch, committed=True)
    with acting_as(HOLDER):
        recorded = app.record(case_id, "NoteRecorded", note("x"), idempotency=key)
    assert recorded.version == 2
    assert recorded.position == app.recorder.max_notification_id()
    assert versions(app, case_id) == [1, 2]


def test_a_write_lost_before_its_commit_is_the_stores_error_and_stores_nothing(
    make_app: MakeApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app()
    case_id = register(app).id
    lose_connection(app, monkeypatch, committed=False)
    with acting_as(HOLDER), pytest.raises(OperationalError):
        app.record(case_id, "NoteRecorded", note("x"))
    assert versions(app, case_id) == [1]


def test_server_made_ids_leave_the_clients_keys_as_they_were(make_app: MakeApp) -> None:
    app = make_app()
    case_id = register(app).id
    key = IdempotencyKey("client-key-2", "hash-a")
    with acting_as(HOLDER):
        first = app.record(case_id, "NoteRecorded", note("a"), idempotency=key)
        assert app.record(case_id, "NoteRecorded", note("a"), idempotency=key) == first
        with pytest.raises(IdempotencyKeyReusedError):
            app.record(
                case_id, "NoteRecorded", note("b"), idempotency=IdempotencyKey(key.key, "hash-b")
            )
        unkeyed = app.record(case_id, "NoteRecorded", note("c"))
    assert (first.version, unkeyed.version) == (2, 3)
    assert versions(app, case_id) == [1, 2, 3]


# the peer endpoints are idempotent by content (a bundle imports once, a receipt's answer has a
# key derived from it): no client key needed
BY_CONTENT = {"/handovers/inbox", "/handovers/receipts"}
# a PUT of the caller's own setting records no event: sent twice, the setting is what it said
SETS_A_VALUE = {"/me/notification-settings"}


def test_every_writing_endpoint_documents_idempotency_key() -> None:
    spec = create_app(settings_for("sqlite:///never-opened.db")).openapi()
    writes = [
        (method, path, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in ("post", "put", "patch", "delete")
        and path not in BY_CONTENT
        and not (method == "put" and path in SETS_A_VALUE)
    ]
    assert len(writes) >= 20
    missing = [
        f"{method.upper()} {path}"
        for method, path, operation in writes
        if not any(
            p["in"] == "header" and p["name"] == "Idempotency-Key"
            for p in operation.get("parameters", [])
        )
    ]
    assert missing == []
