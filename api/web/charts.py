"""Charts as server-side SVG, plain enough for a slide: bars, columns, a share and a distribution.
Presentation attributes only (no ``style``), so the strict Content-Security-Policy holds; each
chart names itself for screen readers, and the page shows the same numbers as a table."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

from adapters import german

INK, BAR, ACCENT = "#1b1b1b", "#0b4ea2", "#a4001d"
FONT = 'font-family="Liberation Sans, Arial, sans-serif" font-size="13"'


def _text(
    x: float, y: float, content: object, anchor: str = "start", fill: str = INK, **attrs: str
) -> str:
    more = "".join(f' {k}="{v}"' for k, v in attrs.items())
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{fill}"'
        f" {FONT}{more}>{escape(str(content))}</text>"
    )


def _rect(x: float, y: float, w: float, h: float, fill: str = BAR, **attrs: str) -> str:
    more = "".join(f' {k}="{v}"' for k, v in attrs.items())
    return f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{fill}"{more}/>'


def _line(x1: float, y1: float, x2: float, y2: float, colour: str = INK, width: int = 1) -> str:
    return (
        f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}"'
        f' stroke="{colour}" stroke-width="{width}"/>'
    )


def _frame(key: str, title: str, width: int, height: int, body: list[str], desc: str) -> Markup:
    # every text inserted into ``body`` went through ``escape``; numbers are formatted here
    return Markup(  # noqa: S704
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}"'
        f' width="{width}" height="{height}" role="img" aria-labelledby="{key}-t {key}-d">'
        f'<title id="{key}-t">{escape(title)}</title><desc id="{key}-d">{escape(desc)}</desc>'
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>{"".join(body)}</svg>'
    )


def number(value: float) -> str:
    return german.decimal(value)


def _describe(items: Sequence[tuple[str, float]]) -> str:
    return "; ".join(f"{label}: {number(value)}" for label, value in items) or "keine Daten"


def bars(key: str, title: str, items: Sequence[tuple[str, float]], width: int = 640) -> Markup:
    """Horizontal bars, one row per item, the value written at the end of each bar."""
    row, left, right = 30, 210, 60
    height = max(1, len(items)) * row + 20
    top = max((v for _, v in items), default=0) or 1
    span = width - left - right
    body = [] if items else [_text(10, 25, "keine Daten")]
    for i, (label, value) in enumerate(items):
        y = 10 + i * row
        length = max(2.0, span * value / top) if value else 0
        body += [
            _text(left - 8, y + 19, label[:32], "end"),
            _rect(left, y + 4, length, row - 10),
            _text(left + length + 6, y + 19, number(value)),
        ]
    return _frame(key, title, width, height, body, _describe(items))


def columns(key: str, title: str, items: Sequence[tuple[str, float]], width: int = 640) -> Markup:
    """Vertical columns over a time axis (e.g. ISO weeks), every label below its column."""
    height, bottom, top_pad, left = 240, 60, 20, 40
    slot = (width - left - 10) / max(1, len(items))
    top = max((v for _, v in items), default=0) or 1
    plot, base = height - bottom - top_pad, height - bottom
    body = [_line(left, base, width - 10, base)]
    if not items:
        body.append(_text(left, 40, "keine Daten"))
    for i, (label, value) in enumerate(items):
        x, h = left + i * slot, plot * value / top
        middle = x + slot / 2
        body += [
            _rect(x + slot * 0.15, base - h, slot * 0.7, h),
            _text(middle, base - h - 4, number(value), "middle"),
            _text(
                middle, base + 16, label, "end", transform=f"rotate(-40 {middle:.1f} {base + 16})"
            ),
        ]
    return _frame(key, title, width, height, body, _describe(items))


def share(key: str, title: str, value: float | None, width: int = 640) -> Markup:
    """A share as one bar split in two, with the percentage written out."""
    height, left, span = 80, 10, width - 20
    if value is None:
        body = [_text(left, 40, "noch keine Kompetenzfeststellungen")]
        return _frame(key, title, width, height, body, "keine Daten")
    percent = round(value * 100)
    body = [
        _rect(left, 10, span, 30, "#ffffff", stroke=INK),
        _rect(left, 10, span * value, 30),
        _text(left, 62, f"{percent} % mit besonderem Förderbedarf"),
        _text(width - 10, 62, f"{100 - percent} % ohne", "end"),
    ]
    return _frame(key, title, width, height, body, f"{percent} % mit besonderem Förderbedarf")


def distribution(key: str, title: str, days: Sequence[int], width: int = 640) -> Markup:
    """Each case as a dot on a day axis, and the median as a line."""
    height, left, right, axis = 110, 30, 30, 70
    if not days:
        body = [_text(left, 40, "noch keine angenommenen Übergaben")]
        return _frame(key, title, width, height, body, "keine Daten")
    top = max(max(days), 1)

    def x(d: float) -> float:
        return left + (width - left - right) * d / top

    ordered = sorted(days)
    mid = len(ordered) // 2
    median = ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
    body = [_line(left, axis, width - right, axis)]
    body += [_text(x(t), axis + 18, t, "middle") for t in sorted({0, top // 2, top})]
    stacked: dict[int, int] = {}
    for d in ordered:
        stacked[d] = stacked.get(d, 0) + 1
        body.append(f'<circle cx="{x(d):.1f}" cy="{axis - 8 * stacked[d]}" r="4" fill="{BAR}"/>')
    body += [
        _line(x(median), 10, x(median), axis, ACCENT, 2),
        _text(x(median) + 4, 20, f"Median {number(median)} Tage", fill=ACCENT),
        _text(width - right, axis + 36, "Tage", "end"),
    ]
    desc = f"{len(days)} Übergaben, Median {number(median)} Tage, längste {top} Tage"
    return _frame(key, title, width, height, body, desc)
