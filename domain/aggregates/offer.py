"""An employer's offer of posts: an internship, an apprenticeship, an Einstiegsqualifizierung or
a job, with a number of positions.

Each placement takes a position; the one that takes the last fills the offer. A placement is
saved together with the case's ``PlacementMade`` (``save(offer, case)``), so two concurrent
placements collide on the offer's next version and never take more positions than there are.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate

from domain.aggregates import offer_events as ev
from domain.aggregates.employer import Employer
from domain.aggregates.offer_errors import (
    AlreadyPlacedError,
    InvalidOfferError,
    OfferStateError,
    WrongEmployerError,
)
from domain.aggregates.stamped import stamp
from domain.values import Cefr, OfferState, PlacementKind


class Offer(Aggregate):
    TOPIC = "staffel:Offer"
    Event = ev.OfferEvent
    Created = ev.OfferPublished

    if TYPE_CHECKING:  # state assigned by the events' apply()
        employer_id: UUID
        kind: PlacementKind
        state: OfferState
        free: int
        placed: tuple[UUID, ...]

    @classmethod
    def publish(
        cls,
        employer: Employer,
        *,
        kind: PlacementKind,
        occupation: str,
        municipality: str,
        german_level: Cefr | None,
        starts_on: date,
        positions: int,
        wage_subsidy_possible: bool,
        offer_id: UUID | None = None,
    ) -> Offer:
        employer.as_manager()
        if positions < 1:
            raise InvalidOfferError("positions", "an offer has at least one position")
        return cls._create(
            ev.OfferPublished,
            id=offer_id or uuid4(),
            employer_id=employer.id,
            kind=kind,
            occupation=occupation,
            municipality=municipality,
            german_level=german_level,
            starts_on=starts_on,
            positions=positions,
            wage_subsidy_possible=wage_subsidy_possible,
            **stamp(),
        )

    def _managed_by(self, employer: Employer) -> None:
        if employer.id != self.employer_id:
            raise WrongEmployerError(self.id, employer.id)
        employer.as_manager()

    def _require(self, action: str, *states: OfferState) -> None:
        if self.state not in states:
            raise OfferStateError(self.id, self.state, action)

    def pause(self, employer: Employer, *, reason: str) -> None:
        self._managed_by(employer)
        self._require("pause", OfferState.OPEN)
        self.trigger_event(ev.OfferPaused, reason=reason, **stamp())

    def reopen(self, employer: Employer) -> None:
        self._managed_by(employer)
        self._require("reopen", OfferState.PAUSED)
        self.trigger_event(ev.OfferReopened, **stamp())

    def withdraw(self, employer: Employer, *, reason: str) -> None:
        self._managed_by(employer)
        self._require("withdraw", OfferState.OPEN, OfferState.PAUSED)
        self.trigger_event(ev.OfferWithdrawn, reason=reason, **stamp())

    def take_position(self, *, case_id: UUID, placement_id: str) -> None:
        """A caseworker places the case on this offer (their case records ``PlacementMade``)."""
        self._require("place", OfferState.OPEN)
        if case_id in self.placed:
            raise AlreadyPlacedError(self.id, case_id)
        free_after = self.free - 1
        fields = stamp()
        self.trigger_event(
            ev.PositionTaken,
            case_id=case_id,
            placement_id=placement_id,
            free_after=free_after,
            **fields,
        )
        if free_after == 0:
            self.trigger_event(ev.OfferFilled, **fields)
