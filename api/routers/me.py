"""The caller's own settings: ``GET`` and ``PUT /me/notification-settings`` (ADR 0018)."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import PrincipalDep, ServicesDep
from api.problems import PROBLEMS
from api.schemas.me import NotificationSettingsIn, NotificationSettingsOut
from service_layer import notifications

router = APIRouter(prefix="/me", tags=["me"], responses=PROBLEMS)


@router.get("/notification-settings", response_model=NotificationSettingsOut)
def notification_settings(
    services: ServicesDep, principal: PrincipalDep
) -> NotificationSettingsOut:
    """The caller's e-mail notifications: whether the daily digest of due follow-ups is on,
    the address it goes to (the identity provider's ``email`` claim; null: none known) and the
    local hour from which it is sent."""
    return NotificationSettingsOut.model_validate(
        notifications.mine(services, principal), from_attributes=True
    )


@router.put("/notification-settings", response_model=NotificationSettingsOut)
def choose_notifications(
    body: NotificationSettingsIn, services: ServicesDep, principal: PrincipalDep
) -> NotificationSettingsOut:
    """Turn the daily digest on or off (staff only; for the caller alone)."""
    chosen = notifications.choose(services, principal, follow_up_digest=body.follow_up_digest)
    return NotificationSettingsOut.model_validate(chosen, from_attributes=True)
