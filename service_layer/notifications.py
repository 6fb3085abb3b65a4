"""Each staff member's own e-mail notifications (ADR 0018): today the daily digest of due
follow-ups, opt-in. The address is not entered here: it is the work address the identity
provider vouches for (its ``email`` claim), kept in the staff directory."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from adapters.views.notification_settings import Choice
from domain.principal import Principal
from service_layer import access
from service_layer.ports import Services


@dataclass(frozen=True)
class MyNotifications:
    follow_up_digest: bool
    email: str | None  # None: the provider sent none, so no digest can go out
    digest_hour: int  # from this local hour (Europe/Berlin)


def mine(services: Services, principal: Principal) -> MyNotifications:
    access.require_staff(principal)
    entry = services.directory.fresh(principal.sub)
    email = entry.email if entry is not None else None  # where the digest goes: the directory's
    choice = services.notification_settings.get(principal.sub)
    return MyNotifications(choice.follow_up_digest, email, services.settings.digest_hour)


def choose(services: Services, principal: Principal, *, follow_up_digest: bool) -> MyNotifications:
    access.require_staff(principal)
    services.notification_settings.set(
        principal.sub, Choice(follow_up_digest=follow_up_digest), datetime.now(UTC)
    )
    return mine(services, principal)
