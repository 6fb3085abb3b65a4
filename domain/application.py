"""The case application: repository, unit of work and optimistic concurrency in one (the library's
``Application``). Entry points set the actor (``domain.actor.acting_as``) and call these methods."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol, cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError, Recording, Transcoder
from eventsourcing.utils import Environment, EnvType

from domain import policy
from domain.aggregates.bamf_index import BamfFileNumberIndex, normalise
from domain.aggregates.case import STAFF_COMMANDS, Case
from domain.aggregates.case_errors import DuplicateBamfFileNumberError
from domain.transcodings import StaffelTranscoder
from domain.values import LegalBasis, LegalStatus, Person


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
        super().__init__(f"Idempotency-Key '{key}' was already used for a different request")
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


class CaseApplication(Application[UUID]):
    name = "Staffel"
    SNAPSHOT_INTERVAL = "CASE_SNAPSHOT_INTERVAL"
    HANDOVER_WORKING_DAYS = "HANDOVER_WORKING_DAYS"

    def __init__(
        self, env: dict[str, str] | None = None, today: Callable[[], date] = date.today
    ) -> None:
        super().__init__(env)
        self.today = today
        interval = int(self.env.get(self.SNAPSHOT_INTERVAL) or 0)
        self.snapshotting_intervals = {Case: interval} if interval else {}  # type: ignore[misc]
        self.handover_working_days = int(self.env.get(self.HANDOVER_WORKING_DAYS) or 5)

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
        case = Case.register(
            person=person,
            bamf_file_number=bamf_file_number,
            residence_municipality=residence_municipality,
            legal_status=legal_status,
            office=office,
            legal_basis=legal_basis,
            registered_on=registered_on or self.today(),
        )
        index = (
            None
            if bamf_file_number is None
            else BamfFileNumberIndex.point(bamf_file_number, case.id)
        )
        try:
            return self._save(case, index, idempotency=idempotency)
        except IntegrityError:
            if (replayed := self._replayed(idempotency)) is not None:
                return replayed
            if index is None or bamf_file_number is None:
                raise
            existing: BamfFileNumberIndex = self.repository.get(index.id)
            raise DuplicateBamfFileNumberError(bamf_file_number, existing.case_id) from None

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

    # -- reads for deciding ---------------------------------------------------------------------

    def get_case(self, case_id: UUID, version: int | None = None) -> Case:
        try:
            case: Case = self.repository.get(case_id, version=version)
        except AggregateNotFoundError:
            raise CaseNotFoundError(case_id) from None
        return case

    # -- internals --------------------------------------------------------------------------------

    def _command(
        self,
        case_id: UUID,
        command: Callable[[Case], None],
        expected_version: int | None = None,
        idempotency: IdempotencyKey | None = None,
    ) -> Recorded:
        if (replayed := self._replayed(idempotency)) is not None:
            return replayed
        case = self.get_case(case_id)
        if expected_version is not None and expected_version != case.version:
            raise VersionConflictError(case_id, case.version)
        command(case)
        try:
            return self._save(case, idempotency=idempotency)
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
