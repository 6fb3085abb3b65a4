"""Who a token speaks for: a verified token whose ``org`` this deployment knows (ADR 0005).

``org`` names an organisation of the organisations file; the one exception are employers'
staff, whose tokens name their employer's account or id (``partner_access.employer_of``): a
token whose only role is ``employer`` is accepted when that employer is registered here.
"""

from __future__ import annotations

from adapters.auth import TokenError, UnknownOrganisationError
from bootstrap import Services
from domain.errors import EmployerNotFoundError
from domain.principal import Principal, Role
from service_layer.access import employer_of


class TokenTooLargeError(TokenError):
    pass


def authenticate(services: Services, token: str) -> Principal:
    """The principal of a bearer token: verified, then its organisation checked."""
    limit = services.settings.jwt_max_bytes
    if len(token.encode("utf-8", "surrogatepass")) > limit:
        raise TokenTooLargeError(f"the token is longer than {limit} bytes")
    if services.verifier is None:
        raise TokenError("this process is configured to verify no tokens")
    principal = services.verifier.verify(token)
    require_known_org(services, principal)
    services.directory.learn(principal)  # the staff directory: names for the pages
    return principal


def require_known_org(services: Services, principal: Principal) -> None:
    if principal.org in services.orgs:
        return
    only_employer = principal.roles == {Role.EMPLOYER}
    if only_employer and is_registered_employer(services, principal):
        return
    nor = ", nor a registered employer's account or id" if only_employer else ""
    raise UnknownOrganisationError(
        principal.org,
        f"the token's org {principal.org!r} is not an organisation of this deployment{nor}",
    )


def is_registered_employer(services: Services, principal: Principal) -> bool:
    employer_id = employer_of(principal)
    if employer_id is None:
        return False
    try:
        services.cases.get_employer(employer_id)  # the event store: no read model's lag
    except EmployerNotFoundError:
        return False
    return True
