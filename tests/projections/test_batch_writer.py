"""The writers' one-statement insert (``BatchWriter.insert``): on PostgreSQL one binary array per
column, each cast to its column's type. The rows come back as sent on both backends, also when a
column holds no value in the whole batch (an array of NULLs has no type of its own)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from adapters.views import schema
from adapters.views.summary_writer import SUMMARY_COLUMNS
from domain.application import StaffelApplication
from workers.projections import build_view_store

COLUMNS = ("case_id", "org", "follow_up_id", "assignee", "due_on", "state", "doc")


def test_insert_stores_every_row_as_given_and_upserts(
    make_app: Callable[..., StaffelApplication],
) -> None:
    store = build_view_store(make_app())
    generation = store.new_generation("follow_ups", 1, active=True)
    table = schema.table("follow_ups", generation)
    cases = schema.table("follow_up_cases", generation)
    writer_class = store.WRITERS["follow_ups"]
    rows: list[tuple[Any, ...]] = [
        (f"case-{i}", "jobcenter-heinsberg", f"fu-{i}", None, "2022-06-08", "open",
         '{"text": "Übergabe prüfen \\" \' \\\\ ß"}')
        for i in range(3)
    ]  # fmt: skip
    with store.cursor(commit=True) as curs:
        writer = writer_class(
            curs, generation, store.sql, store.SECURE_DELETE, rows_as_arrays=store.ROWS_AS_ARRAYS
        )
        writer.insert(table, COLUMNS, rows)  # assignee: NULL in every row
        writer.insert(cases, ("case_id", "doc"), [("case-0", "{}"), ("case-1", "[]")])
        writer.insert(
            cases,
            ("case_id", "doc"),
            [("case-1", '{"version": 2}')],
            "ON CONFLICT (case_id) DO UPDATE SET doc = excluded.doc",
        )
        writer.insert(table, COLUMNS, [])  # nothing to insert: no statement
    stored = store.rows(f"SELECT {', '.join(COLUMNS)} FROM {table} ORDER BY case_id", [])
    assert [tuple(row[c] for c in COLUMNS) for row in stored] == rows
    docs = store.rows(f"SELECT case_id, doc FROM {cases} ORDER BY case_id", [])
    assert [(r["case_id"], r["doc"]) for r in docs] == [
        ("case-0", "{}"),
        ("case-1", '{"version": 2}'),
    ]


def test_insert_casts_each_column_to_its_type(make_app: Callable[..., StaffelApplication]) -> None:
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
            curs, generation, store.sql, store.SECURE_DELETE, rows_as_arrays=store.ROWS_AS_ARRAYS
        )
        writer.insert(table, names, [row])  # support_need (INTEGER): NULL in every row
    stored = store.rows(f"SELECT {', '.join(names)} FROM {table}", [])
    assert [tuple(r[c] for c in names) for r in stored] == [row]
