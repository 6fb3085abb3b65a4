"""The case application: repository, unit of work and optimistic concurrency in one (the library's
``Application``). Entry points set the actor (``domain.actor.acting_as``) and call these methods."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol, cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError, Recording, Transcoder
from eventsourcing.utils import Environment, EnvType

from domain import policy
from domain.aggregates.bamf_index import BamfFileNumberIndex, IndexId, legacy_id, normalise
from domain.aggregates.case import STAFF_COMMANDS, Case
from domain.aggregates.case_errors import CaseErasedError, DuplicateBamfFileNumberError
from domain.bamf_number import normalise_or_none, padded_forms
from domain.sealing import Sealer, UnsealedPersonalDataError, sealing_with, unsealed_fields
from domain.transcodings import StaffelTranscoder
from domain.values import ErasureGround, LegalBasis, LegalStatus, Person, Redacted


@dataclass(frozen=True)
class Recorded:
    """What a write returns: where the case stands and where the write sits in the global log."""

    case_id: UUID
    version: int
    position: int
    digest: str


@dataclass(frozen=True)
class IdempotencyKey:
    """A client's key for one request, and a hash of what the request asked for."""

    key: str
    request_hash: str


@dataclass(frozen=True)
class IdempotencyRecord:
    """Stored with the events a request produced, in the same transaction."""

    key: str
    request_hash: str
    case_id: UUID
    version: int
    digest: str


class IdempotencyStore(Protocol):
    def find_idempotent(self, key: str) -> tuple[str, Recorded] | None: ...


class IdempotencyKeyReusedError(Exception):
    def __init__(self, key: str) -> None:
        super().__init__("this Idempotency-Key was already used for a different request")
        self.key = key


class CaseNotFoundError(Exception):
    def __init__(self, case_id: UUID) -> None:
        super().__init__(f"no case {case_id}")
        self.case_id = case_id


class UnknownEventTypeError(Exception):
    def __init__(self, event_type: str) -> None:
        super().__init__(f"'{event_type}' is not an event staff record: {sorted(STAFF_COMMANDS)}")
        self.event_type = event_type


class VersionConflictError(Exception):
    """The case moved on since the writer read it (a stale ``If-Match`` or a concurrent save)."""

    def __init__(self, case_id: UUID, current_version: int) -> None:
        super().__init__(f"case {case_id} changed meanwhile (now at version {current_version})")
        self.case_id, self.current_version = case_id, current_version


class PersonalDataKeys(Sealer, Protocol):
    """The per-case data keys (an adapter, ADR 0008): seals values while a command runs; keys
    made for new cases are stored in the same transaction as the case's first events."""

    def take_new(self, case_ids: Iterable[UUID]) -> list[tuple[UUID, bytes]]:
        """The keys made for these cases since their last save, wrapped for storage."""
        ...

    def saved(self, keys: list[tuple[UUID, bytes]], *, stored: bool) -> None:
        """Whether the save that carried ``keys`` committed (then they may be cached)."""
        ...

    def erase(self, case_id: UUID) -> bool:
        """Delete the case's key for good (a tombstone stays); False if it was gone already."""
        ...

    def open_events(self, events: Sequence[Any]) -> list[Any]:
        """The events with their sealed values opened (or marked erased)."""
        ...


class IndexKeyMissingError(RuntimeError):
    """The application was built without the BAMF index's key (``bootstrap`` gives it)."""


class CaseApplication(Application[UUID]):
    name = "Staffel"
    SNAPSHOT_INTERVAL = "CASE_SNAPSHOT_INTERVAL"
    HANDOVER_WORKING_DAYS = "HANDOVER_WORKING_DAYS"

    def __init__(
        self,
        env: dict[str, str] | None = None,
        today: Callable[[], date] = date.today,
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

    def construct_env(self, name: str, env: EnvType | None = None) -> Environment:
        """Only the given settings, never the process environment: the library would otherwise
        read ``STAFFEL_CIPHER_KEY`` and the like as its own prefixed variables."""
        return Environment(name, dict(env or {}))

    def construct_transcoder(self) -> Transcoder:
        return StaffelTranscoder()

    # -- writes ---------------------------------------------------------------------------

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
        if (replayed := self._replayed(idempotency)) is not None:
            return replayed
        if bamf_file_number is not None:
            bamf_file_number = normalise(bamf_file_number)
        with sealing_with(self.keys):
            case = Case.register(
                person=person,
                bamf_file_number=bamf_file_number,
                residence_municipality=residence_municipality,
                legal_status=legal_status,
                office=office,
                legal_basis=legal_basis,
                registered_on=registered_on or self.today(),
            )
        try:
            index = None if bamf_file_number is None else self._index_for(bamf_file_number, case.id)
        except DuplicateBamfFileNumberError:
            if (replayed := self._replayed(idempotency)) is not None:
                return replayed  # this very request, retried concurrently, got there first
            raise
        try:
            return self._save(case, index, idempotency=idempotency)
        except IntegrityError:
            if (replayed := self._replayed(idempotency)) is not None:
                return replayed
            if index is None or bamf_file_number is None:
                raise
            existing: BamfFileNumberIndex = self.repository.get(index.id)
            raise DuplicateBamfFileNumberError(
                bamf_file_number, existing.case_id or case.id
            ) from None

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
    ) -> Recorded:
        """Record one staff event (``STAFF_COMMANDS``) on a case."""
        try:
            command = STAFF_COMMANDS[event_type]
        except KeyError:
            raise UnknownEventTypeError(event_type) from None
        return self._command(
            case_id, lambda case: command(case, **fields), expected_version, idempotency
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
        due_on = policy.handover_due_date(self.today(), self.handover_working_days)
        return self._command(
            case_id,
            lambda case: case.offer_handover(
                to_org=to_org,
                reason=reason,
                due_on=due_on,
                triggered_by_version=triggered_by_version,
            ),
            expected_version,
            idempotency,
        )

    def accept_handover(
        self,
        case_id: UUID,
        *,
        version: int,
        digest: str,
        idempotency: IdempotencyKey | None = None,
    ) -> Recorded:
        today = self.today()
        return self._command(
            case_id,
            lambda case: case.accept_handover(version=version, digest=digest, accepted_on=today),
            idempotency=idempotency,
        )

    def reject_handover(
        self, case_id: UUID, *, reason: str, idempotency: IdempotencyKey | None = None
    ) -> Recorded:
        return self._command(
            case_id, lambda case: case.reject_handover(reason=reason), idempotency=idempotency
        )

    def withdraw_handover(self, case_id: UUID, *, reason: str) -> Recorded:
        return self._command(case_id, lambda case: case.withdraw_handover(reason=reason))

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
        index = self._bamf_index_of(case_id)  # read while the key is still there

        def erase(case: Case) -> None:
            case.erase_personal_data(ground=ground, reason=reason, erased_on=today)
            if index is not None and index.case_id == case.id:
                index.release()  # in the same save: the number may be registered again

        try:
            recorded = self._command(
                case_id, erase, expected_version, idempotency, others=(index,) if index else ()
            )
        except CaseErasedError:
            case = self.get_case(case_id)
            if self.keys is None or not self.keys.erase(case_id):
                raise
            return Recorded(case.id, case.version, 0, case.digest)
        if self.keys is not None:
            self.keys.erase(case_id)
        return recorded

    # -- reads for deciding ---------------------------------------------------------------------

    def get_case(self, case_id: UUID, version: int | None = None) -> Case:
        try:
            case: Case = self.repository.get(case_id, version=version)
        except AggregateNotFoundError:
            raise CaseNotFoundError(case_id) from None
        return case

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

    # -- internals --------------------------------------------------------------------------------

    def _command(
        self,
        case_id: UUID,
        command: Callable[[Case], None],
        expected_version: int | None = None,
        idempotency: IdempotencyKey | None = None,
        others: Sequence[Any] = (),
    ) -> Recorded:
        if (replayed := self._replayed(idempotency)) is not None:
            return replayed
        case = self.get_case(case_id)
        if expected_version is not None and expected_version != case.version:
            raise VersionConflictError(case_id, case.version)
        with sealing_with(self.keys):
            command(case)
        try:
            return self._save(case, *others, idempotency=idempotency)
        except IntegrityError:
            if (replayed := self._replayed(idempotency)) is not None:
                return replayed
            raise VersionConflictError(case_id, self.get_case(case_id).version) from None

    def _save(
        self, case: Case, *others: Any, idempotency: IdempotencyKey | None = None
    ) -> Recorded:
        kwargs: dict[str, Any] = {}
        if idempotency is not None:
            kwargs["idempotency"] = IdempotencyRecord(
                idempotency.key, idempotency.request_hash, case.id, case.version, case.digest
            )
        return self._recorded(case, self.save(case, *others, **kwargs))

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

    @staticmethod
    def _recorded(case: Case, recordings: Sequence[Recording[UUID]]) -> Recorded:
        # the case's own newest event: what a replayed Idempotency-Key answers with too (the
        # BAMF index event saved in the same transaction is not part of the case)
        position = max(
            r.notification.id for r in recordings if r.domain_event.originator_id == case.id
        )
        return Recorded(case.id, case.version, position, case.digest)
