"""Figures and lists as files for Excel (ADR 0020): CSV as German Excel opens it (UTF-8 with a
byte order mark, semicolons, decimal commas) and XLSX (openpyxl), one sheet per figure.

Text that a spreadsheet would take for a formula (starting with ``=``, ``+``, ``-``, ``@``) stays
text: in CSV behind an apostrophe, in XLSX as a string cell.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from fastapi.responses import Response
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from service_layer.statistics import Figures

Format = Literal["csv", "xlsx"]
Cell = str | int | float | None
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value}".replace(".", ",")
    if isinstance(value, int):
        return str(value)
    return f"'{value}" if value.startswith(FORMULA_START) else value


def csv_bytes(rows: Sequence[Sequence[Cell]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerows([[_csv_cell(c) for c in row] for row in rows])
    return out.getvalue().encode("utf-8-sig")


def _sheet(book: Workbook, title: str, head: Sequence[str], rows: Sequence[Sequence[Cell]]) -> None:
    sheet = book.create_sheet(title[:31])
    sheet.append(list(head))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([None if v is None else v for v in row])
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str) and cell.data_type == "f":
                cell.data_type = "s"  # a name is never a formula
    for i, name in enumerate(head):
        width = max([len(str(name)), *(len(str(r[i] or "")) for r in rows)])
        sheet.column_dimensions[get_column_letter(i + 1)].width = min(60, width + 2)
    sheet.freeze_panes = "A2"


def xlsx_bytes(sheets: Sequence[tuple[str, Sequence[str], Sequence[Sequence[Cell]]]]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for title, head, rows in sheets:
        _sheet(book, title, head, rows)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def about(figures: Figures) -> list[tuple[str, str]]:
    return [
        ("Organisation", figures.org_name),
        ("Zeitraum", figures.period.label),
        ("Stand", datetime.fromisoformat(figures.as_of).strftime("%d.%m.%Y %H:%M UTC")),
    ]


def statistics_file(figures: Figures, kind: Format) -> Response:
    """The figures as CSV (one table: section, label, value) or XLSX (an overview and a sheet
    per figure), named after the organisation and the period."""
    overview = [(k.label + (" (%)" if k.unit else ""), k.value) for k in figures.key_figures]
    if kind == "csv":
        rows: list[Sequence[Cell]] = [("Abschnitt", "Merkmal", "Wert")]
        rows += [("Angaben", label, value) for label, value in about(figures)]
        rows += [("Kennzahlen", label, value) for label, value in overview]
        for table in figures.tables.values():
            rows += [(table.title, label, n) for label, n in table.rows]
        body = csv_bytes(rows)
    else:
        body = xlsx_bytes(
            [("Übersicht", ("Kennzahl", "Wert"), [*about(figures), *overview])]
            + [(t.sheet, t.head, t.rows) for t in figures.tables.values()]
        )
    return attachment(body, kind, f"statistik-{figures.org}-{figures.period.slug}")


def attachment(body: bytes, kind: Format, stem: str) -> Response:
    return Response(
        body,
        media_type=CSV_TYPE if kind == "csv" else XLSX_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{stem}.{kind}"'},
    )
