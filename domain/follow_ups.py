"""How follow-ups (Wiedervorlagen) are named, so the case and the read model agree on which one a
command means. A follow-up by hand is named by the version of its ``FollowUpCreated``; one
derived from the case's state by what it is derived from (ADR 0017)."""

from __future__ import annotations

MANUAL = "w"
STEP = "schritt"
MEASURE = "massnahme"
RESIDENCE = "aufenthalt"
HANDOVER = "uebergabe"


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


def kind_of(follow_up_id: str) -> tuple[str, str]:
    """``(kind, reference)`` of a follow-up id; an unknown kind is ``("", id)``."""
    kind, _, ref = follow_up_id.partition("-")
    if kind in (MANUAL, STEP, MEASURE, RESIDENCE, HANDOVER) and ref:
        return kind, ref
    return "", follow_up_id
