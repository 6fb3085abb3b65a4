"""The events of a volunteer mentor (Pate), in the past tense. ``apply`` only assigns."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.aggregates.stamped import StampedEvent
from domain.values import VolunteerState

if TYPE_CHECKING:
    from domain.aggregates.volunteer import Volunteer


class VolunteerEvent(StampedEvent):
    pass


class VolunteerRegistered(VolunteerEvent, Aggregate.Created):
    TOPIC = "staffel:Volunteer.Registered"
    login: str  # the volunteer's user id at their welfare organisation
    name: str
    organisation: str  # the welfare organisation
    languages: tuple[str, ...]
    municipality: str
    capacity: int  # how many people they mentor at most

    def apply(self, volunteer: Volunteer) -> None:
        volunteer.login = self.login
        volunteer.organisation = self.organisation
        volunteer.capacity = self.capacity
        volunteer.state = VolunteerState.AVAILABLE
        volunteer.mentees = ()


class VolunteerChanged(VolunteerEvent):
    """Only the fields given changed; ``None`` leaves a field as it was."""

    TOPIC = "staffel:Volunteer.Changed"
    name: str | None
    languages: tuple[str, ...] | None
    municipality: str | None
    capacity: int | None

    def apply(self, volunteer: Volunteer) -> None:
        if self.capacity is not None:
            volunteer.capacity = self.capacity


class VolunteerPaused(VolunteerEvent):
    TOPIC = "staffel:Volunteer.Paused"
    reason: str

    def apply(self, volunteer: Volunteer) -> None:
        volunteer.state = VolunteerState.PAUSED


class VolunteerResumed(VolunteerEvent):
    TOPIC = "staffel:Volunteer.Resumed"

    def apply(self, volunteer: Volunteer) -> None:
        volunteer.state = VolunteerState.AVAILABLE


class VolunteerLeft(VolunteerEvent):
    TOPIC = "staffel:Volunteer.Left"
    reason: str

    def apply(self, volunteer: Volunteer) -> None:
        volunteer.state = VolunteerState.LEFT


class MenteeTaken(VolunteerEvent):
    """Saved with the case's ``MentorAssigned``."""

    TOPIC = "staffel:Volunteer.MenteeTaken"
    case_id: UUID

    def apply(self, volunteer: Volunteer) -> None:
        volunteer.mentees = (*volunteer.mentees, self.case_id)


class MenteeReleased(VolunteerEvent):
    """Saved with the case's ``MentorReleased``."""

    TOPIC = "staffel:Volunteer.MenteeReleased"
    case_id: UUID

    def apply(self, volunteer: Volunteer) -> None:
        volunteer.mentees = tuple(c for c in volunteer.mentees if c != self.case_id)


VOLUNTEER_EVENTS: tuple[type[VolunteerEvent], ...] = (
    VolunteerRegistered,
    VolunteerChanged,
    VolunteerPaused,
    VolunteerResumed,
    VolunteerLeft,
    MenteeTaken,
    MenteeReleased,
)
