"""History reads (issue 16): the access log is appended in batches (group commit) and a read
never answers before its entry is durable; the history is one read-model query."""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.views import schema
from projections.history import SHOWN_SINCE
from tests.support.api import AGENTUR, Api, auth

READERS = 24
READS_EACH = 4


def reader() -> tuple[str, dict[str, str]]:
    """A caseworker of the Agentur who has written nothing (no read-your-writes wait)."""
    sub = f"reader-{uuid.uuid4().hex[:10]}"
    return sub, auth(sub, AGENTUR)


def concurrently(read: Callable[[int], Any], reads: int = READERS * READS_EACH) -> list[Any]:
    with ThreadPoolExecutor(READERS) as pool:
        return list(pool.map(read, range(reads)))


def test_concurrent_reads_each_have_one_entry_in_fewer_transactions(api: Api) -> None:
    case_id = api.register()["case_id"]
    api.settle()
    sub, headers = reader()
    log = api.services.access_log
    batches_before = log.batches

    def read(_: int) -> int:
        status: int = api.client.get(f"/cases/{case_id}/history", headers=headers).status_code
        return status

    statuses = concurrently(read)

    assert statuses == [200] * len(statuses)
    entries = log.entries(actor=sub, limit=10_000)
    assert len(entries) == len(statuses)  # exactly one entry per read
    assert {e["case_id"] for e in entries} == {case_id}
    assert log.verify() == []  # the chain holds, batches included
    transactions = log.batches - batches_before
    assert 0 < transactions < len(statuses), transactions


def test_a_failed_batch_commit_fails_every_read_in_it(make_api: Callable[..., Api]) -> None:
    """The access log cannot be written (another transaction holds its lock past the timeout):
    every read waiting for that batch answers 503 with Retry-After, none answers its history,
    and none left an entry. Afterwards reads answer again."""
    api = make_api(db_timeout_seconds=1.0, lock_timeout_seconds=1)
    case_id = api.register()["case_id"]
    api.settle()
    sub, headers = reader()
    log = api.services.access_log

    def read(_: int) -> tuple[int, str | None, str]:
        r = api.client.get(f"/cases/{case_id}/history", headers=headers)
        return r.status_code, r.headers.get("retry-after"), r.text

    with holding_the_access_log(api):  # each reader once: each failed batch waits its timeout
        answers = concurrently(read, reads=READERS)

    assert {status for status, _, _ in answers} == {503}, answers[:3]
    assert all(
        problem["type"].endswith("database-unavailable")
        for problem in (json.loads(text) for _, _, text in answers)
    )
    assert all(retry == "5" for _, retry, _ in answers)
    assert log.entries(actor=sub) == []
    assert api.client.get(f"/cases/{case_id}/history", headers=headers).status_code == 200
    assert len(log.entries(actor=sub)) == 1
    assert log.verify() == []


class holding_the_access_log:  # noqa: N801 - used as a context manager
    """Another connection holds the access log's write lock (PostgreSQL: its head row;
    SQLite: the database's write lock) until the context ends."""

    def __init__(self, api: Api) -> None:
        self.url = api.services.settings.database_url

    def __enter__(self) -> None:
        if self.url.startswith("sqlite"):
            path = self.url.removeprefix("sqlite:///")
            self.sqlite = sqlite3.connect(path, isolation_level=None)
            self.sqlite.execute("BEGIN IMMEDIATE")
        else:
            self.pg = psycopg.connect(self.url.replace("postgresql+psycopg", "postgresql"))
            self.pg.execute("SELECT * FROM access_log_head FOR UPDATE")

    def __exit__(self, *exc: object) -> None:
        if self.url.startswith("sqlite"):
            self.sqlite.rollback()
            self.sqlite.close()
        else:
            self.pg.rollback()
            self.pg.close()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_history_read_is_one_read_model_query(api: Api) -> None:
    """Counted on the connections of the thread that served the request (the one that wrote its
    access-log entry), so the projection thread's queries do not count."""
    case_id = api.register()["case_id"]
    api.settle()
    _, headers = reader()
    seen: list[tuple[int, str]] = []

    def trace(statement: str) -> None:
        seen.append((threading.get_ident(), statement))

    api.client.get(f"/cases/{case_id}/history", headers=headers)  # warm: connections, lookups
    pool: Any = api.services.queries.store.datastore.pool
    for conn in [*pool._pool, *pool._in_use.values()]:
        conn._sqlite_conn.set_trace_callback(trace)
    r = api.client.get(f"/cases/{case_id}/history", headers=headers)
    for conn in [*pool._pool, *pool._in_use.values()]:
        conn._sqlite_conn.set_trace_callback(None)

    assert r.status_code == 200, r.text
    threads = {t for t, s in seen if s.startswith("INSERT INTO access_log")}
    assert len(threads) == 1, seen  # the request's own thread
    mine = [s for t, s in seen if t in threads]
    reads = [s for s in mine if "access_log" not in s and s not in ("BEGIN", "COMMIT", "ROLLBACK")]
    assert len(reads) == 1, reads


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_token_is_verified_once_then_remembered(api: Api) -> None:
    """The role gate and the endpoint's caller are one verification, and a token sent again is
    not verified again (the same real verifier, counting); another token is."""
    verified: list[str] = []
    verifier: Any = api.services.verifier

    class Counting(type(verifier)):  # type: ignore[misc]
        def verify(self, token: str) -> Any:
            verified.append(token)
            return super().verify(token)

    verifier.__class__ = Counting
    case_id = api.register()["case_id"]
    assert len(verified) == 1
    api.settle()
    assert api.client.get(f"/cases/{case_id}/history", headers=api.agentur).status_code == 200
    assert len(verified) == 1
    assert api.client.get(f"/cases/{case_id}", headers=auth("cw-2", AGENTUR)).status_code == 200
    assert len(verified) == 2


def test_the_history_answer_is_exactly_the_documented_schema(api: Api) -> None:
    """The history is encoded straight from the read model's rows (no model in between): each
    answer, for readers who see everything and for readers with values withheld, is exactly
    what ``HistoryOut`` documents, no field missing, none extra (none of the row's own)."""
    from api.schemas.cases import HistoryOut

    case_id = api.register()["case_id"]
    api.record(case_id, {"type": "NoteRecorded", "text": "Rückenschmerzen", "category": "health"})
    api.record(case_id, {"type": "NoteRecorded", "text": "Termin vereinbart"})
    api.settle()  # the readers wrote nothing: they do not wait for the Agentur's writes
    withheld = 0
    for role in ("caseworker", "team_lead", "admin"):
        body = api.history(case_id, auth(f"r-{role}", AGENTUR, role))
        assert HistoryOut.model_validate(body).model_dump(mode="json") == body, role
        assert [e["version"] for e in body["entries"]] == [1, 2, 3]
        withheld += sum(bool(e["withheld"]) for e in body["entries"])
    assert withheld  # one of them may not read the health note


@given(texts=st.lists(st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"),
                              min_size=1).filter(str.strip), min_size=1, max_size=3))  # fmt: skip
@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_the_history_the_database_encodes_is_the_one_the_rows_make(
    api: Api, texts: list[str]
) -> None:
    """On PostgreSQL the entries are put together as JSON text by the database; on SQLite (and
    for readers with something withheld) from the rows. Both read the same, whatever the text:
    quotes, backslashes, control characters, umlauts, emoji."""
    case_id = api.register()["case_id"]
    for text in texts:
        api.record(case_id, {"type": "NoteRecorded", "text": text})
    api.settle()
    queries = api.services.queries
    found = queries.case_with_history(case_id)
    assert found is not None
    _, document = found
    found_rows = queries._case_with_history_rows(
        queries._table("case_summary", "case_summary") or "",
        queries._table("case_history", "case_history") or "",
        case_id,
    )
    assert found_rows is not None
    rows = found_rows[1]
    expected = [{k: v for k, v in r.items() if k != "erased_summary"} | {"withheld": []}
                for r in rows]  # fmt: skip
    assert json.loads(document.document) == expected
    assert len(expected) == len(texts) + 1  # the registration, then each note
    assert document.history().entries == rows  # with the summaries as they read once erased
    assert (document.version, document.digest) == (rows[-1]["version"], rows[-1]["hash"])


def a_read_history(api: Api, note: str) -> tuple[str, dict[str, str], Any, Any, str]:
    """A case with a note, read once: its id, the reader's headers, that answer, the view store
    and the active history table."""
    case_id = api.register()["case_id"]
    api.record(case_id, {"type": "NoteRecorded", "text": note})
    api.settle()
    _, headers = reader()
    before = api.history(case_id, headers)
    store = api.services.queries.store
    generation = store.active_generation("case_history")
    assert generation is not None
    return case_id, headers, before, store, schema.table("case_history", generation)


def test_a_history_built_before_the_entries_were_kept_is_read_from_its_columns(api: Api) -> None:
    """After an upgrade the history generation built by an earlier projection version serves
    until its rebuild is swapped in: its rows have no ``shown`` column. A read then takes the
    entries from the columns, the same answer, instead of failing on the missing column."""
    case_id, headers, before, store, table = a_read_history(api, "Sprachkurs B1 begonnen")
    generation = store.active_generation("case_history")
    version = "UPDATE projection_generations SET version = %s WHERE name = %s AND generation = %s"
    with store.cursor(commit=True) as curs:
        curs.execute(f"ALTER TABLE {table} DROP COLUMN shown")
        curs.execute(store.sql(version), (2, "case_history", generation))
    api.services.queries.forget_generations()
    try:
        assert api.history(case_id, headers) == before
    finally:  # the module's database serves the tests after this one: as the projection left it
        with store.cursor(commit=True) as curs:
            curs.execute(f"ALTER TABLE {table} ADD COLUMN shown TEXT")
            curs.execute(store.sql(version), (SHOWN_SINCE, "case_history", generation))
        api.services.queries.forget_generations()


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_row_without_its_entry_is_read_from_its_columns(api: Api) -> None:
    """A history row whose entry as shown is missing (``shown`` NULL) in a generation that keeps
    entries: the read takes every entry from the columns, the same answer, instead of failing
    on the missing one or answering a partial history."""
    case_id, headers, before, store, table = a_read_history(api, "Bewerbung geschrieben")
    with store.cursor(commit=True) as curs:
        curs.execute(
            f"UPDATE {table} SET shown = NULL WHERE case_id = %s AND version = 2",
            (case_id,),
        )
    assert api.history(case_id, headers) == before
