"""Dependencies: services, the caller, read-your-writes, request fingerprints; the refusals
the partner endpoints document."""

from __future__ import annotations

import hashlib
import json
import re
from functools import partial
from typing import Annotated, Any

from fastapi import Depends, Header, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from adapters.auth import TokenError
from adapters.views.freshness import wait_before_reading
from api.identity import authenticate
from api.problems import PROBLEMS, ApiError, problem_response
from bootstrap import Services
from domain.application import StaffelApplication
from domain.principal import Principal
from domain.writes import IdempotencyKey
from service_layer.cases import actor_of

__all__ = ["actor_of"]  # re-exported: the actor of a principal's commands
bearer = HTTPBearer(auto_error=False, description="JWT issued by the agency's identity provider")


# Dependencies that neither wait nor touch a store are ``async def``: FastAPI runs a plain ``def``
# dependency in its thread pool, a hand-over to another thread and back for every one of them on
# every request (the write path's profile, issue 16). Those that may wait or read a store (the
# token's first sight writes the staff directory; read-your-writes waits) keep that part in the
# pool.


async def get_services(request: Request) -> Services:
    return services_of(request)


def services_of(request: Request) -> Services:
    """The app's services, for the dependencies every request resolves (the role gate, the
    principal, read-your-writes): FastAPI solves a shared sub-dependency's own tree again
    wherever it appears before it finds its cached value, so ``ServicesDep`` under each of them
    cost three more solves per request; the app's state needs none (issue 16)."""
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_cases(services: ServicesDep) -> StaffelApplication:
    return services.cases


CasesDep = Annotated[StaffelApplication, Depends(get_cases)]


async def get_principal(request: Request) -> Principal:
    """The caller. The app-wide role gate (``api.guard.role_gate``) has resolved it already for
    every route: its own ``Depends(bearer)`` is what documents the bearer scheme on every route.
    Declaring the scheme here again cost a solve of its own, on every request, under the
    principal and again under read-your-writes (issue 16)."""
    known: Principal | None = getattr(request.state, "bearer_principal", None)
    if known is not None:  # this request's token, verified already (``api.guard.role_gate``)
        return known
    credentials = await bearer(request)
    principal = verified_before(request, credentials)
    if principal is None:
        principal = await run_in_threadpool(
            principal_of, request, services_of(request), credentials
        )
    return principal


def verified_before(
    request: Request, credentials: HTTPAuthorizationCredentials | None
) -> Principal | None:
    """The principal of a bearer token this process verified before (``VerifiedTokens``): no
    thread, no query. None: verify it (``principal_of``)."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        return None
    services = services_of(request)
    if services.verifier is None:
        return None
    principal: Principal | None = request.app.state.verified_tokens.get(
        credentials.credentials, services.verifier.key_epoch()
    )
    if principal is not None:
        request.state.principal = request.state.bearer_principal = principal
    return principal


def principal_of(
    request: Request, services: Services, credentials: HTTPAuthorizationCredentials | None
) -> Principal:
    """The bearer token's principal, verified (may write the staff directory: not in the
    event loop); remembered for the rest of the request."""
    known: Principal | None = getattr(request.state, "bearer_principal", None)
    if known is not None:
        return known
    limit = services.settings.jwt_max_bytes
    if len(request.headers.get("authorization", "")) > limit:
        raise ApiError(
            431,
            "header-too-large",
            "Request header too large",
            f"Authorization: the header is longer than {limit} bytes",
            field="Authorization",
        )
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise TokenError("send 'Authorization: Bearer <token>'")
    epoch = services.verifier.key_epoch() if services.verifier is not None else None
    principal = authenticate(services, credentials.credentials)  # the keys of ``epoch`` or newer
    if principal.org in services.orgs and epoch is not None:  # not an employer's
        request.app.state.verified_tokens.put(credentials.credentials, principal, epoch)
    request.state.principal = request.state.bearer_principal = principal
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


async def read_your_writes(
    request: Request,
    min_position: Annotated[
        int | None,
        Query(ge=0, description="wait until the read models have processed this position"),
    ] = None,
) -> None:
    """Reads wait for ``min_position`` and for the caller's own last write: a caseworker always
    sees what they just recorded, and nobody waits for anybody else's writes. The HTTP workers
    of one ``staffel serve`` share their callers' write positions (``adapters/write_positions``,
    ADR 0013). Nothing to wait for, or already seen processed: no thread, no query.

    The wait itself runs at the route's first read of a read model (``adapters.views.freshness``),
    after the service layer's checks that need none: a request refused on the caller's role
    answers 403 at once, not 503 because the read models it would never read are behind."""
    principal = await get_principal(request)
    own = request.app.state.last_writes.get((principal.org, principal.sub))
    position = max(min_position or 0, own)
    services = services_of(request)
    if not position or (own >= (min_position or 0) and services.supervisor.has_reached(own)):
        return
    wait_before_reading(partial(wait_for_reads, request, services, principal, min_position))


def read_your_writes_at_first_read(
    request: Request, services: Services, principal: Principal
) -> None:
    """A web page's read-your-writes, as ``read_your_writes`` for the JSON routes: the page's
    first read of a read model waits for the caller's own last write (``wait_for_reads``)."""
    wait_before_reading(partial(wait_for_reads, request, services, principal))


def wait_for_reads(
    request: Request, services: Services, principal: Principal, min_position: int | None = None
) -> None:
    own = request.app.state.last_writes.get((principal.org, principal.sub))
    position = max(min_position or 0, own)
    if not position:
        return
    if min_position and min_position > own and not services.supervisor.has_reached(min_position):
        head = services.cases.recorder.max_notification_id() or 0
        if min_position > head:  # no write ever returned it: waiting would not help (not a 503)
            raise ApiError(
                422,
                "invalid-request",
                "The request is not valid",
                f"min_position: nothing has been recorded at {min_position} (the latest is {head})",
                errors=[{"field": "min_position", "message": "beyond the latest recorded event"}],
            )
    if not services.supervisor.wait_for(position, services.settings.read_wait_seconds):
        raise ApiError(
            503,
            "read-model-behind",
            "The read models have not caught up yet",
            f"position {position} not yet processed; retry shortly",
            min_position=position,
        )


ReadYourWrites = Annotated[None, Depends(read_your_writes)]


async def expected_version(
    if_match: Annotated[str | None, Header(description="the case version you read")] = None,
) -> int | None:
    if if_match is None:
        return None
    value = if_match.strip().removeprefix("W/").strip('"')
    if not re.fullmatch(r"[0-9]{1,18}", value):
        raise ApiError(
            422,
            "invalid-request",
            "The request is not valid",
            "If-Match: must be the case version you read, e.g. 7",
            errors=[{"field": "If-Match", "message": "must be a version number"}],
        )
    return int(value)


ExpectedVersion = Annotated[int | None, Depends(expected_version)]


IdempotencyHeader = Annotated[
    str | None,
    Header(alias="Idempotency-Key", max_length=200, description="repeat-safe request key"),
]


def idempotency_key(
    principal: Principal, key: str | None, method: str, path: str, body: Any
) -> IdempotencyKey | None:
    if key is None:
        return None
    fingerprint = json.dumps([method, path, body], sort_keys=True, separators=(",", ":"))
    return IdempotencyKey(
        scoped_key(principal, key), hashlib.sha256(fingerprint.encode()).hexdigest()
    )


def scoped_key(principal: Principal, key: str) -> str:
    """The key as stored: a hash of the JSON array [org, sub, key], so no two callers share one
    however they spell them (a joined string did: "a:b" + "c" and "a" + "b:c"). ``u1:`` names
    the encoding; keys stored before it (``org:sub:key``) are not looked up (ADR 0005)."""
    scope = json.dumps([principal.org, principal.sub, key], separators=(",", ":"))
    return "u1:" + hashlib.sha256(scope.encode()).hexdigest()


async def consents_current(services: ServicesDep) -> None:
    """Reads gated by consent wait until the matching view has every event recorded so far: a
    consent withdrawn before the read began hides the person from it (``wait_for_consents``)."""
    wait_for_consents(services)


def wait_for_consents(services: Services) -> None:
    """The consent wait, at the request's first read of a read model (``wait_before_reading``):
    after the service layer's checks that need none, so a caller refused on the role alone
    answers 403 however far behind the matching view is. The head it waits for is read then,
    no earlier than the request began."""
    wait_before_reading(partial(_consents_current, services))


def _consents_current(services: Services) -> None:
    head = services.cases.recorder.max_notification_id() or 0
    if head and not services.supervisor.wait_for(
        head, services.settings.read_wait_seconds, ["matching"]
    ):
        raise ApiError(
            503,
            "read-model-behind",
            "The read models have not caught up yet",
            f"position {head} not yet processed; retry shortly",
            min_position=head,
        )


# the refusals every employer, offer, volunteer and matching endpoint may answer with
PARTNER_REFUSALS: dict[int | str, dict[str, Any]] = {
    **PROBLEMS,
    404: problem_response("no such employer, offer, volunteer or case"),
}
WRITTEN: dict[int | str, dict[str, Any]] = {
    201: {"description": "recorded"},
    409: problem_response("conflict: a duplicate, a state that forbids it, a concurrent change"),
    403: problem_response("not allowed; the detail says why"),
}
