"""When a handover is due, offer it: the process manager of the Rechtskreiswechsel.

Reacts to the events that can make a handover due (a recognition, a legal-status change, a move)
by deciding from the case as it now stands. Which Jobcenter serves a municipality is
deployment configuration, passed in as ``receiver_for``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from domain.aggregates import case_events as ev
from domain.aggregates.case import Case

TRIGGERS = (ev.AsylumRecognized, ev.LegalStatusChanged, ev.ResidenceChanged)
POLICY_ACTOR = "staffel:handover-policy"


@dataclass(frozen=True)
class Offer:
    to_org: str
    reason: str


def decide(
    case: Case,
    trigger: Any,
    receiver_for: Callable[[str], str | None],
    is_jobcenter: Callable[[str], bool],
) -> Offer | None:
    """The offer ``trigger`` calls for on ``case``, or None (nothing due, already offered,
    receiver unknown: the case then shows as due in the holder's queue)."""
    if case.closed or case.handover is not None:
        return None
    receiver = receiver_for(case.residence_municipality)
    if receiver is None or receiver == case.holder:
        return None
    if case.switch_due is not None:
        if isinstance(trigger, ev.AsylumRecognized):
            return Offer(receiver, "Asyl anerkannt: Rechtskreiswechsel fällig")
        return Offer(receiver, "Aufenthaltsstatus geändert: Rechtskreiswechsel fällig")
    if isinstance(trigger, ev.ResidenceChanged) and is_jobcenter(case.holder):
        return Offer(receiver, f"Umzug nach {case.residence_municipality}: Zuständigkeitswechsel")
    return None
