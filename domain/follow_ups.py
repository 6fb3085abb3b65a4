"""How follow-ups (Wiedervorlagen) are named, so the case and the read model agree on which one a
command means. A follow-up by hand is named by the version of its ``FollowUpCreated``; one
derived from the case's state by what it is derived from (ADR 0017)."""

from __future__ import annotations

MANUAL = "w"
STEP = "schritt"
MEASURE = "massnahme"
RESIDENCE = "aufenthalt"
HANDOVER = "uebergabe"
FIRST_MEETING = "erstgespraech"
CONSENT = "einwilligung"
KINDS = (MANUAL, STEP, MEASURE, RESIDENCE, HANDOVER, FIRST_MEETING, CONSENT)
FIRST_MEETING_WORKING_DAYS = 5  # after the assignment (ADR 0017)
CONSENT_NOTICE_DAYS = 14  # before a consent's ``valid_until`` (ADR 0017)


def manual(version: int) -> str:
    return f"{MANUAL}-{version}"


def step(step_id: str) -> str:
    return f"{STEP}-{step_id}"


def measure(measure_id: str) -> str:
    return f"{MEASURE}-{measure_id}"


def residence(version: int) -> str:
    return f"{RESIDENCE}-{version}"


def handover(offer_version: int) -> str:
    return f"{HANDOVER}-{offer_version}"


def first_meeting(assigned_version: int) -> str:
    return f"{FIRST_MEETING}-{assigned_version}"


def consent(consent_id: str) -> str:
    return f"{CONSENT}-{consent_id}"


def kind_of(follow_up_id: str) -> tuple[str, str]:
    """``(kind, reference)`` of a follow-up id; an unknown kind is ``("", id)``."""
    kind, _, ref = follow_up_id.partition("-")
    if kind in KINDS and ref:
        return kind, ref
    return "", follow_up_id
