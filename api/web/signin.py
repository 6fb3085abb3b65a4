"""Signing in: the identity provider's token pasted into a form, or (demo) a demo user picked from
a list, whose token is minted here. The session cookie holds the signed token."""

from __future__ import annotations

import secrets
import time
from typing import Annotated

import httpx
import structlog
from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from adapters.auth import TokenError, UnknownOrganisationError, mint
from adapters.oidc_client import logout_url
from api.identity import TokenTooLargeError, authenticate
from api.web.core import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    FormDep,
    ServicesDep,
    WebPrincipal,
    WebRoute,
    redirect,
    render,
    set_cookie,
)
from api.web.text import ROLES
from bootstrap import Services, jwt_secret
from demo.seed import DEMO_USERS, demo_address
from domain.principal import STAFF_ROLES, Principal, Role

router = APIRouter(prefix="/ui", route_class=WebRoute, include_in_schema=False)
TOKEN_TTL = 8 * 3600
log = structlog.get_logger()
INVALID_TOKEN = "Dieser Zugangstoken ist ungültig oder abgelaufen."  # noqa: S105 (a message)


def safe_next(target: str | None) -> str:
    """Only a page of this interface: never another site (``//host``, ``https://...``)."""
    if target and target.startswith("/ui") and not target.startswith("//"):
        return target
    return "/ui"


def signed_in(
    request: Request,
    services: Services,
    principal: Principal,
    target: str | None,
    id_token: str | None = None,
) -> Response:
    """A new session in the database; the cookie holds only its id (ADR 0009). ``id_token``:
    the provider's, kept for its logout (ADR 0015)."""
    expires_at = principal.expires_at or int(time.time()) + TOKEN_TTL
    session_id = services.sessions.start(principal, expires_at, id_token)
    response = redirect(safe_next(target))
    set_cookie(response, request, SESSION_COOKIE, session_id, samesite="lax")
    # a fresh CSRF token for the new session
    set_cookie(response, request, CSRF_COOKIE, secrets.token_urlsafe(32), samesite="strict")
    return response


@router.get("/sign-in")
def sign_in_page(
    request: Request,
    services: ServicesDep,
    next: Annotated[str | None, Query(max_length=500)] = None,  # the query parameter's name
    reason: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    users = [
        {"sub": sub, "name": name, "org": org, "role": ROLES[Role(role)]}
        for sub, name, org, role in DEMO_USERS
    ]
    return render(
        request,
        "sign_in.html",
        title="Anmelden",
        demo=services.settings.demo,
        users=users,
        next=safe_next(next),
        expired=reason == "expired",
        signed_out=reason == "signed-out",
        provider=services.oidc is not None,
    )


@router.post("/sign-in")
def sign_in(request: Request, services: ServicesDep, form: FormDep) -> Response:
    token = form.get("token", "").strip().removeprefix("Bearer ").strip()
    try:
        principal = authenticate(services, token)
    except TokenError as e:
        return render(
            request,
            "sign_in.html",
            status_code=401,
            title="Anmelden",
            demo=services.settings.demo,
            users=[],
            next=safe_next(form.get("next")),
            provider=services.oidc is not None,
            token_error=refusal(services, e),
        )
    return signed_in(request, services, principal, form.get("next"))


def refusal(services: Services, error: TokenError) -> str:
    """Why a pasted token is refused, in German."""
    match error:
        case TokenTooLargeError():
            limit = services.settings.jwt_max_bytes
            return f"Dieser Zugangstoken ist zu lang (höchstens {limit} Zeichen)."
        case UnknownOrganisationError():
            return f"Die Organisation „{error.org}“ ist in diesem Dienst nicht bekannt."
    return INVALID_TOKEN


@router.post("/sign-in/demo")
def sign_in_demo(request: Request, services: ServicesDep, form: FormDep) -> Response:
    secret = jwt_secret(services.settings)
    user = next((u for u in DEMO_USERS if u[0] == form.get("sub")), None)
    if not services.settings.demo or secret is None or user is None:
        return redirect("/ui/sign-in")
    sub, name, org, role = user
    settings = services.settings
    token = mint(
        secret,
        sub=sub,
        org=org,
        roles=[role],
        name=name,
        email=demo_address(name),
        ttl=min(TOKEN_TTL, settings.jwt_max_lifetime_seconds),
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
    )
    return signed_in(request, services, authenticate(services, token), form.get("next"))


@router.post("/sign-out")
async def sign_out(request: Request, services: ServicesDep, form: FormDep) -> Response:
    """Ends the session for good: its row is deleted, the old cookie names nothing any more.
    Signed in through the provider, the browser goes on to the provider's logout (RP-initiated
    logout, where its discovery names an ``end_session_endpoint``) and comes back to the
    sign-in page; otherwise straight to the sign-in page."""
    session_id = request.cookies.get(SESSION_COOKIE)
    id_token = await run_in_threadpool(services.sessions.end, session_id) if session_id else None
    target = "/ui/sign-in?reason=signed-out"
    if services.oidc is not None and id_token is not None:
        base = (services.settings.public_url or str(request.base_url)).rstrip("/")
        try:
            target = await logout_url(services.oidc, id_token, base + target) or target
        except (httpx.HTTPError, ValueError) as e:  # the Staffel session has ended all the same
            log.warning("oidc_logout_unavailable", error=type(e).__name__)
    response = redirect(target)
    response.delete_cookie(SESSION_COOKIE, path="/ui")
    return response


@router.get("")
def start(request: Request, principal: WebPrincipal) -> Response:
    if principal.has(*STAFF_ROLES, Role.AUDITOR):
        return redirect("/ui/cases")
    if principal.has(Role.VOLUNTEER):
        return redirect("/ui/mentoring")
    if principal.has(Role.EMPLOYER):
        return redirect("/ui/offers")
    return render(request, "start.html", title="Willkommen")
