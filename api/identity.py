"""Who a token speaks for: a verified token whose ``org`` this deployment knows (ADR 0005).

``org`` names an organisation of the organisations file; the one exception are employers'
staff, whose tokens name their employer's account or id (``partner_access.employer_of``): a
token whose only role is ``employer`` is accepted when that employer is registered here.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from adapters.auth import TokenError, UnknownOrganisationError
from bootstrap import Services
from domain.errors import EmployerNotFoundError
from domain.principal import Principal, Role
from service_layer.access import employer_of


class TokenTooLargeError(TokenError):
    pass


DAY = 86_400
RECHECK_SECONDS = 30  # a remembered token is verified again at least this often


class VerifiedTokens:
    """The bearer tokens this process verified, with their principals: a token sent again
    within ``RECHECK_SECONDS`` is not verified again (its signature checked, its organisation
    looked up, its user noted in the staff directory). Verified again, always: once it expired;
    on a new day (the directory's daily note, ``StaffDirectory.learn``); when the verifier's
    keys were read again since (``key_epoch``: a key the provider withdrew refuses its tokens
    as soon as without this). Only tokens of this deployment's organisations: an employer's is
    looked up in the event store on each request, so a removed one ends at once. Bounded: the
    least recently used go first. ADR 0013."""

    def __init__(self, size: int = 10_000, clock: Callable[[], float] = time.time) -> None:
        # token -> (principal, key epoch, verified at)
        self._known: OrderedDict[str, tuple[Principal, int, float]] = OrderedDict()
        self._size, self._clock = size, clock
        self._lock = threading.Lock()

    def get(self, token: str, epoch: int) -> Principal | None:
        now = self._clock()
        with self._lock:
            found = self._known.get(token)
            if found is None:
                return None
            principal, verified_epoch, verified_at = found
            expires_at = principal.expires_at
            if (
                verified_epoch != epoch
                or now - verified_at >= RECHECK_SECONDS
                or int(now) // DAY != int(verified_at) // DAY
                or expires_at is None
                or now >= expires_at
            ):
                del self._known[token]
                return None
            self._known.move_to_end(token)
            return principal

    def put(self, token: str, principal: Principal, epoch: int) -> None:
        with self._lock:
            self._known[token] = (principal, epoch, self._clock())
            while len(self._known) > self._size:
                self._known.popitem(last=False)


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
