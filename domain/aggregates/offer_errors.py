"""Rules an offer refuses to break. Only ``api/`` maps them to status codes."""

from __future__ import annotations

from uuid import UUID

from domain.values import OfferState


class OfferRuleError(Exception):
    """A command was refused because it would break a rule of the offer."""


class InvalidOfferError(OfferRuleError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class OfferStateError(OfferRuleError):
    """The offer is not in a state that allows this (pausing a filled offer, placing on a paused
    one, ...)."""

    def __init__(self, offer_id: UUID, state: OfferState, action: str) -> None:
        super().__init__(f"offer {offer_id} is {state.value}: cannot {action}")
        self.offer_id, self.state, self.action = offer_id, state, action


class AlreadyPlacedError(OfferRuleError):
    def __init__(self, offer_id: UUID, case_id: UUID) -> None:
        super().__init__(f"case {case_id} already holds a position of offer {offer_id}")
        self.offer_id, self.case_id = offer_id, case_id


class WrongEmployerError(OfferRuleError):
    def __init__(self, offer_id: UUID, employer_id: UUID) -> None:
        super().__init__(f"offer {offer_id} is not an offer of employer {employer_id}")
        self.offer_id, self.employer_id = offer_id, employer_id
