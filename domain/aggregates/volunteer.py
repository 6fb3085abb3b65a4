"""A volunteer mentor (Pate) of a welfare organisation: mentors up to ``capacity`` people, also
after they have found work.

Taking a mentee is saved together with the case's ``MentorAssigned`` (``save(volunteer, case)``),
so concurrent assignments never exceed the capacity. The id is derived from the organisation and
the volunteer's login, so a volunteer signing in is found without a lookup.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.actor import current_actor
from domain.aggregates import volunteer_events as ev
from domain.aggregates.stamped import stamp
from domain.aggregates.volunteer_errors import (
    AlreadyMenteeError,
    InvalidCapacityError,
    NotVolunteerManagerError,
    VolunteerAtCapacityError,
    VolunteerStateError,
)
from domain.values import VolunteerState

NAMESPACE = uuid5(NAMESPACE_URL, "https://staffel.example/volunteer")


class Volunteer(Aggregate):
    TOPIC = "staffel:Volunteer"
    Event = ev.VolunteerEvent
    Created = ev.VolunteerRegistered

    if TYPE_CHECKING:  # state assigned by the events' apply()
        login: str
        organisation: str
        capacity: int
        state: VolunteerState
        mentees: tuple[UUID, ...]

    @staticmethod
    def create_id(organisation: str, login: str) -> UUID:
        return uuid5(NAMESPACE, f"{organisation}:{login}")

    @classmethod
    def register(
        cls,
        *,
        login: str,
        name: str,
        languages: tuple[str, ...],
        municipality: str,
        capacity: int,
    ) -> Volunteer:
        """A welfare organisation registers one of its volunteers."""
        organisation = current_actor().org
        if capacity < 1:
            raise InvalidCapacityError(capacity)
        return cls._create(
            ev.VolunteerRegistered,
            id=cls.create_id(organisation, login),
            login=login,
            name=name,
            organisation=organisation,
            languages=languages,
            municipality=municipality,
            capacity=capacity,
            **stamp(),
        )

    def _as_manager(self) -> None:
        actor = current_actor()
        if actor.org != self.organisation:
            raise NotVolunteerManagerError(actor.org, self.organisation)

    def _require(self, action: str, *states: VolunteerState) -> None:
        if self.state not in states:
            raise VolunteerStateError(self.id, self.state, action)

    def change(
        self,
        *,
        name: str | None = None,
        languages: tuple[str, ...] | None = None,
        municipality: str | None = None,
        capacity: int | None = None,
    ) -> None:
        """Change the fields given (``None``: unchanged). A lower capacity takes no mentee away:
        it only stops new ones until fewer remain."""
        self._as_manager()
        self._require("change", VolunteerState.AVAILABLE, VolunteerState.PAUSED)
        if capacity is not None and capacity < 1:
            raise InvalidCapacityError(capacity)
        self.trigger_event(
            ev.VolunteerChanged,
            name=name,
            languages=languages,
            municipality=municipality,
            capacity=capacity,
            **stamp(),
        )

    def pause(self, *, reason: str) -> None:
        self._as_manager()
        self._require("pause", VolunteerState.AVAILABLE)
        self.trigger_event(ev.VolunteerPaused, reason=reason, **stamp())

    def resume(self) -> None:
        self._as_manager()
        self._require("resume", VolunteerState.PAUSED)
        self.trigger_event(ev.VolunteerResumed, **stamp())

    def leave(self, *, reason: str) -> None:
        self._as_manager()
        self._require("leave", VolunteerState.AVAILABLE, VolunteerState.PAUSED)
        self.trigger_event(ev.VolunteerLeft, reason=reason, **stamp())

    def take_mentee(self, case_id: UUID) -> None:
        """The case's caseworker assigns this volunteer as mentor (their case records
        ``MentorAssigned``)."""
        self._require("take a mentee", VolunteerState.AVAILABLE)
        if case_id in self.mentees:
            raise AlreadyMenteeError(self.id, case_id)
        if len(self.mentees) >= self.capacity:
            raise VolunteerAtCapacityError(self.id, self.capacity)
        self.trigger_event(ev.MenteeTaken, case_id=case_id, **stamp())

    def release_mentee(self, case_id: UUID) -> None:
        """Mentoring ends (recorded on the case as ``MentorReleased``); allowed in any state."""
        if case_id in self.mentees:
            self.trigger_event(ev.MenteeReleased, case_id=case_id, **stamp())
