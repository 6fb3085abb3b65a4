"""Signing in through the organisation's identity provider (ADR 0015): the authorization code
flow with PKCE, by Authlib's Starlette client. ``/ui/auth/sign-in`` sends the browser to the
provider; ``/ui/auth/callback`` takes it back, checks the ID token (signature, issuer,
audience, nonce), maps its claims to a principal, learns the name for the staff directory and
starts a server-side session. Every failure is a German page that says what went wrong."""

from __future__ import annotations

import time
from typing import Annotated, Any

import httpx
import structlog
from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from joserfc.errors import JoseError

from adapters.auth import TokenError, UnknownOrganisationError
from adapters.claims import ClaimError, claim_at
from adapters.oidc_client import OAuthError
from api.identity import require_known_org
from api.web.core import SESSION_COOKIE, ServicesDep, WebRoute, error_page, redirect, set_cookie
from api.web.signin import TOKEN_TTL, safe_next, signed_in
from bootstrap import Services, claims_mapping
from domain.principal import Principal

router = APIRouter(prefix="/ui/auth", route_class=WebRoute, include_in_schema=False)
PENDING_COOKIE = "staffel_sign_in"
CALLBACK = "/ui/auth/callback"
log = structlog.get_logger()

AGAIN = " Bitte melden Sie sich erneut an."
STALE = "Diese Anmeldung ist abgelaufen oder wurde schon abgeschlossen." + AGAIN
UNREACHABLE = (
    "Der Anmeldedienst Ihrer Behörde ist gerade nicht erreichbar. Bitte versuchen Sie es in"
    " einigen Minuten noch einmal."
)
DENIED = "Der Anmeldedienst hat die Anmeldung nicht bestätigt"
INVALID = "Die Antwort des Anmeldedienstes ließ sich nicht prüfen." + AGAIN
ASK_ADMIN = " Bitte wenden Sie sich an die Administration Ihres Anmeldedienstes."


def public_base(request: Request, services: Services) -> str:
    configured = services.settings.public_url
    return (configured or str(request.base_url)).rstrip("/")


def failed(request: Request, status: int, message: str) -> Response:
    response = error_page(request, status, message, "Anmeldung fehlgeschlagen")
    response.delete_cookie(PENDING_COOKIE, path="/ui")
    return response


@router.get("/sign-in")
async def start(
    request: Request,
    services: ServicesDep,
    next: Annotated[str | None, Query(max_length=500)] = None,  # the query parameter's name
) -> Response:
    client = services.oidc
    if client is None:
        return redirect("/ui/sign-in")
    session: dict[str, Any] = {}
    request.scope["session"] = session  # Authlib's place for state, nonce and PKCE verifier
    try:
        to_provider: Response = await client.authorize_redirect(
            request, public_base(request, services) + CALLBACK
        )
    except (httpx.HTTPError, ValueError, RuntimeError) as e:
        log.warning("oidc_discovery_failed", error=type(e).__name__)
        return failed(request, 502, UNREACHABLE)
    pending = {"session": session, "next": safe_next(next)}
    pending_id = await run_in_threadpool(services.sessions.hold, pending)
    set_cookie(to_provider, request, PENDING_COOKIE, pending_id, samesite="lax")
    return to_provider


@router.get("/callback")
async def callback(request: Request, services: ServicesDep) -> Response:
    client = services.oidc
    pending_id = request.cookies.get(PENDING_COOKIE)
    if client is None or not pending_id:
        return failed(request, 400, STALE)
    pending = await run_in_threadpool(services.sessions.take, pending_id)
    if pending is None:
        return failed(request, 400, STALE)
    request.scope["session"] = pending["session"]
    try:
        token = await client.authorize_access_token(request)
    except OAuthError as e:
        log.info("oidc_sign_in_refused", error=e.error)
        if e.error == "access_denied":
            return failed(request, 401, DENIED + ": Sie haben sie abgebrochen." + AGAIN)
        return failed(request, 401, f"{DENIED} ({e.error})." + AGAIN)
    except httpx.HTTPError as e:
        log.warning("oidc_provider_unreachable", error=type(e).__name__)
        return failed(request, 502, UNREACHABLE)
    except (JoseError, ValueError, KeyError, TypeError) as e:
        log.warning("oidc_id_token_invalid", error=type(e).__name__)
        return failed(request, 401, INVALID)
    claims = dict(token.get("userinfo") or {})
    try:
        claims = await with_userinfo(client, token, claims, services)
    except (httpx.HTTPError, ValueError) as e:  # e.g. an access token only for Staffel's API
        log.info("oidc_userinfo_unavailable", error=type(e).__name__)
    try:
        principal = await run_in_threadpool(principal_of, services, claims)
    except ClaimError as e:
        return failed(request, 403, claim_refusal(services, e))
    except UnknownOrganisationError as e:
        message = f"Ihre Organisation „{e.org}“ ist in diesem Dienst nicht bekannt." + ASK_ADMIN
        return failed(request, 403, message)
    except TokenError:
        return failed(request, 401, INVALID)
    target, id_token = pending.get("next"), token.get("id_token")
    response = await run_in_threadpool(
        lambda: signed_in(request, services, principal, target, id_token)
    )
    response.delete_cookie(PENDING_COOKIE, path="/ui")
    return response


async def with_userinfo(
    client: Any, token: dict[str, Any], claims: dict[str, Any], services: Services
) -> dict[str, Any]:
    """The ID token's claims, completed from the userinfo endpoint where the ID token lacks
    the organisation, the roles, the name or the e-mail address (providers that put them only
    there, as OpenID Connect allows). The ID token's own claims win; userinfo of another
    ``sub`` is ignored."""
    settings = services.settings
    paths = (settings.oidc_org_claim, settings.oidc_roles_claim, settings.oidc_name_claim,
             settings.oidc_email_claim)  # fmt: skip
    if all(claim_at(claims, path) is not None for path in paths):
        return claims
    extra = dict(await client.userinfo(token=token))
    if extra.get("sub") != claims.get("sub"):
        return claims
    return {**extra, **claims}


def principal_of(services: Services, claims: dict[str, Any]) -> Principal:
    """The ID token's claims mapped; the session lasts the usual working day, bounded by the
    maximum token lifetime (the ID token itself often lives only minutes)."""
    settings = services.settings
    expires_at = int(time.time()) + min(TOKEN_TTL, settings.jwt_max_lifetime_seconds)
    principal = claims_mapping(settings).principal(claims, expires_at)
    require_known_org(services, principal)
    services.directory.learn(principal)
    return principal


def claim_refusal(services: Services, error: ClaimError) -> str:
    """Why the provider's answer names no usable person, organisation or role, in German."""
    settings = services.settings
    detail = str(error)
    if "organisation" in detail:
        what = f"keine Organisation (Angabe „{settings.oidc_org_claim}“)"
    elif "Staffel role" in detail:
        what = f"keine Rolle dieses Dienstes (Angabe „{settings.oidc_roles_claim}“)"
    elif "roles" in detail:
        what = f"keine Rollen (Angabe „{settings.oidc_roles_claim}“)"
    else:
        what = "keinen gültigen Namen oder keine gültige Kennung"
    return f"Ihr Anmeldedienst hat für Ihr Konto {what} übermittelt." + ASK_ADMIN


__all__ = ["SESSION_COOKIE", "router"]
