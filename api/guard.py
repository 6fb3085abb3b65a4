"""The role gate: one dependency of the whole app, in front of every route that serves a signed-in
user (the JSON API's bearer token or the web pages' session). Two rules hold here, for every
route, present and future, whatever its own checks say:

- a token without a role does nothing: every such route answers 403;
- an auditor never writes: every method but GET, HEAD and OPTIONS answers 403 to a token that
  carries the auditor role, whatever other roles it carries too.

Routes that need no user (health, the peers' signed ``/handovers/inbox`` and ``/receipts``,
signing in and out) are left to their own checks: a route is gated exactly when it depends on
``get_principal`` or ``web_principal``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant
from fastapi.security import HTTPAuthorizationCredentials
from starlette.concurrency import run_in_threadpool

from api.deps import bearer, get_principal, principal_of, services_of, verified_before
from api.web.core import web_principal
from domain.principal import Role
from service_layer.access import forbidden

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
RESOLVERS: tuple[Callable[..., Any], ...] = (get_principal, web_principal)
_resolver_of: dict[int, Callable[..., Any] | None] = {}


def resolver(dependant: Dependant) -> Callable[..., Any] | None:
    """The principal dependency somewhere in ``dependant``'s tree, or None."""
    if dependant.call in RESOLVERS:
        return dependant.call
    for sub in dependant.dependencies:
        if (found := resolver(sub)) is not None:
            return found
    return None


def resolver_of(route: Any) -> Callable[..., Any] | None:
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return None
    key = id(route)
    if key not in _resolver_of:
        _resolver_of[key] = resolver(dependant)
    return _resolver_of[key]


async def role_gate(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> None:
    """In the event loop: a token verified before costs no hand-over to a thread (issue 16)."""
    found = resolver_of(request.scope.get("route"))
    if found is None:
        return
    services = services_of(request)
    if found is web_principal:
        principal = await run_in_threadpool(web_principal, request, services)
    else:
        principal = verified_before(request, credentials) or await run_in_threadpool(
            principal_of, request, services, credentials
        )
    if not principal.roles:
        raise forbidden("the token carries no role: it may read and do nothing here")
    if request.method not in SAFE_METHODS and principal.has(Role.AUDITOR):
        raise forbidden(
            "auditors read, they never write: a token with the auditor role records nothing,"
            " whatever other roles it carries"
        )
