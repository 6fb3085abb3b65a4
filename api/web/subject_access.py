"""The subject access report as a printable German page (``subject_access.html``): for the JSON
API's ``text/html`` variant and at ``/ui/cases/{id}/subject-access-report`` for a signed-in user.

The page carries its own style sheet, for print above all (A4, table heads repeated on each page,
no rows split), so a saved or printed copy looks the same anywhere. The Content-Security-Policy
allows exactly that style block by its hash; nothing else inline.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Coroutine
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from api.deps import read_your_writes_at_first_read
from api.web.core import SECURITY_HEADERS, ServicesDep, WebPrincipal, WebRoute, templates
from bootstrap import Services
from projections import labels as de
from service_layer import data_protection, handover_sheet, statistics

CSS = """
body { font: 11pt/1.45 system-ui, "Segoe UI", Arial, sans-serif; color: #111; margin: 2rem auto;
  max-width: 62rem; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin: 0 0 .3rem; }
h2 { font-size: 1.2rem; margin: 1.8rem 0 .5rem; border-bottom: 1px solid #999; }
h3 { font-size: 1rem; margin: 1.2rem 0 .4rem; }
table { border-collapse: collapse; width: 100%; margin: .4rem 0 1rem; }
th, td { border: 1px solid #bbb; padding: .25rem .4rem; text-align: left; vertical-align: top; }
th { background: #eee; }
dl.facts { display: grid; grid-template-columns: 14rem 1fr; gap: .2rem 1rem; margin: 0; }
dl.facts dt { font-weight: 600; }
dl.facts dd { margin: 0; }
.mono { font-family: ui-monospace, Consolas, monospace; font-size: .9em; }
.notice { border: 2px solid #8a5a00; background: #fff6e0; padding: .6rem .8rem; }
.hint { color: #444; }
@media screen and (max-width: 40rem) {
  body { margin: 1rem auto; padding: 0 .75rem; }
  dl.facts { grid-template-columns: minmax(0, 1fr); }
  dd, td { overflow-wrap: anywhere; }
  table { display: block; overflow-x: auto; max-width: 100%; }
}
@media print {
  @page { size: A4; margin: 16mm 14mm 18mm; }
  body { margin: 0; max-width: none; padding: 0; font-size: 10pt; }
  .screen-only { display: none; }
  thead { display: table-header-group; }
  tr, dl.facts, .notice { break-inside: avoid; }
  h2, h3 { break-after: avoid; }
  th { background: none; }
  a { color: inherit; text-decoration: none; }
}
""".strip()
CSP = SECURITY_HEADERS["Content-Security-Policy"].replace(
    "style-src 'self'",
    "style-src 'self' 'sha256-"
    + base64.b64encode(hashlib.sha256(CSS.encode()).digest()).decode()
    + "'",
)
WEB_ENDPOINT = "GET /ui/cases/{id}/subject-access-report"
# what each read of the access log was, in words (issue 18): the endpoint stays in the log
READS = {
    "GET /ui/cases": "Fallliste angesehen",
    "GET /cases": "Fallliste abgerufen (Schnittstelle)",
    "GET /ui/cases/{id}": "Fallakte angesehen",
    "GET /cases/{id}": "Fallakte abgerufen (Schnittstelle)",
    "GET /cases/{id}/history": "Verlauf abgerufen (Schnittstelle)",
    "GET /cases/{id}/offers": "Passende Angebote gesucht",
    "GET /offers/{id}/candidates": "Als passende Person für ein Angebot angezeigt",
    "GET /follow-ups": "Wiedervorlagen angesehen",
    "GET /ui/handovers": "Übergabeliste angesehen",
    "GET /ui/audit": "Prüfprotokoll angesehen",
    "GET /ui/audit/cases/{id}": "Fallakte geprüft",
    "GET /audit/cases/{id}/state": "Fallakte geprüft (Schnittstelle)",
    "GET /audit/events": "Prüfprotokoll abgerufen (Schnittstelle)",
    "GET /volunteers/{id}/mentees": "Von der Patin oder dem Paten angesehen",
    "GET /cases/{id}/subject-access-report": "Auskunft nach Art. 15 DSGVO erstellt",
    WEB_ENDPOINT: "Auskunft nach Art. 15 DSGVO erstellt",
}
READ_UNKNOWN = "Lesezugriff"
LABELS = {
    "consent": {p.value: label for p, label in de.CONSENT.items()},
    "placement": {k.value: label for k, label in de.PLACEMENT.items()},
    "bundle": {"bundle": "Fallakte (Bündel)", "receipt": "Empfangsbestätigung",
               "answer": "Fallakte (Antwort auf Empfangsbestätigung)"},
    "events": {"PersonalDataErased": "Personenbezogene Daten gelöscht"},
    "reads": {**READS, **handover_sheet.ACTIONS, **statistics.ACTIONS},
    "delivery": {"pending": "wird zugestellt", "delivered": "zugestellt", "failed": "gescheitert",
                 "refused": "abgelehnt"},
}  # fmt: skip


class ReportRoute(WebRoute):
    """A web route whose report page keeps its own policy (``WebRoute`` sets the site's)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def with_style(request: Request) -> Response:
            response = await handle(request)
            if getattr(request.state, "report_page", False):
                response.headers["Content-Security-Policy"] = CSP
            return response

        return with_style


router = APIRouter(prefix="/ui", route_class=ReportRoute, include_in_schema=False)


def render_report(request: Request, services: Services, report: dict[str, Any]) -> HTMLResponse:
    response = templates.TemplateResponse(
        request,
        "subject_access.html",
        {"r": report, "css": CSS, "labels": LABELS, "services": services},
    )
    response.headers.update(SECURITY_HEADERS)
    response.headers["Content-Security-Policy"] = CSP
    request.state.report_page = True
    return response


@router.get("/cases/{case_id}/subject-access-report")
def show_report(
    case_id: UUID, request: Request, services: ServicesDep, principal: WebPrincipal
) -> Response:
    read_your_writes_at_first_read(request, services, principal)
    report = data_protection.report(services, principal, case_id, WEB_ENDPOINT)
    return render_report(request, services, report)
