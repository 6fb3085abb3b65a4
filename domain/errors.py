"""What the application refuses beside an aggregate's own rules (those sit beside their
aggregates, ``domain/aggregates/*_errors.py``). Only ``api/`` maps them to status codes."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID


class CaseNotFoundError(Exception):
    def __init__(self, case_id: UUID) -> None:
        super().__init__(f"no case {case_id}")
        self.case_id = case_id


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


class UnknownEventTypeError(Exception):
    def __init__(self, event_type: str, known: Iterable[str]) -> None:
        super().__init__(f"'{event_type}' is not an event staff record: {sorted(known)}")
        self.event_type = event_type


class ReferenceMismatchError(Exception):
    """A case event names an offer or volunteer but contradicts it (another kind of post, another
    organisation)."""

    def __init__(self, field: str, expected: str, given: str) -> None:
        super().__init__(f"{field}: '{given}' does not match the referenced record ('{expected}')")
        self.field, self.expected, self.given = field, expected, given


class VersionConflictError(Exception):
    """The case moved on since the writer read it (a stale ``If-Match`` or a concurrent save)."""

    def __init__(self, case_id: UUID, current_version: int) -> None:
        super().__init__(f"case {case_id} changed meanwhile (now at version {current_version})")
        self.case_id, self.current_version = case_id, current_version


class ConcurrentChangeError(Exception):
    """An offer or volunteer written together with a case kept colliding with other writes."""

    def __init__(self, kind: str, partner_id: UUID) -> None:
        super().__init__(f"{kind} {partner_id} kept changing meanwhile: try again")
        self.kind, self.partner_id = kind, partner_id


class IdempotencyKeyReusedError(Exception):
    def __init__(self, key: str) -> None:
        super().__init__("this Idempotency-Key was already used for a different request")
        self.key = key


class IndexKeyMissingError(RuntimeError):
    """The application was built without the BAMF index's key (``bootstrap`` gives it)."""
