"""Changes to a case and a partner at once: placing a case on an offer, assigning a mentor.

``place`` saves the case's ``PlacementMade`` and the offer's ``PositionTaken`` (with
``OfferFilled`` for the last position) in one transaction: ``save(offer, case)``. Two concurrent
placements on the last position collide on the offer's next version; the loser reads both again
and is refused because the offer is filled, or, with positions left, takes the next one. After
``ATTEMPTS`` collisions in a row it gives up with ``ConcurrentChangeError`` (a 409). Mentor
assignments hold the volunteer's capacity the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from domain.aggregates.case import Case
from domain.aggregates.offer import Offer
from domain.aggregates.volunteer import Volunteer
from domain.application import IdempotencyKey, IdempotencyRecord, Recorded, VersionConflictError
from domain.partner_application import PartnerApplication
from domain.sealing import sealing_with
from domain.values import PlacementKind, WageSubsidy

A = TypeVar("A", bound=Aggregate)
ATTEMPTS = 5


class ReferenceMismatchError(Exception):
    """A case event names an offer or volunteer but contradicts it (another kind of post, another
    organisation)."""

    def __init__(self, field: str, expected: str, given: str) -> None:
        super().__init__(f"{field}: '{given}' does not match the referenced record ('{expected}')")
        self.field, self.expected, self.given = field, expected, given


class ConcurrentChangeError(Exception):
    def __init__(self, kind: str, partner_id: UUID) -> None:
        super().__init__(f"{kind} {partner_id} kept changing meanwhile: try again")
        self.kind, self.partner_id = kind, partner_id


def as_uuid(value: object) -> UUID | None:
    """A reference that names a record of this store (a UUID), or None (an outside reference)."""
    try:
        return UUID(str(value)) if value is not None else None
    except ValueError:
        return None


class StaffelApplication(PartnerApplication):
    """Cases, employers, offers and volunteers: the application a deployment runs."""

    name = "Staffel"  # the same store as ``CaseApplication`` (see ``PartnerApplication.name``)

    def place(
        self,
        case_id: UUID,
        offer_id: UUID,
        *,
        placement_id: str,
        starts_on: date,
        wage_subsidy: WageSubsidy | None = None,
        kind: PlacementKind | None = None,
        employer: str | None = None,
        expected_version: int | None = None,
        idempotency: IdempotencyKey | None = None,
    ) -> Recorded:
        """Place the case on the offer: ``PlacementMade`` on the case, ``PositionTaken`` (and
        ``OfferFilled`` for the last position) on the offer, in one transaction."""

        def command(case: Case, offer: Offer) -> None:
            if kind is not None and kind != offer.kind:
                raise ReferenceMismatchError("kind", offer.kind.value, kind.value)
            case.make_placement(
                placement_id=placement_id,
                kind=offer.kind,
                employer=employer or self.get_employer(offer.employer_id).name,
                starts_on=starts_on,
                wage_subsidy=wage_subsidy,
                offer_id=str(offer.id),
            )
            offer.take_position(case_id=case.id, placement_id=placement_id)

        return self._command_with(
            case_id, lambda: self.get_offer(offer_id), command, expected_version, idempotency
        )

    def assign_mentor(
        self,
        case_id: UUID,
        volunteer_id: UUID,
        *,
        assigned_on: date | None = None,
        organisation: str | None = None,
        expected_version: int | None = None,
        idempotency: IdempotencyKey | None = None,
    ) -> Recorded:
        """``MentorAssigned`` on the case and ``MenteeTaken`` on the volunteer, in one
        transaction: the volunteer's capacity holds under concurrent assignments."""
        on = assigned_on or self.today()

        def command(case: Case, volunteer: Volunteer) -> None:
            if organisation is not None and organisation != volunteer.organisation:
                raise ReferenceMismatchError("organisation", volunteer.organisation, organisation)
            case.assign_mentor(
                volunteer_id=str(volunteer.id), organisation=volunteer.organisation, assigned_on=on
            )
            volunteer.take_mentee(case.id)

        return self._command_with(
            case_id,
            lambda: self.get_volunteer(volunteer_id),
            command,
            expected_version,
            idempotency,
        )

    def release_mentor(
        self,
        case_id: UUID,
        volunteer_id: UUID,
        *,
        released_on: date | None = None,
        expected_version: int | None = None,
        idempotency: IdempotencyKey | None = None,
    ) -> Recorded:
        on = released_on or self.today()

        def command(case: Case, volunteer: Volunteer) -> None:
            case.release_mentor(volunteer_id=str(volunteer.id), released_on=on)
            volunteer.release_mentee(case.id)

        return self._command_with(
            case_id,
            lambda: self.get_volunteer(volunteer_id),
            command,
            expected_version,
            idempotency,
        )

    # -- staff events that name an offer or a volunteer of this store ---------------------------

    def record(
        self,
        case_id: UUID,
        event_type: str,
        fields: dict[str, Any],
        expected_version: int | None = None,
        idempotency: IdempotencyKey | None = None,
    ) -> Recorded:
        """As ``CaseApplication.record``; but a ``PlacementMade`` whose ``offer_id`` is a UUID
        goes through ``place`` and a ``MentorAssigned``/``MentorReleased`` naming a registered
        volunteer through ``assign_mentor``/``release_mentor``, so no route around the offer's
        positions or the volunteer's capacity exists. Other references stay outside ones."""
        offer_id = as_uuid(fields.get("offer_id"))
        volunteer_id = as_uuid(fields.get("volunteer_id"))
        if event_type == "PlacementMade" and offer_id is not None:
            return self.place(
                case_id,
                offer_id,
                placement_id=fields["placement_id"],
                starts_on=fields["starts_on"],
                wage_subsidy=fields.get("wage_subsidy"),
                kind=fields["kind"],
                employer=fields["employer"],
                expected_version=expected_version,
                idempotency=idempotency,
            )
        if event_type == "MentorAssigned" and volunteer_id is not None:
            return self.assign_mentor(
                case_id,
                volunteer_id,
                assigned_on=fields["assigned_on"],
                organisation=fields["organisation"],
                expected_version=expected_version,
                idempotency=idempotency,
            )
        if (
            event_type == "MentorReleased"
            and volunteer_id is not None
            and self._exists(volunteer_id, Volunteer)
        ):
            return self.release_mentor(
                case_id,
                volunteer_id,
                released_on=fields["released_on"],
                expected_version=expected_version,
                idempotency=idempotency,
            )
        return super().record(case_id, event_type, fields, expected_version, idempotency)

    def _command_with(
        self,
        case_id: UUID,
        load: Callable[[], A],
        command: Callable[[Case, A], None],
        expected_version: int | None,
        idempotency: IdempotencyKey | None,
    ) -> Recorded:
        """Run ``command`` on the case and one other aggregate and save both at once; a
        collision reads both again and retries (the guards decide anew)."""
        if (replayed := self._replayed(idempotency)) is not None:
            return replayed
        other: A | None = None
        for _ in range(ATTEMPTS):
            case = self.get_case(case_id)
            if expected_version is not None and expected_version != case.version:
                raise VersionConflictError(case_id, case.version)
            other = load()
            with sealing_with(self.keys):
                command(case, other)
            kwargs: dict[str, Any] = {}
            if idempotency is not None:
                kwargs["idempotency"] = IdempotencyRecord(
                    idempotency.key, idempotency.request_hash, case.id, case.version, case.digest
                )
            try:  # the other first: the case's event is then the write's last position
                return self._recorded(case, self.save(other, case, **kwargs))
            except IntegrityError:
                if (replayed := self._replayed(idempotency)) is not None:
                    return replayed
        assert other is not None
        raise ConcurrentChangeError(type(other).__name__.lower(), other.id)
