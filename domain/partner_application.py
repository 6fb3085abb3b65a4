"""The case application with the people and companies around a case: employers, their offers and
volunteer mentors, in the same store (so one transaction can change a case and an offer, see
``domain/placements.py``). Entry points set the actor (``domain.actor.acting_as``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from domain.aggregates.employer import Employer
from domain.aggregates.employer_errors import DuplicateEmployerError
from domain.aggregates.offer import Offer
from domain.aggregates.volunteer import Volunteer
from domain.aggregates.volunteer_errors import DuplicateVolunteerError
from domain.application import CaseApplication, IdempotencyKey, IdempotencyRecord
from domain.values import Cefr, ContactPerson, PlacementKind

A = TypeVar("A", bound=Aggregate)


@dataclass(frozen=True)
class Saved:
    """What a write to an employer, offer or volunteer returns."""

    id: UUID
    version: int
    position: int


class PartnerNotFoundError(Exception):
    kind = "record"

    def __init__(self, partner_id: UUID | str) -> None:
        super().__init__(f"no {self.kind} {partner_id}")
        self.partner_id = partner_id


class EmployerNotFoundError(PartnerNotFoundError):
    kind = "employer"


class OfferNotFoundError(PartnerNotFoundError):
    kind = "offer"


class VolunteerNotFoundError(PartnerNotFoundError):
    kind = "volunteer"


class PartnerApplication(CaseApplication):
    # the library names an application after its class unless told: the same store's tables,
    # tracking records and environment prefix as ``CaseApplication``'s, not new ones
    name = "Staffel"

    # -- employers --------------------------------------------------------------------------

    def register_employer(
        self,
        *,
        account: str,
        name: str,
        sector: str,
        locations: tuple[str, ...],
        contact: ContactPerson,
        caring_org: str,
        interest: tuple[PlacementKind, ...],
        idempotency: IdempotencyKey | None = None,
    ) -> Saved:
        if (replayed := self._replayed_saved(idempotency)) is not None:
            return replayed
        employer = Employer.register(
            account=account,
            name=name,
            sector=sector,
            locations=locations,
            contact=contact,
            caring_org=caring_org,
            interest=interest,
        )
        try:
            return self._save_one(employer, idempotency)
        except IntegrityError:
            if (replayed := self._replayed_saved(idempotency)) is not None:
                return replayed
            raise DuplicateEmployerError(account, employer.id) from None

    def change_employer(self, employer_id: UUID, **changes: Any) -> Saved:
        employer = self.get_employer(employer_id)
        employer.change(**changes)
        return self._save_one(employer)

    def deactivate_employer(self, employer_id: UUID, *, reason: str) -> Saved:
        employer = self.get_employer(employer_id)
        employer.deactivate(reason=reason)
        return self._save_one(employer)

    # -- offers -------------------------------------------------------------------------------

    def publish_offer(
        self,
        employer_id: UUID,
        *,
        kind: PlacementKind,
        occupation: str,
        municipality: str,
        german_level: Cefr | None,
        starts_on: date,
        positions: int,
        wage_subsidy_possible: bool,
        offer_id: UUID | None = None,
        idempotency: IdempotencyKey | None = None,
    ) -> Saved:
        """Publish an offer (``offer_id``: a given id, e.g. for imports; default: a new one)."""
        if (replayed := self._replayed_saved(idempotency)) is not None:
            return replayed
        offer = Offer.publish(
            self.get_employer(employer_id),
            kind=kind,
            occupation=occupation,
            municipality=municipality,
            german_level=german_level,
            starts_on=starts_on,
            positions=positions,
            wage_subsidy_possible=wage_subsidy_possible,
            offer_id=offer_id,
        )
        return self._save_one(offer, idempotency)

    def pause_offer(self, offer_id: UUID, *, reason: str) -> Saved:
        return self._offer_command(offer_id, lambda o, e: o.pause(e, reason=reason))

    def reopen_offer(self, offer_id: UUID) -> Saved:
        return self._offer_command(offer_id, lambda o, e: o.reopen(e))

    def withdraw_offer(self, offer_id: UUID, *, reason: str) -> Saved:
        return self._offer_command(offer_id, lambda o, e: o.withdraw(e, reason=reason))

    # -- volunteers -----------------------------------------------------------------------------

    def register_volunteer(
        self,
        *,
        login: str,
        name: str,
        languages: tuple[str, ...],
        municipality: str,
        capacity: int,
        idempotency: IdempotencyKey | None = None,
    ) -> Saved:
        if (replayed := self._replayed_saved(idempotency)) is not None:
            return replayed
        volunteer = Volunteer.register(
            login=login,
            name=name,
            languages=languages,
            municipality=municipality,
            capacity=capacity,
        )
        try:
            return self._save_one(volunteer, idempotency)
        except IntegrityError:
            if (replayed := self._replayed_saved(idempotency)) is not None:
                return replayed
            raise DuplicateVolunteerError(volunteer.organisation, login, volunteer.id) from None

    def change_volunteer(self, volunteer_id: UUID, **changes: Any) -> Saved:
        return self._volunteer_command(volunteer_id, lambda v: v.change(**changes))

    def pause_volunteer(self, volunteer_id: UUID, *, reason: str) -> Saved:
        return self._volunteer_command(volunteer_id, lambda v: v.pause(reason=reason))

    def resume_volunteer(self, volunteer_id: UUID) -> Saved:
        return self._volunteer_command(volunteer_id, lambda v: v.resume())

    def volunteer_leaves(self, volunteer_id: UUID, *, reason: str) -> Saved:
        return self._volunteer_command(volunteer_id, lambda v: v.leave(reason=reason))

    # -- reads for deciding -----------------------------------------------------------------------

    def get_employer(self, employer_id: UUID) -> Employer:
        return self._get(employer_id, Employer, EmployerNotFoundError)

    def get_offer(self, offer_id: UUID) -> Offer:
        return self._get(offer_id, Offer, OfferNotFoundError)

    def get_volunteer(self, volunteer_id: UUID) -> Volunteer:
        return self._get(volunteer_id, Volunteer, VolunteerNotFoundError)

    # -- internals --------------------------------------------------------------------------------

    def _get(self, aggregate_id: UUID, cls: type[A], missing: type[PartnerNotFoundError]) -> A:
        try:
            found: Aggregate = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise missing(aggregate_id) from None
        if not isinstance(found, cls):
            raise missing(aggregate_id)
        return found

    def _exists(self, aggregate_id: UUID, cls: type[Aggregate]) -> bool:
        try:
            return isinstance(self.repository.get(aggregate_id), cls)
        except AggregateNotFoundError:
            return False

    def _offer_command(self, offer_id: UUID, command: Callable[[Offer, Employer], None]) -> Saved:
        offer = self.get_offer(offer_id)
        command(offer, self.get_employer(offer.employer_id))
        return self._save_one(offer)

    def _volunteer_command(self, volunteer_id: UUID, command: Callable[[Volunteer], None]) -> Saved:
        volunteer = self.get_volunteer(volunteer_id)
        command(volunteer)
        return self._save_one(volunteer)

    def _save_one(self, aggregate: Aggregate, idempotency: IdempotencyKey | None = None) -> Saved:
        kwargs: dict[str, Any] = {}
        if idempotency is not None:
            kwargs["idempotency"] = IdempotencyRecord(
                idempotency.key, idempotency.request_hash, aggregate.id, aggregate.version, ""
            )
        recordings = self.save(aggregate, **kwargs)
        position = max(r.notification.id for r in recordings)
        return Saved(aggregate.id, aggregate.version, position)

    def _replayed_saved(self, idempotency: IdempotencyKey | None) -> Saved | None:
        replayed = self._replayed(idempotency)
        if replayed is None:
            return None
        return Saved(replayed.case_id, replayed.version, replayed.position)
