"""The Übergabebogen as a page (``/ui/cases/{id}/uebergabebogen``) and as a PDF: one template,
``handover_sheet.html``, over one document (``service_layer.handover_sheet.build``). The PDF is
that template rendered by WeasyPrint with media "print" and the page's stylesheet inlined, so it
fetches nothing; the JSON API answers the same document (``api/routers/handover_sheet.py``)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import Response
from weasyprint import HTML

from api.deps import read_your_writes_at_first_read
from api.web.core import HERE, ServicesDep, WebPrincipal, WebRoute, finish, templates
from bootstrap import Services
from domain.principal import Principal
from service_layer import handover_sheet
from service_layer.handover_sheet import PAGE_ENDPOINT, PDF_ENDPOINT

router = APIRouter(prefix="/ui", route_class=WebRoute, include_in_schema=False)
STYLESHEET = HERE / "static" / "uebergabebogen.css"


def staff_names(services: Services) -> handover_sheet.StaffNames:
    """Staff names by login: the demo users' in the demo (the identity provider's directory is
    not ours yet); elsewhere the sheet shows a login only where the reader is that person."""
    if not services.settings.demo:
        return lambda _login: None
    from demo.seed import DEMO_USERS

    names = {sub: name for sub, name, _org, _role in DEMO_USERS}
    return names.get


def build(services: Services, principal: Principal, case_id: UUID, endpoint: str) -> dict[str, Any]:
    return handover_sheet.build(services, principal, case_id, endpoint, staff_names(services))


def html(sheet: dict[str, Any], links: dict[str, str] | None = None, *, inline: bool) -> str:
    """The sheet as HTML: with the stylesheet inline (for the PDF) or linked (for the page)."""
    css = STYLESHEET.read_text("utf-8") if inline else None
    return templates.env.get_template("handover_sheet.html").render(
        s=sheet, links=links, inline_css=css
    )


def pdf(sheet: dict[str, Any]) -> bytes:
    """The sheet as an A4 PDF (WeasyPrint, media "print"); nothing is fetched from anywhere."""
    document = HTML(string=html(sheet, inline=True), media_type="print")
    return bytes(document.write_pdf())


def filename(sheet: dict[str, Any]) -> str:
    return f"uebergabebogen-{sheet['case_id']}-v{sheet['version']}.pdf"


def pdf_response(sheet: dict[str, Any]) -> Response:
    return Response(
        pdf(sheet),
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{filename(sheet)}"'},
    )


@router.get("/cases/{case_id}/uebergabebogen")
def page(case_id: UUID, request: Request, services: ServicesDep, principal: WebPrincipal) -> Any:
    read_your_writes_at_first_read(request, services, principal)
    sheet = build(services, principal, case_id, PAGE_ENDPOINT)
    offer = sheet["handover"]
    decides = offer is not None and offer["to"]["id"] == principal.org
    links = {
        "case": f"/ui/cases/{case_id}",
        "pdf": f"/ui/cases/{case_id}/uebergabebogen.pdf",
        "handover": f"/ui/cases/{case_id}#uebergabe" if decides else "",
    }
    return finish(request, Response(html(sheet, links, inline=False), media_type="text/html"))


@router.get("/cases/{case_id}/uebergabebogen.pdf")
def page_pdf(
    case_id: UUID, request: Request, services: ServicesDep, principal: WebPrincipal
) -> Any:
    read_your_writes_at_first_read(request, services, principal)
    return finish(request, pdf_response(build(services, principal, case_id, PDF_ENDPOINT)))
