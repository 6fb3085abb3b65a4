"""The HTTP contract of the caller's own settings."""

from __future__ import annotations

from pydantic import BaseModel, Field, StrictBool

from api.schemas.common import Contract


class NotificationSettingsIn(Contract):
    follow_up_digest: StrictBool = Field(
        description="a daily e-mail with the counts of my overdue and due follow-ups"
    )


class NotificationSettingsOut(BaseModel):
    follow_up_digest: bool
    email: str | None = Field(description="the address the digest goes to; null: none known")
    digest_hour: int = Field(description="sent from this hour, Europe/Berlin")
