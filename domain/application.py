"""The application a deployment runs: cases, employers, offers and volunteers in one store (so
one transaction can change a case and an offer), with repository, unit of work, optimistic
concurrency and idempotency in one (the library's ``Application``). Entry points set the actor
(``domain.actor.acting_as``) and call these methods; every write goes through ``_save``.

``place`` saves the case's ``PlacementMade`` and the offer's ``PositionTaken`` (with
``OfferFilled`` for the last position) in one transaction. Two concurrent placements on the last
position collide on the offer's next version; the loser reads both again and is refused because
the offer is filled, or, with positions left, takes the next one. After ``ATTEMPTS`` collisions in
a row it gives up with ``ConcurrentChangeError`` (a 409). Mentor assignments hold the volunteer's
capacity the same way.
"""

from __future__ import annotations

import random
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from typing import Any, TypeVar, cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import (
    IntegrityError,
    InterfaceError,
    OperationalError,
    Recording,
    Transcoder,
)
from eventsourcing.utils import Environment, EnvType

from domain import policy
from domain.aggregates.bamf_index import BamfFileNumberIndex, IndexId, legacy_id, normalise
from domain.aggregates.case import STAFF_COMMANDS, Case
from domain.aggregates.case_errors import CaseErasedError, DuplicateBamfFileNumberError
from domain.aggregates.employer import Employer
from domain.aggregates.employer_errors import DuplicateEmployerError
from domain.aggregates.offer import Offer
from domain.aggregates.volunteer import Volunteer
from domain.aggregates.volunteer_errors import DuplicateVolunteerError
from domain.bamf_number import normalise_or_none, padded_forms
from domain.bulk_read import StaffelRepository
from domain.errors import (
    CaseNotFoundError,
    ConcurrentChangeError,
    EmployerNotFoundError,
    IdempotencyKeyReusedError,
    IndexKeyMissingError,
    OfferNotFoundError,
    PartnerNotFoundError,
    ReferenceMismatchError,
    UnknownEventTypeError,
    VersionConflictError,
    VolunteerNotFoundError,
)
from domain.saved_cases import SavedCases
from domain.sealing import (
    PersonalDataKeys,
    UnsealedPersonalDataError,
    sealing_with,
    unsealed_fields,
)
from domain.transcodings import StaffelTranscoder
from domain.values import (
    Cefr,
    ContactPerson,
    ErasureGround,
    LegalBasis,
    LegalStatus,
    Person,
    PlacementKind,
    Redacted,
    WageSubsidy,
    as_uuid,
)
from domain.writes import IdempotencyKey, IdempotencyRecord, IdempotencyStore, Recorded

A = TypeVar("A", bound=Aggregate)
# what a caller checks on the case a write reads, before the write goes on (raises to refuse)
Admit = Callable[[Case], None]
ATTEMPTS = 5  # collisions in a row a write of a case with an offer or volunteer retries
# a write that named no version (no If-Match) is re-run on the fresh state after a collision,
# this many times in all, waiting a little longer (jittered) after each (issue 16)
RETRIES = 10
BACKOFF_SECONDS = 0.002  # the first wait's upper bound; doubled per collision, at most 64 ms


class StaffelApplication(Application[UUID]):
    """Cases, employers, offers and volunteers: the application a deployment runs."""

    name = "Staffel"
    SNAPSHOT_INTERVAL = "CASE_SNAPSHOT_INTERVAL"
    HANDOVER_WORKING_DAYS = "HANDOVER_WORKING_DAYS"

    def __init__(
        self,
        env: dict[str, str] | None = None,
        today: Callable[[], date] = policy.today_in_germany,
        index_id: IndexId | None = None,
    ) -> None:
        super().__init__(env)
        self.today = today
        # the keyed id of a canonical BAMF file number (ADR 0010): from ``bootstrap``
        self._index_id = index_id
        interval = int(self.env.get(self.SNAPSHOT_INTERVAL) or 0)
        self.snapshotting_intervals = {Case: interval} if interval else {}  # type: ignore[misc]
        self.handover_working_days = int(self.env.get(self.HANDOVER_WORKING_DAYS) or 5)
        # the per-case data keys: set by ``bootstrap``; None stores personal fields as
        # given (pure tests, stores of earlier versions)
        self.keys: PersonalDataKeys | None = None
        # one writer per case at a time in this process: writers of one case queue here instead
        # of colliding in the store (only other processes' writes can collide)
        self._case_locks: weakref.WeakValueDictionary[UUID, Any] = weakref.WeakValueDictionary()
        self._case_locks_guard = threading.Lock()
        # each case as this process last saved it: a write's first attempt runs on it
        # (``domain/saved_cases.py``); as many as the aggregate cache holds, none without one
        self._saved_cases = SavedCases(self._cache_maxsize() if self.repository.cache else 0)

    def construct_env(self, name: str, env: EnvType | None = None) -> Environment:
        """Only the given settings, never the process environment: the library would otherwise
        read ``STAFFEL_CIPHER_KEY`` and the like as its own prefixed variables."""
        return Environment(name, dict(env or {}))

    def construct_transcoder(self) -> Transcoder:
        return StaffelTranscoder()

    def construct_repository(self) -> StaffelRepository:
        """The library's repository, with ``get_many`` for bulk paths (``domain/bulk_read.py``)."""
        base = super().construct_repository()
        return StaffelRepository(
            event_store=self.events,
            snapshot_store=self.snapshots,
            cache_maxsize=None if base.cache is None else self._cache_maxsize(),
            fastforward=base.fastforward,
            fastforward_skipping=base.fastforward_skipping,
            deepcopy_from_cache=base.deepcopy_from_cache,
        )

    def _cache_maxsize(self) -> int:
        return int(self.env.get(self.AGGREGATE_CACHE_MAXSIZE) or 0)

    @property
    def repository(self) -> StaffelRepository:
        return cast(StaffelRepository, self._repository)

    # -- cases ------------------------------------------------------------------------------

    def register_case(
        self,
        *,
        person: Person,
        bamf_file_number: str | None,
        residence_municipality: str,
        legal_status: LegalStatus,
        office: str | None = None,
        legal_basis: LegalBasis | None = None,
        registered_on: date | None = None,
        idempotency: IdempotencyKey | None = None,
    ) -> Recorded:
        number: str | None = None
        written: list[Aggregate] = []

        def register() -> list[Aggregate]:
            nonlocal number
            number = None if bamf_file_number is None else normalise(bamf_file_number)
            with sealing_with(self.keys):
                case = Case.register(
                    person=person,
                    bamf_file_number=number,
                    residence_municipality=residence_municipality,
                    legal_status=legal_status,
                    office=office,
                    legal_basis=legal_basis,
                    registered_on=registered_on or self.today(),
                )
            written[:] = [case] if number is None else [case, self._index_for(number, case.id)]
            return written

        def taken() -> Exception | None:
            if number is None:
                return None
            case, index = written
            existing: BamfFileNumberIndex = self.repository.get(index.id)
            return DuplicateBamfFileNumberError(number, existing.case_id or case.id)

        # a DuplicateBamfFileNumberError may be this very request, retried concurrently, that
        # got there first
        return self._save(
            register, idempotency, raced=(DuplicateBamfFileNumberError,), collided=taken
        )

    def bamf_index_id(self, canonical: str) -> UUID:
        """The uniqueness index's id for a canonical BAMF file number (a keyed hash)."""
        if self._index_id is None:
            raise IndexKeyMissingError("no key for the BAMF file number index (ADR 0010)")
        return self._index_id(canonical)

    def _index_for(self, bamf_file_number: str, case_id: UUID) -> BamfFileNumberIndex:
        """The number's index pointing at ``case_id``: new, or a released one (its case erased)
        reassigned. Held by another case: refused. A concurrent registration of the same number
        collides with this one on the index's next version when saved. Until ``staffel migrate
        bamf-index`` has moved a case's index to its keyed id, its legacy index still counts."""
        index_id = self.bamf_index_id(bamf_file_number)
        try:
            existing: BamfFileNumberIndex = self.repository.get(index_id)
        except AggregateNotFoundError:
            for stored in padded_forms(bamf_file_number):
                legacy = self._get_index(legacy_id(stored))
                if legacy is not None and legacy.case_id is not None:
                    raise DuplicateBamfFileNumberError(bamf_file_number, legacy.case_id) from None
            return BamfFileNumberIndex.point(index_id, case_id)
        if existing.case_id is not None:
            raise DuplicateBamfFileNumberError(bamf_file_number, existing.case_id)
        existing.reassign(case_id)
        return existing

    def record(
        self,
        case_id: UUID,
        event_type: str,
        fields: dict[str, Any],
        expected_version: int | None = None,
        idempotency: IdempotencyKey | None = None,
        admit: Admit | None = None,
    ) -> Recorded:
        """Record one staff event (``STAFF_COMMANDS``) on a case. ``admit`` sees the case as
        the command reads it, before anything else (the expected version too) and may refuse:
        the caller's access check without a read of the case of its own. A ``PlacementMade`` whose
        ``offer_id`` is a UUID goes through ``place`` and a ``MentorAssigned``/``MentorReleased``
        naming a registered volunteer through ``assign_mentor``/``release_mentor``, so no route
        around the offer's positions or the volunteer's capacity exists. Other references stay
        outside ones."""
        try:
            command = STAFF_COMMANDS[event_type]
        except KeyError:
            raise UnknownEventTypeError(event_type, STAFF_COMMANDS) from None
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
                admit=admit,
            )
        if event_type == "MentorAssigned" and volunteer_id is not None:
            return self.assign_mentor(
                case_id,
                volunteer_id,
                assigned_on=fields["assigned_on"],
                organisation=fields["organisation"],
                expected_version=expected_version,
                idempotency=idempotency,
                admit=admit,
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
                admit=admit,
            )
        return self._command(
            case_id,
            lambda case: command(case, **fields),
            expected_version,
            idempotency,
            admit=admit,
        )

    def offer_handover(
        self,
        case_id: UUID,
        *,
        to_org: str,
        reason: str,
        triggered_by_version: int | None = None,
        expected_version: int | None = None,
        idempotency: IdempotencyKey | None = None,
    ) -> Recorded:
        return self._command(
            case_id,
            lambda case: self.offer_on(
                case, to_org=to_org, reason=reason, triggered_by_version=triggered_by_version
            ),
            expected_version,
            idempotency,
        )

    def offer_on(
        self, case: Case, *, to_org: str, reason: str, triggered_by_version: int | None = None
    ) -> None:
        """The offer on a case already read, not saved: a bulk path (the handover policy)
        saves many such cases at once, each command with its idempotency record."""
        due_on = policy.handover_due_date(self.today(), self.handover_working_days)
        with sealing_with(self.keys):
            case.offer_handover(
                to_org=to_org,
                reason=reason,
                due_on=due_on,
                triggered_by_version=triggered_by_version,
            )

    def prepare_writes(self, case_ids: Sequence[UUID]) -> None:
        """Before a bulk path records on many cases read at once (``get_cases``): what sealing
        their events' personal fields needs (their data keys) read in one go."""
        if self.keys is not None:
            self.keys.prepare(case_ids)

    def find_idempotent_keys(self, keys: Sequence[str]) -> set[str]:
        """Which of these command ids are stored (each answered already)."""
        return cast(IdempotencyStore, self.recorder).find_idempotent_keys(keys)

    def accept_handover(
        self,
        case_id: UUID,
        *,
        version: int,
        digest: str,
        assign: tuple[str | None, str | None] | None = None,
        idempotency: IdempotencyKey | None = None,
    ) -> Recorded:
        today = self.today()
        return self._command(
            case_id,
            lambda case: case.accept_handover(
                version=version, digest=digest, accepted_on=today, assign=assign
            ),
            idempotency=idempotency,
        )

    def reject_handover(
        self, case_id: UUID, *, reason: str, idempotency: IdempotencyKey | None = None
    ) -> Recorded:
        return self._command(
            case_id, lambda case: case.reject_handover(reason=reason), idempotency=idempotency
        )

    def withdraw_handover(
        self, case_id: UUID, *, reason: str, idempotency: IdempotencyKey | None = None
    ) -> Recorded:
        return self._command(
            case_id, lambda case: case.withdraw_handover(reason=reason), idempotency=idempotency
        )

    def erase_personal_data(
        self,
        case_id: UUID,
        *,
        ground: ErasureGround,
        reason: str,
        expected_version: int | None = None,
        idempotency: IdempotencyKey | None = None,
    ) -> Recorded:
        """Record ``PersonalDataErased``, then delete the case's key. Safe to run again after an
        interruption between the two: an erased case whose key is still there loses it now."""
        today = self.today()
        released: list[BamfFileNumberIndex] = []

        def erase(case: Case) -> None:
            index = self._bamf_index_of(case_id)  # read while the key is still there
            case.erase_personal_data(ground=ground, reason=reason, erased_on=today)
            released[:] = []
            if index is not None and index.case_id == case.id:
                index.release()  # in the same save: the number may be registered again
                released.append(index)

        try:
            recorded = self._command(
                case_id, erase, expected_version, idempotency, others=lambda: released
            )
        except CaseErasedError:
            case = self.get_case(case_id)
            if self.keys is None or not self.keys.erase(case_id):
                raise
            return Recorded(case.id, case.version, 0, case.digest)
        if self.keys is not None:
            self.keys.erase(case_id)
        return recorded

    # -- a case with an offer or a volunteer -----------------------------------------------------

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
        admit: Admit | None = None,
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
            case_id,
            lambda: self.get_offer(offer_id),
            command,
            expected_version,
            idempotency,
            admit=admit,
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
        admit: Admit | None = None,
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
            admit=admit,
        )

    def release_mentor(
        self,
        case_id: UUID,
        volunteer_id: UUID,
        *,
        released_on: date | None = None,
        expected_version: int | None = None,
        idempotency: IdempotencyKey | None = None,
        admit: Admit | None = None,
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
            admit=admit,
        )

    # -- employers ----------------------------------------------------------------------------

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
    ) -> Recorded:
        written: list[Employer] = []

        def register() -> list[Aggregate]:
            written[:] = [
                Employer.register(
                    account=account,
                    name=name,
                    sector=sector,
                    locations=locations,
                    contact=contact,
                    caring_org=caring_org,
                    interest=interest,
                )
            ]
            return [*written]

        return self._save(
            register,
            idempotency,
            collided=lambda: DuplicateEmployerError(account, written[0].id),
        )

    def change_employer(
        self, employer_id: UUID, idempotency: IdempotencyKey | None = None, **changes: Any
    ) -> Recorded:
        return self._employer_command(employer_id, lambda e: e.change(**changes), idempotency)

    def deactivate_employer(
        self, employer_id: UUID, *, reason: str, idempotency: IdempotencyKey | None = None
    ) -> Recorded:
        return self._employer_command(
            employer_id, lambda e: e.deactivate(reason=reason), idempotency
        )

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
    ) -> Recorded:
        """Publish an offer (``offer_id``: a given id, e.g. for imports; default: a new one)."""

        def publish() -> list[Aggregate]:
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
            return [offer]

        return self._save(publish, idempotency)

    def pause_offer(
        self, offer_id: UUID, *, reason: str, idempotency: IdempotencyKey | None = None
    ) -> Recorded:
        return self._offer_command(offer_id, lambda o, e: o.pause(e, reason=reason), idempotency)

    def reopen_offer(self, offer_id: UUID, idempotency: IdempotencyKey | None = None) -> Recorded:
        return self._offer_command(offer_id, lambda o, e: o.reopen(e), idempotency)

    def withdraw_offer(
        self, offer_id: UUID, *, reason: str, idempotency: IdempotencyKey | None = None
    ) -> Recorded:
        return self._offer_command(offer_id, lambda o, e: o.withdraw(e, reason=reason), idempotency)

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
    ) -> Recorded:
        written: list[Volunteer] = []

        def register() -> list[Aggregate]:
            written[:] = [
                Volunteer.register(
                    login=login,
                    name=name,
                    languages=languages,
                    municipality=municipality,
                    capacity=capacity,
                )
            ]
            return [*written]

        def taken() -> Exception:
            return DuplicateVolunteerError(written[0].organisation, login, written[0].id)

        return self._save(register, idempotency, collided=taken)

    def change_volunteer(
        self, volunteer_id: UUID, idempotency: IdempotencyKey | None = None, **changes: Any
    ) -> Recorded:
        return self._volunteer_command(volunteer_id, lambda v: v.change(**changes), idempotency)

    def pause_volunteer(
        self, volunteer_id: UUID, *, reason: str, idempotency: IdempotencyKey | None = None
    ) -> Recorded:
        return self._volunteer_command(volunteer_id, lambda v: v.pause(reason=reason), idempotency)

    def resume_volunteer(
        self, volunteer_id: UUID, idempotency: IdempotencyKey | None = None
    ) -> Recorded:
        return self._volunteer_command(volunteer_id, lambda v: v.resume(), idempotency)

    def volunteer_leaves(
        self, volunteer_id: UUID, *, reason: str, idempotency: IdempotencyKey | None = None
    ) -> Recorded:
        return self._volunteer_command(volunteer_id, lambda v: v.leave(reason=reason), idempotency)

    # -- reads for deciding ---------------------------------------------------------------------

    def get_case(self, case_id: UUID, version: int | None = None) -> Case:
        try:
            case: Case = self.repository.get(case_id, version=version)
        except AggregateNotFoundError:
            raise CaseNotFoundError(case_id) from None
        return case

    def get_cases(self, case_ids: Sequence[UUID]) -> list[Case]:
        """``get_case`` for each id, with one read of the store for all of them where it can:
        for bulk paths (the handover policy, imports, a wave of recognitions)."""
        try:
            cases = self.repository.get_many(case_ids)
        except AggregateNotFoundError as e:
            missing = e.args[0] if e.args and isinstance(e.args[0], UUID) else None
            if missing is None:
                raise
            raise CaseNotFoundError(missing) from None
        for case_id, case in zip(case_ids, cases, strict=True):
            if not isinstance(case, Case):
                raise CaseNotFoundError(case_id)
        return cases

    def get_employer(self, employer_id: UUID) -> Employer:
        return self._get(employer_id, Employer, EmployerNotFoundError)

    def get_offer(self, offer_id: UUID) -> Offer:
        return self._get(offer_id, Offer, OfferNotFoundError)

    def get_volunteer(self, volunteer_id: UUID) -> Volunteer:
        return self._get(volunteer_id, Volunteer, VolunteerNotFoundError)

    def _get(self, aggregate_id: UUID, cls: type[A], missing: type[PartnerNotFoundError]) -> A:
        try:
            found: Aggregate = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise missing(aggregate_id) from None
        if not isinstance(found, cls):
            raise missing(aggregate_id)
        return found

    def exists(self, aggregate_id: UUID, cls: type[Aggregate]) -> bool:
        """Whether an aggregate of ``cls`` is stored under ``aggregate_id``."""
        return self._exists(aggregate_id, cls)

    def _exists(self, aggregate_id: UUID, cls: type[Aggregate]) -> bool:
        try:
            return isinstance(self.repository.get(aggregate_id), cls)
        except AggregateNotFoundError:
            return False

    def _bamf_index_of(self, case_id: UUID) -> BamfFileNumberIndex | None:
        """The uniqueness index pointing at the case, if its BAMF file number is readable and
        indexed: the keyed one, or the legacy one of a case not migrated yet."""
        first = list(self.events.get(case_id, lte=1))
        if not first:
            return None
        [registered] = self.keys.open_events(first) if self.keys is not None else first
        number = getattr(registered, "bamf_file_number", None)
        if not isinstance(number, str) or isinstance(number, Redacted):
            return None
        canonical = normalise_or_none(number)
        ids = [legacy_id(number)]
        if canonical is not None and self._index_id is not None:
            ids.insert(0, self.bamf_index_id(canonical))
        for index_id in ids:
            index = self._get_index(index_id)
            if index is not None and index.case_id == case_id:
                return index
        return None

    def _get_index(self, index_id: UUID) -> BamfFileNumberIndex | None:
        try:
            index: BamfFileNumberIndex = self.repository.get(index_id)
        except AggregateNotFoundError:
            return None
        return index

    # -- the one write path -----------------------------------------------------------------------

    def _command(
        self,
        case_id: UUID,
        command: Callable[[Case], None],
        expected_version: int | None = None,
        idempotency: IdempotencyKey | None = None,
        others: Callable[[], Sequence[Aggregate]] = tuple,
        admit: Admit | None = None,
    ) -> Recorded:
        """Run ``command`` on the case and save it with ``others()``, what the command changed
        beside it (read anew by each run). A collision with a concurrent write runs the command
        again on the fresh state (the guards decide anew); with ``expected_version`` (an
        If-Match) that run finds the case moved on and answers ``VersionConflictError``, as does
        a case still colliding after ``RETRIES`` runs."""

        def on(case: Case) -> list[Aggregate]:
            self._admit(case, expected_version, admit)
            with sealing_with(self.keys):
                command(case)
            return [case, *others()]

        def run() -> list[Aggregate]:
            if first:  # on the case as this process saved it last, without a query
                first.clear()
                if (saved := self._saved_cases.copy_of(case_id)) is not None:
                    try:
                        return on(saved)
                    except Exception:  # noqa: S110
                        pass  # refused on what may be stale: the stored state decides
            self._saved_cases.forget(case_id)  # stale, or a retry after a collision
            return on(self.get_case(case_id))

        def stored(aggregates: Sequence[Aggregate]) -> None:
            self._saved_cases.saved(cast(Case, aggregates[0]))

        first = [True]
        with self._writing(case_id):
            return self._save(
                run,
                idempotency,
                collided=lambda: VersionConflictError(case_id, self.get_case(case_id).version),
                attempts=RETRIES,
                stored=stored,
            )

    def _command_with(
        self,
        case_id: UUID,
        load: Callable[[], A],
        command: Callable[[Case, A], None],
        expected_version: int | None,
        idempotency: IdempotencyKey | None,
        admit: Admit | None = None,
    ) -> Recorded:
        """Run ``command`` on the case and one other aggregate and save both at once; a
        collision reads both again and retries (the guards decide anew)."""
        other: list[A] = []

        def run() -> list[Aggregate]:
            case = self._case_at(case_id, expected_version, admit)
            other[:] = [load()]
            with sealing_with(self.keys):
                command(case, other[0])
            # the other first: the case's event is then the write's last position
            return [other[0], case]

        def gave_up() -> Exception:
            return ConcurrentChangeError(type(other[0]).__name__.lower(), other[0].id)

        with self._writing(case_id):
            return self._save(run, idempotency, collided=gave_up, attempts=ATTEMPTS)

    @contextmanager
    def _writing(self, case_id: UUID) -> Iterator[None]:
        """Hold the case's lock in this process while its command runs and saves."""
        with self._case_locks_guard:
            lock = self._case_locks.get(case_id)
            if lock is None:
                lock = self._case_locks[case_id] = threading.RLock()
        with lock:
            yield

    def _case_at(
        self, case_id: UUID, expected_version: int | None, admit: Admit | None = None
    ) -> Case:
        case = self.get_case(case_id)
        self._admit(case, expected_version, admit)
        return case

    @staticmethod
    def _admit(case: Case, expected_version: int | None, admit: Admit | None) -> None:
        if admit is not None:
            admit(case)
        if expected_version is not None and expected_version != case.version:
            raise VersionConflictError(case.id, case.version)

    def _employer_command(
        self,
        employer_id: UUID,
        command: Callable[[Employer], None],
        idempotency: IdempotencyKey | None = None,
    ) -> Recorded:
        def run() -> list[Aggregate]:
            employer = self.get_employer(employer_id)
            command(employer)
            return [employer]

        return self._save(run, idempotency, attempts=RETRIES)

    def _offer_command(
        self,
        offer_id: UUID,
        command: Callable[[Offer, Employer], None],
        idempotency: IdempotencyKey | None = None,
    ) -> Recorded:
        def run() -> list[Aggregate]:
            offer = self.get_offer(offer_id)
            command(offer, self.get_employer(offer.employer_id))
            return [offer]

        return self._save(run, idempotency, attempts=RETRIES)

    def _volunteer_command(
        self,
        volunteer_id: UUID,
        command: Callable[[Volunteer], None],
        idempotency: IdempotencyKey | None = None,
    ) -> Recorded:
        def run() -> list[Aggregate]:
            volunteer = self.get_volunteer(volunteer_id)
            command(volunteer)
            return [volunteer]

        return self._save(run, idempotency, attempts=RETRIES)

    def _save(
        self,
        change: Callable[[], Sequence[Aggregate]],
        idempotency: IdempotencyKey | None = None,
        *,
        collided: Callable[[], Exception | None] = lambda: None,
        attempts: int = 1,
        raced: tuple[type[Exception], ...] = (),
        stored: Callable[[Sequence[Aggregate]], None] | None = None,
    ) -> Recorded:
        """The one place a command is written; every write method ends here.

        1. A request whose Idempotency-Key was answered before gets that answer; nothing runs
           (a key reused for another request: ``IdempotencyKeyReusedError``).
        2. ``change`` reads, runs the command and returns what to save, in order. The write
           answers for the case among them, else for the one record (employer, offer, volunteer).
        3. ``save``: one transaction with the ``IdempotencyRecord`` (that answer, for retries)
           and the keys of new cases; never a personal field in clear.
        4. ``Recorded``: the record's id, version, chain head ("" without a chain) and the
           position of its newest event.

        A collision (``IntegrityError``: the same record or the same key saved concurrently)
        answers with the first request's result if it had this key; else ``change`` runs again
        on the fresh state after a short jittered wait (``backoff``), ``attempts`` times in all,
        then ``collided()`` is raised (None: the ``IntegrityError``). A write that named its
        expected version re-runs too: its ``change`` then finds the record moved on and refuses.
        ``raced``: errors of ``change`` that may as well mean this very request got there first.
        ``stored``: told the aggregates of a save that committed (never those of a replay).

        Every command carries an id, stored with its events: the client's key, else one made
        here (``IdempotencyKey.server_made``). A commit of unknown outcome (the connection lost
        around COMMIT: the library's retry then collides with the write's own rows, an
        ``IntegrityError``, or its retries run out, an ``OperationalError``) is decided by
        looking the id up: stored, the write answers with what was stored (never a conflict);
        not stored, the write failed (a conflict, or the store's error: a 503).

        What a write does around the store belongs here and nowhere else. Below ``save``, on
        PostgreSQL, concurrent writes share transactions (group commit, ADR 0012); a collision
        there reaches this loop like any other.
        """
        if (replayed := self._replayed(idempotency)) is not None:
            return replayed
        command_id = idempotency or IdempotencyKey.server_made()
        for attempt in range(1, attempts + 1):
            try:
                aggregates = change()
            except raced:
                if (replayed := self._replayed(command_id)) is not None:
                    return replayed
                raise
            subject = next((a for a in aggregates if isinstance(a, Case)), aggregates[0])
            digest = subject.digest if isinstance(subject, Case) else ""
            record = IdempotencyRecord(
                command_id.key, command_id.request_hash, subject.id, subject.version, digest
            )
            try:
                recordings = self.save(*aggregates, idempotency=record)
            except (OperationalError, InterfaceError):
                # the store went away around the commit: stored or not, the id tells
                if (replayed := self._replayed(command_id)) is not None:
                    return replayed
                raise
            except IntegrityError:
                if (replayed := self._replayed(command_id)) is not None:
                    return replayed
                if attempt < attempts:
                    backoff(attempt)
                    continue
                if (error := collided()) is None:
                    raise
                raise error from None
            if stored is not None:
                stored(aggregates)
            # the record's own newest event: what a replayed Idempotency-Key answers with too
            # (an index or offer event saved in the same transaction is not part of it)
            position = max(
                r.notification.id for r in recordings if r.domain_event.originator_id == subject.id
            )
            return Recorded(subject.id, subject.version, position, digest)
        raise AssertionError("attempts must be at least 1")

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]:
        """The library's save, with the keys of new cases in the same transaction, and never an
        event whose personal fields are in clear (when this application seals)."""
        if self.keys is None:
            return super().save(*objs, **kwargs)
        cases = [o for o in objs if isinstance(o, Case)]
        for case in cases:
            for event in case.pending_events:
                if clear := unsealed_fields(event):
                    raise UnsealedPersonalDataError(
                        f"{type(event).__name__} of case {case.id} holds {clear} in clear"
                    )
        keys = self.keys.take_new(c.id for c in cases)
        if keys:
            kwargs["case_keys"] = keys
        try:
            recordings = super().save(*objs, **kwargs)
        except BaseException:
            self.keys.saved(keys, stored=False)
            raise
        self.keys.saved(keys, stored=True)
        return recordings

    def _replayed(self, idempotency: IdempotencyKey | None) -> Recorded | None:
        """The first response to a request with this key, or None if there was none."""
        if idempotency is None:
            return None
        found = cast(IdempotencyStore, self.recorder).find_idempotent(idempotency.key)
        if found is None:
            return None
        request_hash, recorded = found
        if request_hash != idempotency.request_hash:
            raise IdempotencyKeyReusedError(idempotency.key)
        return recorded


def backoff(attempt: int) -> None:
    """After the ``attempt``-th collision: wait a random time up to ``BACKOFF_SECONDS`` doubled
    per attempt (at most 64 ms), so that writers of one record stop colliding in step."""
    time.sleep(random.uniform(0, BACKOFF_SECONDS * 2 ** min(attempt - 1, 5)))  # noqa: S311
