"""The web pages' plumbing: templates, the session cookie, CSRF, security headers, and a route
class that turns every refusal into a German HTML page instead of ``problem+json``."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode, urlsplit

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException

from adapters.auth import TokenError
from adapters.database import is_unavailable
from api.deps import get_services
from api.identity import require_known_org
from api.problems import DATABASE_ERRORS, DOMAIN, RETRY_AFTER, ApiError, status_of
from api.web import forms, text
from bootstrap import Services
from domain.principal import STAFF_ROLES, Principal, Role
from projections.history import corrected_value
from service_layer.access import employer_of
from service_layer.errors import ServiceError

HERE = Path(__file__).parent
SESSION_COOKIE = "staffel_session"
CSRF_COOKIE = "staffel_csrf"
COOKIE_PATH = "/ui"
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
        " form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",  # the pages hold personal data
}

templates = Jinja2Templates(directory=HERE / "templates")
text.install_filters(templates.env)
templates.env.filters["groupby_order"] = forms.groups
templates.env.filters["corrected"] = lambda value, field: corrected_value(field, value)
templates.env.globals["form_label"] = forms.label_of


class SignInRequiredError(Exception):
    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message


class CsrfError(Exception):
    pass


def is_https(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"


def csrf_token(request: Request) -> str:
    """The double-submit token: the value of the CSRF cookie, created on the first page."""
    token = getattr(request.state, "csrf", None) or request.cookies.get(CSRF_COOKIE)
    if not token:
        token = secrets.token_urlsafe(32)
        request.state.new_csrf = token
    request.state.csrf = token
    return str(token)


def set_cookie(response: Response, request: Request, name: str, value: str, **kw: Any) -> None:
    response.set_cookie(
        name, value, path=COOKIE_PATH, httponly=True, secure=is_https(request), **kw
    )


def finish(request: Request, response: Response) -> Response:
    """Security headers on every page; a new CSRF cookie where a page issued a token."""
    response.headers.update(SECURITY_HEADERS)
    services = getattr(request.app.state, "services", None)
    issuer = services.settings.oidc_issuer if services and services.oidc else None
    if issuer:  # signing out goes on to the provider's logout: a form's redirect (ADR 0015)
        parts = urlsplit(issuer)
        csp = SECURITY_HEADERS["Content-Security-Policy"]
        origin = f"{parts.scheme}://{parts.netloc}"
        response.headers["Content-Security-Policy"] = csp.replace(
            "form-action 'self'", f"form-action 'self' {origin}"
        )
    new = getattr(request.state, "new_csrf", None)
    if new:
        set_cookie(response, request, CSRF_COOKIE, new, samesite="strict")
    return response


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    principal = getattr(request.state, "principal", None)
    context.setdefault("principal", principal)
    context.setdefault("csrf", csrf_token(request))
    context.setdefault("services", getattr(request.app.state, "services", None))
    context.setdefault("is_staff", bool(principal and principal.has(*STAFF_ROLES)))
    context.setdefault("is_auditor", bool(principal and principal.has(Role.AUDITOR)))
    context.setdefault("is_volunteer", bool(principal and principal.has(Role.VOLUNTEER)))
    context.setdefault(
        "is_team_lead", bool(principal and principal.has(Role.TEAM_LEAD, Role.ADMIN))
    )
    own = employer_of(principal) if principal else None
    context.setdefault("own_employer", str(own) if own else None)
    return templates.TemplateResponse(request, template, context, status_code=status_code)


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def next_page(path: str, filters: dict[str, Any], cursor: str | None) -> str | None:
    """The link to a list's next page (None: none follows), with the filters that are set."""
    if not cursor:
        return None
    kept = {k: v for k, v in filters.items() if v}
    return f"{path}?{urlencode({**kept, 'cursor': cursor})}"


def web_principal(request: Request, services: Annotated[Services, Depends(get_services)]) -> Any:
    """The signed-in user of the session the cookie names (ADR 0009): no session, an ended or
    expired one, or a cookie that is no session id at all leads to the sign-in."""
    session_id = request.cookies.get(SESSION_COOKIE)
    if not session_id:
        raise SignInRequiredError
    principal = services.sessions.principal(session_id)
    try:
        if principal is None:
            raise TokenError("no such session")
        require_known_org(services, principal)
    except TokenError as e:
        raise SignInRequiredError("Ihre Anmeldung ist abgelaufen oder ungültig.") from e
    request.state.principal = principal
    return principal


WebPrincipal = Annotated[Principal, Depends(web_principal)]
ServicesDep = Annotated[Services, Depends(get_services)]


async def checked_form(request: Request) -> dict[str, str]:
    """The posted form, after the double-submit check: its ``csrf`` field must equal the CSRF
    cookie (which another site can neither read nor send: SameSite=Strict, HttpOnly)."""
    form = await request.form()
    sent, expected = form.get("csrf"), request.cookies.get(CSRF_COOKIE)
    if not isinstance(sent, str) or not expected or not hmac.compare_digest(sent, expected):
        raise CsrfError
    return {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf"}


FormDep = Annotated[dict[str, str], Depends(checked_form)]


def error_page(request: Request, status: int, message: str, title: str | None = None) -> Response:
    return render(
        request,
        "error.html",
        status_code=status,
        title=title or text.STATUS_TITLES.get(status, "Fehler"),
        message=message,
    )


DATABASE_UNAVAILABLE = (
    "Die Datenbank ist gerade nicht erreichbar. Bitte versuchen Sie es in einigen Sekunden noch"
    " einmal. Eine eben abgeschickte Eingabe wurde vielleicht nicht gespeichert: sehen Sie im"
    " Fall nach, bevor Sie sie wiederholen."
)


def unavailable_page(request: Request) -> Response:
    """The 503 page while the database is unreachable, with the API's ``Retry-After``."""
    response = error_page(request, 503, DATABASE_UNAVAILABLE, "Datenbank nicht erreichbar")
    response.headers["Retry-After"] = RETRY_AFTER
    return response


class WebRoute(APIRoute):
    """Pages answer in HTML: a missing session redirects to the sign-in, every refusal is a page
    in German with the status code the API would give; security headers on all of them."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                response = await handler(request)
            except SignInRequiredError as e:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                url = "/ui/sign-in?next=" + quote(target, safe="")
                response = redirect(url + "&reason=expired" if e.message else url)
                if e.message:  # the cookie names no valid session: the browser forgets it
                    response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH)
            except CsrfError:
                response = error_page(request, 403, text.CSRF_REFUSED, "Formular abgelehnt")
            except RequestValidationError:
                response = error_page(request, 404, text.NOT_FOUND)
            except HTTPException as e:
                message = text.NOT_FOUND if e.status_code == 404 else str(e.detail)
                response = error_page(request, e.status_code, message)
            except (ApiError, ServiceError) as e:
                status = status_of(e)
                response = error_page(request, status, text.api_error(status, e.detail))
            except tuple(DOMAIN) as e:
                response = error_page(request, status_of(e), text.domain_error(e))
            except DATABASE_ERRORS as e:
                if not is_unavailable(e):
                    raise
                response = unavailable_page(request)
            return finish(request, response)

        return handle
