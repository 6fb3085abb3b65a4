"""An employer willing to take refugees on: registered by the organisation looking after it.

Its id is derived from its ``account``, the organisation id in its own staff's tokens
(``create_id``), so a second registration of the same employer collides on the first version and
the store refuses it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.actor import Actor, current_actor
from domain.aggregates import employer_events as ev
from domain.aggregates.employer_errors import EmployerInactiveError, NotEmployerManagerError
from domain.aggregates.stamped import stamp
from domain.values import ContactPerson, PlacementKind

NAMESPACE = uuid5(NAMESPACE_URL, "https://staffel.example/employer")


class Employer(Aggregate):
    TOPIC = "staffel:Employer"
    Event = ev.EmployerEvent
    Created = ev.EmployerRegistered

    if TYPE_CHECKING:  # state assigned by the events' apply()
        account: str
        name: str
        caring_org: str
        active: bool

    @staticmethod
    def create_id(account: str) -> UUID:
        return uuid5(NAMESPACE, account.strip().casefold())

    @classmethod
    def register(
        cls,
        *,
        account: str,
        name: str,
        sector: str,
        locations: tuple[str, ...],
        contact: ContactPerson,
        caring_org: str,
        interest: tuple[PlacementKind, ...],
    ) -> Employer:
        actor = current_actor()
        if actor.org not in (account, caring_org):
            raise NotEmployerManagerError(actor.org, account, caring_org)
        return cls._create(
            ev.EmployerRegistered,
            id=cls.create_id(account),
            account=account,
            name=name,
            sector=sector,
            locations=locations,
            contact=contact,
            caring_org=caring_org,
            interest=interest,
            **stamp(),
        )

    def may_manage(self, org: str) -> bool:
        """Its own staff (whose tokens name its account or its id) or its caring organisation."""
        return org in (self.account, str(self.id), self.caring_org)

    def as_manager(self) -> Actor:
        """The acting employer or its caring organisation, while the employer is active."""
        actor = current_actor()
        if not self.may_manage(actor.org):
            raise NotEmployerManagerError(actor.org, self.account, self.caring_org)
        if not self.active:
            raise EmployerInactiveError(self.id)
        return actor

    def change(
        self,
        *,
        name: str | None = None,
        sector: str | None = None,
        locations: tuple[str, ...] | None = None,
        contact: ContactPerson | None = None,
        caring_org: str | None = None,
        interest: tuple[PlacementKind, ...] | None = None,
    ) -> None:
        """Change the fields given (``None``: unchanged)."""
        self.as_manager()
        self.trigger_event(
            ev.EmployerChanged,
            name=name,
            sector=sector,
            locations=locations,
            contact=contact,
            caring_org=caring_org,
            interest=interest,
            **stamp(),
        )

    def deactivate(self, *, reason: str) -> None:
        self.as_manager()
        self.trigger_event(ev.EmployerDeactivated, reason=reason, **stamp())
