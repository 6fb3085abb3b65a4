"""The working group's monthly report (ADR 0020): the figures of ``service_layer.statistics`` with
the statistics page's SVG charts (``api.web.charts``), one template (``statistics_report.html``)
rendered by WeasyPrint with media "print" and its stylesheet inlined, so it fetches nothing."""

from __future__ import annotations

from datetime import datetime

from fastapi.responses import Response
from markupsafe import Markup
from weasyprint import HTML

from api.web import charts
from api.web.core import HERE, templates
from service_layer.statistics import Figures

STYLESHEET = HERE / "static" / "statistik-bericht.css"


def charts_of(figures: Figures) -> dict[str, Markup]:
    """The page's charts, from the same rows as its tables."""
    t = figures.tables
    return {
        "weeks": charts.columns("c-weeks", t["weeks"].title, t["weeks"].rows),
        "offices": charts.bars("c-offices", t["offices"].title, t["offices"].rows),
        "counsellors": charts.bars("c-counsellors", t["counsellors"].title, t["counsellors"].rows),
        "support": charts.share("c-support", t["support"].title, figures.support_share),
        "measures": charts.bars("c-measures", t["measures"].title, t["measures"].rows),
        "placements": charts.bars("c-placements", t["placements"].title, t["placements"].rows),
        "days": charts.distribution("c-days", t["days"].title, figures.days),
    }


def html(figures: Figures) -> str:
    return templates.env.get_template("statistics_report.html").render(
        f=figures,
        charts=charts_of(figures),
        css=STYLESHEET.read_text("utf-8"),
        as_of=datetime.fromisoformat(figures.as_of),
        number=charts.number,
    )


def pdf(figures: Figures) -> bytes:
    return bytes(HTML(string=html(figures), media_type="print").write_pdf())


def pdf_response(figures: Figures) -> Response:
    name = f"statistik-bericht-{figures.org}-{figures.period.slug}.pdf"
    return Response(
        pdf(figures),
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
