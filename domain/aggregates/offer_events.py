"""The events of an offer, in the past tense. ``apply`` only assigns.

A placement records ``PositionTaken`` with the free positions it leaves (decided when it was
recorded, ADR 0001); the placement that takes the last one records ``OfferFilled`` with it.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.aggregates.stamped import StampedEvent
from domain.values import Cefr, OfferState, PlacementKind

if TYPE_CHECKING:
    from domain.aggregates.offer import Offer


class OfferEvent(StampedEvent):
    pass


class OfferPublished(OfferEvent, Aggregate.Created):
    TOPIC = "staffel:Offer.Published"
    employer_id: UUID
    kind: PlacementKind
    occupation: str
    municipality: str
    german_level: Cefr | None  # the German the post needs (CEFR), None: no requirement
    starts_on: date
    positions: int
    wage_subsidy_possible: bool  # Eingliederungszuschuss possible

    def apply(self, offer: Offer) -> None:
        offer.employer_id = self.employer_id
        offer.kind = self.kind
        offer.state = OfferState.OPEN
        offer.free = self.positions
        offer.placed = ()


class OfferPaused(OfferEvent):
    TOPIC = "staffel:Offer.Paused"
    reason: str

    def apply(self, offer: Offer) -> None:
        offer.state = OfferState.PAUSED


class OfferReopened(OfferEvent):
    TOPIC = "staffel:Offer.Reopened"

    def apply(self, offer: Offer) -> None:
        offer.state = OfferState.OPEN


class OfferWithdrawn(OfferEvent):
    TOPIC = "staffel:Offer.Withdrawn"
    reason: str

    def apply(self, offer: Offer) -> None:
        offer.state = OfferState.WITHDRAWN


class PositionTaken(OfferEvent):
    TOPIC = "staffel:Offer.PositionTaken"
    case_id: UUID
    placement_id: str
    free_after: int

    def apply(self, offer: Offer) -> None:
        offer.free = self.free_after
        offer.placed = (*offer.placed, self.case_id)


class OfferFilled(OfferEvent):
    TOPIC = "staffel:Offer.Filled"

    def apply(self, offer: Offer) -> None:
        offer.state = OfferState.FILLED


OFFER_EVENTS: tuple[type[OfferEvent], ...] = (
    OfferPublished,
    OfferPaused,
    OfferReopened,
    OfferWithdrawn,
    PositionTaken,
    OfferFilled,
)
