"""The events of an employer, in the past tense. ``apply`` only assigns."""

from __future__ import annotations

from typing import TYPE_CHECKING

from eventsourcing.domain import Aggregate

from domain.aggregates.stamped import StampedEvent
from domain.values import ContactPerson, PlacementKind

if TYPE_CHECKING:
    from domain.aggregates.employer import Employer


class EmployerEvent(StampedEvent):
    pass


class EmployerRegistered(EmployerEvent, Aggregate.Created):
    TOPIC = "staffel:Employer.Registered"
    account: str  # the organisation id in the tokens of the employer's own staff
    name: str
    sector: str
    locations: tuple[str, ...]  # municipalities
    contact: ContactPerson
    caring_org: str  # the Agentur, Jobcenter, chamber or integration centre looking after it
    interest: tuple[PlacementKind, ...]  # the kinds of post it would offer refugees

    def apply(self, employer: Employer) -> None:
        employer.account = self.account
        employer.name = self.name
        employer.caring_org = self.caring_org
        employer.active = True


class EmployerChanged(EmployerEvent):
    """Only the fields given changed; ``None`` leaves a field as it was."""

    TOPIC = "staffel:Employer.Changed"
    name: str | None
    sector: str | None
    locations: tuple[str, ...] | None
    contact: ContactPerson | None
    caring_org: str | None
    interest: tuple[PlacementKind, ...] | None

    def apply(self, employer: Employer) -> None:
        if self.name is not None:
            employer.name = self.name
        if self.caring_org is not None:
            employer.caring_org = self.caring_org


class EmployerDeactivated(EmployerEvent):
    TOPIC = "staffel:Employer.Deactivated"
    reason: str

    def apply(self, employer: Employer) -> None:
        employer.active = False


EMPLOYER_EVENTS: tuple[type[EmployerEvent], ...] = (
    EmployerRegistered,
    EmployerChanged,
    EmployerDeactivated,
)
