"""The writers' bulk writes (``BatchWriter.insert`` and ``replace``): on PostgreSQL a ``COPY``
(and a delete by one array of keys), elsewhere a statement per row. The rows come back as sent
on both backends: NULLs, integers beyond 32 bits, quotes, backslashes, tabs and line breaks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from adapters.views import schema
from adapters.views.summary_writer import SUMMARY_COLUMNS
from domain.application import StaffelApplication
from workers.projections import build_view_store

COLUMNS = ("case_id", "org", "follow_up_id", "assignee", "due_on", "state", "doc")


def test_rows_are_stored_as_given_and_replaced_by_key(
    make_app: Callable[..., StaffelApplication],
) -> None:
    store = build_view_store(make_app())
    generation = store.new_generation("follow_ups", 1, active=True)
    table = schema.table("follow_ups", generation)
    cases = schema.table("follow_up_cases", generation)
    writer_class = store.WRITERS["follow_ups"]
    rows: list[tuple[Any, ...]] = [
        (f"case-{i}", "jobcenter-heinsberg", f"fu-{i}", None, "2022-06-08", "open",
         '{"text": "Übergabe prüfen \\" \' \\\\ ß\\t\\n"}\t\n\\N')
        for i in range(3)
    ]  # fmt: skip
    with store.cursor(commit=True) as curs:
        writer = writer_class(
            curs, generation, store.sql, store.SECURE_DELETE, copy_rows=store.COPY_ROWS
        )
        writer.insert(table, COLUMNS, rows)  # assignee: NULL in every row
        writer.insert(cases, ("case_id", "doc"), [("case-0", "{}"), ("case-1", "[]")])
        writer.replace(cases, ("case_id", "doc"), [("case-1", '{"version": 2}')])
        writer.insert(table, COLUMNS, [])  # nothing to insert: no statement
    stored = store.rows(f"SELECT {', '.join(COLUMNS)} FROM {table} ORDER BY case_id", [])
    assert [tuple(row[c] for c in COLUMNS) for row in stored] == rows
    docs = store.rows(f"SELECT case_id, doc FROM {cases} ORDER BY case_id", [])
    assert [(r["case_id"], r["doc"]) for r in docs] == [
        ("case-0", "{}"),
        ("case-1", '{"version": 2}'),
    ]


def test_a_summary_row_comes_back_as_given(make_app: Callable[..., StaffelApplication]) -> None:
    store = build_view_store(make_app())
    generation = store.new_generation("case_summary", 1, active=True)
    table = schema.table("case_summary", generation)
    names = SUMMARY_COLUMNS
    row = (
        "case-0", "{}", "jobcenter-heinsberg", None, None, "refugee", "none", None, "haddad amira",
        None, "2022-05-01", 0, None, 7, "2022-06-01T10:00:00+00:00", 2**40, "haddad amira",
    )  # fmt: skip
    with store.cursor(commit=True) as curs:
        writer = store.WRITERS["case_summary"](
            curs, generation, store.sql, store.SECURE_DELETE, copy_rows=store.COPY_ROWS
        )
        writer.insert(table, names, [row])
        writer.replace(table, names, [(*row[:-2], 2**41, row[-1])])
    stored = store.rows(f"SELECT {', '.join(names)} FROM {table}", [])
    assert [tuple(r[c] for c in names) for r in stored] == [(*row[:-2], 2**41, row[-1])]
